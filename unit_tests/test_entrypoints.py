"""``python -m app`` and ``python -m app.healthcheck``: exit codes and messages."""

import gc
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import app
from app import __main__ as entry
from app import healthcheck


def test_main_exits_2_with_one_line_on_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENV", "staging")
    assert entry.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ENV='staging' is not a known environment")
    assert "Traceback" not in err


def test_main_serves_with_the_configured_host_port_and_log_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(entry, "serve", lambda target, options: calls.append(options) or 0)
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert entry.main() == 0
    (kwargs,) = calls
    assert (kwargs["host"], kwargs["port"], kwargs["log_level"]) == ("0.0.0.0", 8123, "warning")
    assert kwargs["log_config"]["loggers"]["app"]["level"] == "WARNING"


def test_main_serves_the_app_module_with_the_documented_server_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(entry, "serve", lambda app, options: calls.append((app, options)) or 0)
    for name in ("PORT", "HOST", "LOG_LEVEL", "ENV"):
        monkeypatch.delenv(name, raising=False)
    assert entry.main() == 0
    ((target, kwargs),) = calls
    assert target == "app.main:app", "the server must load the app built in app/main.py"
    assert kwargs["port"] == 8000, "the default port is 8000 (EXPOSE, manifests, healthcheck)"
    assert kwargs["timeout_graceful_shutdown"] == 8, (
        "SIGTERM drains requests for 8 s; deployment/k8s's grace period is sized on it"
    )
    assert kwargs["proxy_headers"] is False, "X-Forwarded-* must not be trusted by default"
    assert kwargs["server_header"] is False, "the Server header must not name uvicorn"
    assert set(kwargs) == {
        "host", "port", "log_level", "log_config", "proxy_headers", "server_header",
        "timeout_graceful_shutdown",
    }, "uvicorn gets exactly these settings: no workers, reload or access_log"  # fmt: skip
    assert kwargs["log_config"]["loggers"]["app"] == {
        "handlers": ["default"],
        "level": kwargs["log_level"].upper(),
        "propagate": False,
    }, "the app's loggers print through uvicorn's handler once, not again through the root's"


class ServerSeeingTheCollector:
    """Stands in for uvicorn's server: records the collector's state when serving starts."""

    seen: ClassVar[dict[str, object]] = {}

    def __init__(self, config: object) -> None:
        self.started = True
        self.seen["app loaded"] = config.loaded

    def run(self) -> None:
        self.seen["collecting"] = gc.isenabled()
        self.seen["frozen objects"] = gc.get_freeze_count()


def test_serve_builds_the_app_before_the_collector_runs_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(entry.uvicorn, "Server", ServerSeeingTheCollector)
    gc.disable()  # as `python -m app` does from its first line
    try:
        assert entry.serve(entry.APP, {"log_config": None}) == 0
    finally:
        gc.enable()
        gc.unfreeze()
    seen = ServerSeeingTheCollector.seen
    assert seen["app loaded"], "the app must be built while the collector is still off"
    assert seen["collecting"], "the collector must run again once the app is built"
    assert seen["frozen objects"] > 10_000, "start-up's objects must be frozen out of its reach"


def test_healthcheck_gives_up_after_3_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Below HEALTHCHECK --timeout=3s of the Dockerfile would be stricter; above it, the engine
    # would kill the probe before it can say why.
    timeouts: list[float] = []

    def urlopen(url: str, timeout: float) -> object:
        timeouts.append(timeout)
        raise OSError("refused")

    monkeypatch.setattr(healthcheck.urllib.request, "urlopen", urlopen)
    assert healthcheck.main() == 1
    assert timeouts == [3]


class _Handler(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_healthcheck_exits_0_when_health_answers_200(
    monkeypatch: pytest.MonkeyPatch, local_server: HTTPServer
) -> None:
    monkeypatch.setenv("PORT", str(local_server.server_port))
    assert healthcheck.main() == 0


@pytest.mark.parametrize("status", [201, 204, 404, 500, 503])
def test_healthcheck_exits_1_on_any_answer_but_200(
    monkeypatch: pytest.MonkeyPatch, local_server: HTTPServer, status: int
) -> None:
    monkeypatch.setattr(_Handler, "status", status)
    monkeypatch.setenv("PORT", str(local_server.server_port))
    assert healthcheck.main() == 1


def test_healthcheck_exits_1_when_nothing_listens(
    monkeypatch: pytest.MonkeyPatch, local_server: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    port = local_server.server_port
    local_server.shutdown()
    local_server.server_close()
    monkeypatch.setenv("PORT", str(port))
    assert healthcheck.main() == 1
    assert "unhealthy" in capsys.readouterr().err


def test_package_version_matches_pyproject() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert app.__version__ == pyproject["project"]["version"], (
        "bump app/__init__.py __version__ together with pyproject.toml"
    )
