"""What the suite measured, as typed data: each figure once, with the budget it is held to.

Checks record through the session's ``facts`` fixture. Each record also travels as a user
property of the test that made it (``record_property``'s way: in the test's report, so from an
xdist worker to the controller, and in the JUnit XML, ``image-checks:figure:NAME`` and so on);
the process that reports merges them and writes the whole record once, at the end, to
``image-facts.json`` in the reports folder (``--image-reports``), where ``python -m
image_checks.report`` reads it and prints each figure beside its budget.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FACTS_FILE = "image-facts.json"
RELEASE_FACTS_FILE = "release-facts.json"  # of a run of the release checks (--release)
PREFIX = "image-checks:"  # of the user properties that carry a record: figure, detail, row


@dataclass(frozen=True)
class Figure:
    """One measurement: its value, unit and the budget it must stay within (None: no budget)."""

    value: float | int | bool | None
    unit: str = ""
    budget: float | None = None
    detail: str = ""  # what the figure is, in a few words, for the report


@dataclass
class Facts:
    """Figures by name, plus structured details (fault matrix, load, layers, ...) by name."""

    figures: dict[str, Figure] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)
    not_configured: dict[str, list[str]] = field(default_factory=dict)
    not_on_this_engine: dict[str, str] = field(default_factory=dict)  # check -> why not
    pending: list[tuple[str, str]] = field(default_factory=list, repr=False)  # not yet sent

    def figure(
        self,
        name: str,
        value: float | int | bool | None,
        unit: str = "",
        *,
        budget: float | None = None,
        detail: str = "",
    ) -> None:
        """Records the figure ``name``; a figure is measured once, so a second record fails.

        Raises:
            ValueError: ``name`` was already recorded in this session.
        """
        if name in self.figures:
            raise ValueError(f"the figure {name!r} was already recorded: measure it in one place")
        self.figures[name] = Figure(value, unit, budget, detail)
        self.pending.append((f"{PREFIX}figure:{name}", json.dumps(asdict(self.figures[name]))))

    def detail(self, name: str, value: object) -> None:
        """Records structured detail ``name`` (replacing nothing: once, like a figure).

        Raises:
            ValueError: ``name`` was already recorded in this session.
        """
        if name in self.details:
            raise ValueError(f"the detail {name!r} was already recorded: record it in one place")
        self.details[name] = value
        self.pending.append((f"{PREFIX}detail:{name}", json.dumps(value)))

    def append(self, name: str, row: object) -> None:
        """Adds ``row`` to the list kept under ``name`` (rows of a matrix, one per test)."""
        rows = self.details.setdefault(name, [])
        assert isinstance(rows, list), f"{name} is not a list of rows"
        rows.append(row)
        self.pending.append((f"{PREFIX}row:{name}", json.dumps(row)))

    def drain(self) -> list[tuple[str, str]]:
        """The user properties recorded since the last call, to send with a test's report."""
        sent, self.pending = self.pending, []
        return sent

    def receive(self, name: str, value: str) -> None:
        """Records one user property ``drain`` gave (another process's, or this one's).

        Raises:
            ValueError: a figure or detail recorded twice (measured in two places).
        """
        kind, _, key = name.removeprefix(PREFIX).partition(":")
        data = json.loads(value)
        if kind == "figure":
            self.figure(key, **data)
        elif kind == "detail":
            self.detail(key, data)
        elif kind == "row":
            self.append(key, data)
        self.pending.pop()  # what was received is not sent again

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data: ``figures`` (value, unit, budget, detail), ``details``."""
        return {
            "figures": {name: asdict(figure) for name, figure in self.figures.items()},
            "details": self.details,
            "not_configured": self.not_configured,
            "not_on_this_engine": self.not_on_this_engine,
        }

    def to_json(self) -> str:
        """The record as JSON (``to_dict``)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, folder: Path, name: str = FACTS_FILE) -> Path:
        """Writes the record into the reports ``folder`` as ``name``; returns the file's path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def read_facts(path: Path) -> dict[str, Any]:
    """A record ``write`` wrote (figures, details, not configured); empty when there is none."""
    empty: dict[str, Any] = {
        "figures": {}, "details": {}, "not_configured": {}, "not_on_this_engine": {},
    }  # fmt: skip
    return {**empty, **json.loads(path.read_text(encoding="utf-8"))} if path.exists() else empty
