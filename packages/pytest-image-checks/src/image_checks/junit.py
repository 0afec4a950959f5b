"""The test cases of a JUnit XML file that pytest wrote, read one way for every reader.

A report counts them per suite, a mutation check asks which tests went red, a verdict lists
every check with why it failed.
"""

from __future__ import annotations

import builtins
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}


@dataclass(frozen=True)
class Case:
    """One test case: where it is, how it ended and, unless it passed, the first lines of why."""

    classname: str  # image_checks.checks.test_layers
    name: str  # test_x[param]
    outcome: str  # passed, failed, error or skipped
    message: str = ""

    @property
    def suite(self) -> str:
        """The top folder of its module (``unit_tests``); ``image_checks`` or ``release``."""
        if ".image_checks.checks." in f".{self.classname}":
            return "image_checks"
        if ".image_checks.release." in f".{self.classname}":
            return "release"
        return self.classname.split(".")[0]

    @property
    def module(self) -> str:
        """Its module's name (``test_layers``)."""
        return self.classname.rsplit(".", 1)[-1]

    @property
    def test(self) -> str:
        """Its name without parameters."""
        return self.name.split("[")[0]

    @property
    def red(self) -> bool:
        """Whether it failed or errored."""
        return self.outcome in ("failed", "error")

    @property
    def asserted(self) -> bool:
        """Whether a check of it failed, rather than it crashing.

        A check's failure is an assertion, ``pytest.fail`` or a checker's own failure (such as
        schemathesis'); a crash is one of Python's own exceptions (``KeyError``, ``TimeoutError``).
        """
        if self.outcome != "failed":
            return False
        first = self.message.split(":", 1)[0].strip()
        builtin = getattr(builtins, first, None)
        crashed = isinstance(builtin, type) and issubclass(builtin, BaseException)
        return not crashed or builtin is AssertionError

    @property
    def why(self) -> str:
        """The first line of its message."""
        return self.message.split("\n", 1)[0]


def cases(path: Path) -> list[Case]:
    """Every test case of ``path`` (none when pytest wrote no file)."""
    if not path.exists():
        return []
    found = []
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - our own pytest's
        outcome, message = "passed", ""
        for tag, name in OUTCOMES.items():
            if (element := case.find(tag)) is not None:
                outcome = name
                lines = (element.get("message") or element.text or "").strip().splitlines()
                message = "\n".join(lines[:12])
                break
        found.append(Case(case.get("classname", ""), case.get("name", ""), outcome, message))
    return found


def suite_names(path: Path) -> list[str]:
    """The names of the test suites of ``path`` (``junit_suite_name``; none without a file)."""
    if not path.exists():
        return []
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's
    return [suite.get("name", "") for suite in root.iter("testsuite")]
