"""Session-wide pytest settings: coverage's 90 % gate applies where it means something.

``fail_under`` in ``[tool.coverage.report]`` is enforced only when the whole unit suite ran
(``pytest``, ``pytest unit_tests``, ``-m`` or ``-k`` selections that keep every unit test). A
single file, a ``-k`` subset or ``pytest container_tests`` cannot cover ``app/``, so for them the
gate is off; a run without any unit test reports no coverage at all. Under pytest-xdist the
workers collect and decide, and the controller, which reports coverage, follows what they say.
"""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT_SUITE = Path(__file__).parent / "unit_tests"
UNIT_DESELECTED = pytest.StashKey[bool]()


def _in_unit_suite(item: pytest.Item) -> bool:
    return Path(item.path).is_relative_to(UNIT_SUITE)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remembers that a ``-k``/``-m`` selection left out part of the unit suite."""
    for item in items:
        if _in_unit_suite(item):
            item.config.stash[UNIT_DESELECTED] = True


def _whole_unit_suite_collected(config: pytest.Config) -> bool:
    """True when the command line named the unit suite (or a folder holding it) as a whole."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if "::" not in arg and path.is_dir() and UNIT_SUITE.is_relative_to(path):
            return True
    return False


def _scope(session: pytest.Session) -> str:
    """``none`` (no unit test), ``partial`` (a part of the unit suite) or ``whole``."""
    if not any(_in_unit_suite(item) for item in session.items):
        return "none"
    if session.config.stash.get(UNIT_DESELECTED, False):
        return "partial"
    return "whole" if _whole_unit_suite_collected(session.config) else "partial"


def _apply(coverage: object, scope: str) -> None:
    """Switches coverage's gate off for a partial run, and its report for a run without units.

    pytest-cov has no public switch for either after start-up.
    """
    if scope == "none":
        coverage.options.cov_report = {}  # type: ignore[attr-defined]
    if scope != "whole":
        coverage.options.cov_fail_under = None  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Switches coverage's gate off (or coverage altogether) for partial runs."""
    coverage = session.config.pluginmanager.get_plugin("_cov")
    if coverage is None or getattr(coverage, "options", None) is None:
        return
    scope = _scope(session)
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller reports
        session.config.workeroutput["coverage_scope"] = scope  # type: ignore[attr-defined]
    if scope == "none":  # nothing here runs app/ in-process: no coverage, no "no data" warning
        _disable(coverage)
    _apply(coverage, scope)


def _disable(coverage: object) -> None:
    """What --no-cov does, after start-up."""
    if coverage.cov_controller is not None:  # type: ignore[attr-defined]
        coverage.cov_controller.cov.stop()  # type: ignore[attr-defined]
    coverage._disabled = True  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """The controller takes the coverage scope its workers decided.

    This runs before pytest-cov's own hook, which was registered earlier.
    """
    coverage = node.config.pluginmanager.get_plugin("_cov")  # type: ignore[attr-defined]
    scope = getattr(node, "workeroutput", {}).get("coverage_scope")
    if scope and coverage is not None and getattr(coverage, "options", None) is not None:
        if scope == "none":  # the workers measured nothing and sent nothing
            coverage._disabled = True
        _apply(coverage, scope)
