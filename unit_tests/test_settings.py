"""Settings resolution: profiles per ENV, environment overrides, clear errors."""

import httpx
import pytest

from app.providers.met import build_http_client
from app.settings import Settings, SettingsError, get_settings, load_settings

PUBLIC_API = "https://collectionapi.metmuseum.org"
DUMMY_API = "https://collectionapi-dummy.metmuseum.org"


def test_default_environment_is_dev_with_the_dummy_upstream() -> None:
    settings = load_settings()
    assert settings.env == "dev"
    assert settings.met_api_base == DUMMY_API
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("env", "url", "log_level"),
    [("dev", DUMMY_API, "debug"), ("qa", DUMMY_API, "info"), ("prod", PUBLIC_API, "info")],
)
def test_env_selects_its_profile(
    monkeypatch: pytest.MonkeyPatch, env: str, url: str, log_level: str
) -> None:
    monkeypatch.setenv("ENV", env)
    settings = load_settings()
    assert (settings.env, settings.met_api_base, settings.log_level) == (env, url, log_level)


def test_environment_variables_win_over_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("MET_API_URL", "http://stand-in:8080/")
    monkeypatch.setenv("UPSTREAM_TIMEOUT", "1.5")
    monkeypatch.setenv("UPSTREAM_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    settings = load_settings()
    assert settings.met_api_base == "http://stand-in:8080"
    assert (settings.upstream_timeout, settings.upstream_connect_timeout) == (1.5, 0.5)
    assert (settings.port, settings.log_level) == (9000, "warning")


def test_constructor_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("PORT", "9000")
    settings = load_settings(env="qa", port=8001)
    assert (settings.env, settings.port) == ("qa", 8001)


def test_unknown_keys_in_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOT_A_SETTING", "x")
    assert load_settings().env == "dev"


@pytest.mark.parametrize("env", ["staging", "PROD", ""])
def test_unknown_env_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("ENV", env)
    with pytest.raises(SettingsError, match=r"is not a known environment; choose one of dev, qa"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PORT", "eighty", "PORT"),
        ("PORT", "70000", "PORT"),
        ("UPSTREAM_TIMEOUT", "0", "UPSTREAM_TIMEOUT"),
        ("MET_API_URL", "not a url", "MET_API_URL"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL"),
    ],
)
def test_invalid_values_fail_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"invalid settings: {fragment}"):
        load_settings()


def test_get_settings_resolves_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("PORT", "9999")
    assert get_settings() is first


def test_http_client_uses_the_configured_timeouts_and_base_url() -> None:
    settings = Settings(met_api_url="http://up:81", upstream_timeout=4, upstream_connect_timeout=1)
    client = build_http_client(settings)
    assert client.timeout == httpx.Timeout(4, connect=1)
    assert str(client.base_url) == "http://up:81"


def test_upstream_timeouts_default_to_10_and_3_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("UPSTREAM_TIMEOUT", "UPSTREAM_CONNECT_TIMEOUT", "ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.upstream_timeout, settings.upstream_connect_timeout) == (10.0, 3.0)


@pytest.mark.parametrize(
    ("name", "highest"), [("UPSTREAM_TIMEOUT", 120), ("UPSTREAM_CONNECT_TIMEOUT", 60)]
)
def test_timeouts_are_bounded(monkeypatch: pytest.MonkeyPatch, name: str, highest: int) -> None:
    monkeypatch.setenv(name, str(highest))
    assert getattr(load_settings(), name.lower()) == highest
    for refused in ("0", "-1", str(highest + 0.5)):
        monkeypatch.setenv(name, refused)
        with pytest.raises(SettingsError, match=f"invalid settings: {name}"):
            load_settings()


def test_variable_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("upstream_timeout", "7.5")
    monkeypatch.setenv("Log_Level", "warning")
    settings = load_settings()
    assert (settings.upstream_timeout, settings.log_level) == (7.5, "warning")
