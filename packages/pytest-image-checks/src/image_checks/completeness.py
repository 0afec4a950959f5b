"""``--require-complete``: a session in which any test did not run is a failed session.

A gate that passes with a test skipped, xfailed, xpassed or deselected, or with no test run at
all, has verified less than it says. With the option (or ``IMAGE_CHECKS_REQUIRE_COMPLETE=1``)
the session fails and the terminal summary names each test that did not run and why; checks
of a section the table leaves out count too (they are deselected), so a complete gate
configures every section. Under xdist the controller judges: it sees every test's report, and
each worker sends the number of tests its collection deselected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

OPTION = "require_complete"


@dataclass(eq=False)  # a plugin: pluggy keeps plugins in sets
class Completeness:
    """What a session ran, and what it did not."""

    ran: int = 0
    deselected: int = 0
    not_run: list[str] = field(default_factory=list)  # "nodeid: why"

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Counts tests set aside at collection (``-m``, ``-k``, sections not configured)."""
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Counts a test that ran, and names one skipped, xfailed or xpassed."""
        if report.when == "setup" and report.skipped:
            self.not_run.append(f"{report.nodeid}: skipped ({_reason(report)})")
        elif report.when == "call":
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
                self.not_run.append(f"{report.nodeid}: {outcome} ({report.wasxfail or 'xfail'})")
            elif report.skipped:
                self.not_run.append(f"{report.nodeid}: skipped ({_reason(report)})")
            else:
                self.ran += 1

    def problems(self) -> list[str]:
        """Why the session is not complete (empty when it is)."""
        problems = list(self.not_run)
        if self.deselected:
            problems.append(f"{self.deselected} tests deselected")
        if not self.ran:
            problems.append("no test ran")
        return problems


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
