"""The audit's verdict comes from each package's result, never from pip-audit's summary line:
"no known vulnerabilities" only when every package was audited."""

import pytest

from deployment.audit import exit_code, verdict


def _skipped(name: str) -> dict:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI: {name}"}


def test_nothing_audited_is_said_so_not_called_clean() -> None:
    found = verdict({"dependencies": [_skipped("fastapi"), _skipped("httpx")], "fixes": []})
    assert found["verdict"] == "not audited: no advisory service reachable"
    assert found["audited"] == 0


def test_every_package_audited_and_clean() -> None:
    result = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}]}
    assert verdict(result)["verdict"] == "audited: 1 packages, no known vulnerabilities"


def test_some_packages_skipped_is_partly_audited_and_names_them() -> None:
    result = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}, _skipped("x")]}
    found = verdict(result)
    assert found["verdict"] == "partly audited: 1 of 2 packages could not be"
    assert found["skipped"] == ["x"]


def test_a_known_vulnerability_is_named_with_its_fix() -> None:
    vuln = {"id": "GHSA-1234", "fix_versions": ["1.2.3"], "description": "bad"}
    result = {"dependencies": [{"name": "h11", "version": "0.1", "vulns": [vuln]}]}
    found = verdict(result)
    assert found["verdict"] == "vulnerable: 1 known vulnerabilities"
    assert found["vulnerabilities"] == ["h11 0.1: GHSA-1234 (fixed in 1.2.3)"]


@pytest.mark.parametrize("require", [False, True])
def test_an_empty_export_fails_with_or_without_require(require: bool) -> None:
    found = verdict({"dependencies": [], "fixes": []})
    assert found["verdict"] == "nothing audited: the export lists no runtime package"
    assert exit_code(found, require=require) == 1


def test_unreachable_advisories_fail_only_when_required() -> None:
    found = verdict({"dependencies": [_skipped("fastapi")], "fixes": []})
    assert (exit_code(found, require=False), exit_code(found, require=True)) == (0, 1)
    clean = verdict({"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}]})
    assert exit_code(clean, require=True) == 0
