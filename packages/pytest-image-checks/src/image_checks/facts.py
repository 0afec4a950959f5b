"""What the suite measured, as typed data: each figure once, with the budget it is held to.

Checks record through the session's ``facts`` fixture; the session writes the whole record
once, at its end, to ``image-facts.json`` in the reports folder (``--image-reports``), where
``python -m image_checks.report`` reads it and prints each figure beside its budget.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FACTS_FILE = "image-facts.json"


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

    def detail(self, name: str, value: object) -> None:
        """Records structured detail ``name`` (replacing nothing: once, like a figure).

        Raises:
            ValueError: ``name`` was already recorded in this session.
        """
        if name in self.details:
            raise ValueError(f"the detail {name!r} was already recorded: record it in one place")
        self.details[name] = value

    def append(self, name: str, row: object) -> None:
        """Adds ``row`` to the list kept under ``name`` (rows of a matrix, one per test)."""
        rows = self.details.setdefault(name, [])
        assert isinstance(rows, list), f"{name} is not a list of rows"
        rows.append(row)

    def merge(self, other: dict[str, Any]) -> None:
        """Adds a record another process wrote (``to_dict``): an xdist worker's.

        Raises:
            ValueError: a figure or detail both records hold (measured twice).
        """
        for name, figure in other.get("figures", {}).items():
            self.figure(name, **figure)
        for name, value in other.get("details", {}).items():
            if isinstance(value, list) and isinstance(self.details.get(name), list):
                self.details[name].extend(value)  # type: ignore[attr-defined]
            else:
                self.detail(name, value)
        for section, nodeids in other.get("not_configured", {}).items():
            known = self.not_configured.setdefault(section, [])
            known.extend(n for n in nodeids if n not in known)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data: ``figures`` (value, unit, budget, detail), ``details``."""
        return {
            "figures": {name: asdict(figure) for name, figure in self.figures.items()},
            "details": self.details,
            "not_configured": self.not_configured,
        }

    def to_json(self) -> str:
        """The record as JSON (``to_dict``)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, folder: Path) -> Path:
        """Writes the record into the reports ``folder``; returns the file's path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FACTS_FILE
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def read_facts(path: Path) -> dict[str, Any]:
    """A record ``write`` wrote (figures, details, not configured); empty when there is none."""
    empty: dict[str, Any] = {"figures": {}, "details": {}, "not_configured": {}}
    return {**empty, **json.loads(path.read_text(encoding="utf-8"))} if path.exists() else empty
