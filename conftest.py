"""Session-wide pytest settings: coverage's 90 % gate applies where it means something.

``fail_under`` in ``[tool.coverage.report]`` is enforced only when the whole unit suite ran
(``pytest``, ``pytest unit_tests``, ``-m`` or ``-k`` selections that keep every unit test). A
single file, a ``-k`` subset or ``pytest container_tests`` cannot cover ``app/``, so for them the
gate is off; a run without any unit test reports no coverage at all.
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


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Switches coverage's gate off (or coverage altogether) for partial runs."""
    coverage = session.config.pluginmanager.get_plugin("_cov")
    if coverage is None or getattr(coverage, "options", None) is None:
        return
    unit_items = [item for item in session.items if _in_unit_suite(item)]
    if not unit_items:  # nothing here runs app/ in-process: no coverage, no "no data" warning
        if coverage.cov_controller is not None:
            coverage.cov_controller.cov.stop()
        coverage._disabled = True  # what --no-cov sets; pytest-cov has no public switch
    elif session.config.stash.get(UNIT_DESELECTED, False) or not _whole_unit_suite_collected(
        session.config
    ):
        coverage.options.cov_fail_under = None
