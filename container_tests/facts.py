"""What the suite measured (start-up, fault matrix, fuzzing, load, layers), for the gate.

Tests add to ``FACTS``; the session writes it to ``$CONTAINER_FACTS`` as JSON at the end, and
``deployment/summary.py`` reports it.
"""

import os
from pathlib import Path

FACTS: dict[str, object] = {}


def report_path(name: str) -> Path:
    """Where a report file called ``name`` goes: beside ``$CONTAINER_FACTS`` (the gate's
    reports), else ``reports/`` of the checkout."""
    facts = os.environ.get("CONTAINER_FACTS")
    folder = Path(facts).parent if facts else Path(__file__).resolve().parents[1] / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
