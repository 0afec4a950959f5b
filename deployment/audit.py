"""Audits the locked runtime dependencies for known vulnerabilities, and says honestly how far.

``pip-audit`` reads the runtime dependencies exported from ``uv.lock`` (no dev groups) and asks
its advisory service (PyPI) about each. Without that service it prints "No known
vulnerabilities found" while it skipped every package; here the verdict comes from each
package's result instead:

- ``audited``: every package audited, none with a known vulnerability (exit 0);
- ``vulnerable``: a known vulnerability, named with its fix (exit 1);
- ``partly audited``: some packages could not be audited, named (exit 1);
- ``nothing audited``: the export lists no package at all: a broken export (exit 1);
- ``not audited``: no package could be audited, the advisory service is unreachable (exit 0,
  or 1 with ``--require``, as in CI with network).

The verdict and the details go to ``reports/audit.json``.
Usage: ``uv run python deployment/audit.py [--require] [--out reports/audit.json]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """Reads pip-audit's JSON result into the verdict and its details."""
    dependencies = result["dependencies"]
    skipped = [d["name"] for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {fixed})"
        for d in audited
        for v in d.get("vulns", [])
        for fixed in [", ".join(v.get("fix_versions") or ["?"])]
    ]
    if not dependencies:
        line = "nothing audited: the export lists no runtime package"
    elif vulnerable:
        line = f"vulnerable: {len(vulnerable)} known vulnerabilities"
    elif dependencies and len(skipped) == len(dependencies):
        line = "not audited: no advisory service reachable"
    elif skipped:
        line = f"partly audited: {len(skipped)} of {len(dependencies)} packages could not be"
    else:
        line = f"audited: {len(audited)} packages, no known vulnerabilities"
    return {
        "verdict": line,
        "packages": len(dependencies),
        "audited": len(audited),
        "skipped": skipped,
        "vulnerabilities": vulnerable,
    }


def main() -> int:
    """Exports, audits, writes the verdict; the exit code follows the rules above."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require", action="store_true", help="fail when nothing was audited")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "audit.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        requirements, result = Path(tmp) / "requirements.txt", Path(tmp) / "audit.json"
        subprocess.run(
            ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes",
             "--format", "requirements.txt", "--output-file", str(requirements), "--quiet"],
            cwd=ROOT, check=True,
        )  # fmt: skip
        run = subprocess.run(
            ["pip-audit", "--disable-pip", "--no-deps", "--progress-spinner", "off",
             "-r", str(requirements), "-f", "json", "-o", str(result)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not result.exists():
            print(f"[audit] pip-audit failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
            return 1
        found = verdict(json.loads(result.read_text(encoding="utf-8")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    print(f"[audit] {found['verdict']}")
    for line in found["vulnerabilities"]:
        print(f"[audit]   {line}")
    return exit_code(found, require=args.require)


def exit_code(found: dict[str, Any], require: bool) -> int:
    """The audit's exit code for its verdict (the rules of this module's docstring)."""
    line = found["verdict"]
    if line.startswith(("vulnerable", "partly", "nothing audited")):
        return 1
    if line.startswith("not audited"):
        return 1 if require else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
