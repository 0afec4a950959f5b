"""Proves the image-verification suite can fail, one deliberate break at a time.

The breaks are data, in ``deployment/mutations.toml``: rushed changes to the Dockerfile, the
``.dockerignore``, the app, the table (``[tool.image-checks]``) and what ships beside the image, each naming
the container tests that must go red. Each is applied to a fresh clone of HEAD in a temporary
folder (the checkout is never touched): text is matched ignoring how it is laid out, TOML keys
and YAML paths are set structurally, so reformatting a file does not break its breaks.

First an unmutated control run of the same tests must be green (otherwise a "caught" would mean
nothing). Then, per break, the container test modules holding its tests run in the clone, and
the verdict is read from their JUnit XML:

- ``caught``: every test named for the break failed;
- ``caught by the build``: the image did not build, so no test could run (reported apart);
- ``MISSED``: a test named for the break passed.

Results go to ``reports/mutation-check.json``; a run of every break also writes
``docs/mutation-report.md``. Usage: ``uv run python deployment/mutation_check.py [NAME ...]`` (substrings of break
names; all breaks by default). Exit code 1 when a break was missed, 2 when the control run failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from image_checks import junit  # noqa: E402

BREAKS_FILE = ROOT / "deployment" / "mutations.toml"
# Where the container tests are: this service's, and the generic checks of pytest-image-checks.
TEST_FOLDERS = ("container_tests", "packages/pytest-image-checks/src/image_checks/checks")
RESULTS = ROOT / "reports" / "mutation-check.json"
REPORT = ROOT / "docs" / "mutation-report.md"
BUILD_FAILED = "building the image failed"


@dataclass(frozen=True)
class Break:
    """One rushed change, and the container tests that must catch it."""

    name: str
    catch: tuple[str, ...]
    text: tuple[dict[str, str], ...] = ()
    toml: dict[str, Any] | None = None
    yaml: dict[str, Any] | None = None


def load_breaks(path: Path = BREAKS_FILE) -> list[Break]:
    """Reads the breaks; an unknown key or a break without a change fails with its name."""
    breaks = []
    for entry in tomllib.loads(path.read_text(encoding="utf-8"))["break"]:
        unknown = set(entry) - {"name", "catch", "text", "toml", "yaml"}
        if unknown or not entry.get("catch") or not {"text", "toml", "yaml"} & set(entry):
            raise ValueError(f"{path.name}: break {entry.get('name')!r} is malformed ({entry})")
        breaks.append(
            Break(
                name=entry["name"],
                catch=tuple(entry["catch"]),
                text=tuple(entry.get("text", ())),
                toml=entry.get("toml"),
                yaml=entry.get("yaml"),
            )
        )
    return breaks


def loose(old: str) -> re.Pattern[str]:
    """``old`` as a pattern that ignores how white space and line continuations are laid out."""
    separator = r"(?:\s|\\\n)+"
    return re.compile(separator.join(re.escape(token) for token in old.split()))


def apply(brk: Break, tree: Path) -> None:
    """Applies ``brk`` to the files under ``tree``.

    Raises:
        ValueError: a text to replace is not found exactly once, or a key or path is missing.
    """
    for edit in brk.text:
        target = tree / edit["file"]
        content = target.read_text(encoding="utf-8")
        matches = list(loose(edit["old"]).finditer(content))
        if len(matches) != 1:
            raise ValueError(
                f"break {brk.name!r}: {edit['old']!r} found {len(matches)} times in {edit['file']}"
            )
        # The match runs from the first to the last token of `old`, so `new` goes in without
        # its own surrounding white space: the indentation around the match stays as it was.
        start, end = matches[0].span()
        target.write_text(content[:start] + edit["new"].strip() + content[end:], encoding="utf-8")
    if brk.toml:
        target = tree / brk.toml["file"]
        document = tomlkit.parse(target.read_text(encoding="utf-8"))
        *parents, last = brk.toml["key"].split(".")
        table: Any = document
        for part in parents:
            table = table[part]
        if last not in table:
            raise ValueError(f"break {brk.name!r}: no key {brk.toml['key']} in {target.name}")
        table[last] = brk.toml["value"]
        target.write_text(tomlkit.dumps(document), encoding="utf-8")
    if brk.yaml:
        target = tree / brk.yaml["file"]
        documents = [d for d in yaml.safe_load_all(target.read_text(encoding="utf-8")) if d]
        kind = brk.yaml.get("kind")
        chosen = [d for d in documents if kind is None or d.get("kind") == kind]
        if len(chosen) != 1:
            raise ValueError(f"break {brk.name!r}: {len(chosen)} documents match in {target.name}")
        *parents, last = brk.yaml["path"].split(".")
        node: Any = chosen[0]
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = brk.yaml["value"]
        target.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def modules_defining(names: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """The container test modules that define the tests ``names``, relative to ``root``."""
    modules = set()
    for name in names:
        found = [
            path
            for folder in TEST_FOLDERS
            for path in sorted((root / folder).rglob("test_*.py"))
            if re.search(rf"^def {name}\(", path.read_text(encoding="utf-8"), re.MULTILINE)
        ]
        if not found:
            raise ValueError(f"no container test is called {name}")
        modules.update(str(path.relative_to(root)) for path in found)
    return sorted(modules)


def failed_tests(report: Path) -> set[str]:
    """Names (without parameters) of the tests that failed or errored in a JUnit XML file."""
    return {case.test for case in junit.cases(report) if case.red}


@dataclass
class Outcome:
    """What one run of the tests in a clone showed."""

    verdict: str
    failed: set[str] = field(default_factory=set)
    seconds: float = 0.0
    last_line: str = ""


def run_in_clone(workdir: Path, modules: list[str], brk: Break | None) -> Outcome:
    """Clones HEAD, applies ``brk`` (None: the control run) and runs ``modules`` there."""
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    if brk is not None:
        apply(brk, clone)
        identity = ["-c", "user.name=mutation", "-c", "user.email=mutation@localhost"]
        subprocess.run(
            ["git", "-C", str(clone), *identity, "commit", "-qam", f"break: {brk.name}"],
            check=True,
        )
    junit = workdir / "junit.xml"
    started = time.perf_counter()
    run = subprocess.run(
        ["uv", "run", "--frozen", "--quiet", "pytest", *modules, "-q", "-p", "no:cacheprovider",
         f"--junitxml={junit}"],
        cwd=clone, capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    outcome = Outcome("", failed_tests(junit), time.perf_counter() - started)
    outcome.last_line = (output.strip().splitlines() or [""])[-1][:160]
    if brk is None:
        outcome.verdict = "green" if run.returncode == 0 else "red"
    elif BUILD_FAILED in output:
        outcome.verdict = "caught by the build"
    else:
        outcome.verdict = "caught" if set(brk.catch) <= outcome.failed else "MISSED"
    return outcome


def write_report(results: dict[str, Any]) -> None:
    """Writes docs/mutation-report.md: every break of a full run, and its verdict."""
    counts = results["counts"]
    rows = "\n".join(
        f"| {r['name']} | {r['verdict']} | {', '.join(r['catch'])} | {r['seconds']:.0f} s |"
        for r in results["breaks"]
    )
    REPORT.write_text(
        "# Mutation check: every break and the tests it turned red\n\n"
        "Written by `uv run python deployment/mutation_check.py` (every break; see "
        "docs/checks.md).\n\n"
        f"Last full run: {results['date']}, commit {results['commit']}, base "
        f"flavour {results['base_flavour']}: control run green; {counts['caught']} of "
        f"{counts['total']} breaks caught by the tests named for them, "
        f"{counts['caught by the build']} by the build, {counts['MISSED']} missed "
        f"({results['minutes']:.0f} min).\n\n"
        f"| Break | Verdict | Must go red | Time |\n| --- | --- | --- | ---: |\n{rows}\n",
        encoding="utf-8",
    )


def main() -> int:
    """Runs the control run and the chosen breaks; prints which tests caught each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="substrings of break names to run")
    args = parser.parse_args()
    breaks = load_breaks()
    chosen = [b for b in breaks if not args.names or any(n in b.name for n in args.names)]
    if not chosen:
        print(f"no break matches {args.names}; see {BREAKS_FILE.relative_to(ROOT)}")
        return 2
    started = time.perf_counter()
    modules = sorted({m for brk in chosen for m in modules_defining(brk.catch)})
    print(f"[mutation] control run: {len(modules)} modules on the unbroken HEAD", flush=True)
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        control = run_in_clone(Path(tmp), modules, None)
    print(f"[mutation] control run: {control.verdict} ({control.seconds:.0f} s)", flush=True)
    if control.verdict != "green":
        print(f"the suite is red without any break: {sorted(control.failed)}; fix that first")
        return 2
    rows = []
    for number, brk in enumerate(chosen, 1):
        with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
            outcome = run_in_clone(Path(tmp), modules_defining(brk.catch), brk)
        rows.append(
            {"name": brk.name, "catch": list(brk.catch), "verdict": outcome.verdict,
             "went_red": sorted(outcome.failed), "seconds": round(outcome.seconds, 1)}
        )  # fmt: skip
        print(
            f"[{number}/{len(chosen)}] {outcome.verdict:6}  {brk.name}  ({outcome.seconds:.0f} s)"
        )
        print(f"          must go red: {', '.join(brk.catch)}")
        print(f"          went red:    {', '.join(sorted(outcome.failed)) or 'nothing'}")
        print(f"          suite said:  {outcome.last_line}", flush=True)
    verdicts = [row["verdict"] for row in rows]
    counts = {v: verdicts.count(v) for v in ("caught", "caught by the build", "MISSED")}
    counts["total"] = len(rows)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    results = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "base_flavour": os.environ.get("BASE_FLAVOUR", "auto"),
        "minutes": (time.perf_counter() - started) / 60,
        "counts": counts,
        "breaks": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.names:
        write_report(results)
    print(
        f"\n{counts['caught']} of {counts['total']} breaks caught by their tests, "
        f"{counts['caught by the build']} by the build, {counts['MISSED']} missed; "
        f"{RESULTS.relative_to(ROOT)}"
    )
    return 1 if counts["MISSED"] else 0


if __name__ == "__main__":
    sys.exit(main())
