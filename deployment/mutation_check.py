"""Proves the image-verification suite can fail, one deliberate break at a time.

The breaks are data, in ``deployment/mutations.toml``: rushed changes to the Dockerfile, the
``.dockerignore``, the app, the table (``[tool.image-checks]``) and what ships beside the image, each naming
the container tests that must go red. Each is applied to a fresh clone of HEAD in a temporary
folder (the checkout is never touched): text is matched ignoring how it is laid out, TOML keys
and YAML paths are set structurally, so reformatting a file does not break its breaks.

First an unmutated control run of the same tests must be green (otherwise a "caught" would mean
nothing). Then, per break, the test modules holding its tests run in the clone, and the verdict
is read from their JUnit XML. A test named for a break is the one of that name in the one module
that defines it (a name defined twice is an error of the table):

- ``caught``: a check of every test named for the break failed (an assertion, ``pytest.fail``,
  a checker's own failure: ``junit.Case.asserted``);
- ``caught by the build``: the image did not build, so no test could run (reported apart);
- ``error``: a named test errored (a fixture failed) or crashed on another exception, and none
  passed: the break did something, but no check said what (reported apart, not a catch);
- ``MISSED``: a test named for the break passed, or did not run.

Results go to ``reports/mutation-check.json``; a run of every break also writes
``docs/mutation-report.md``. Usage: ``uv run python deployment/mutation_check.py [NAME ...]``
(substrings of break names; all breaks by default) or ``--sample N``: N breaks, chosen by the
commit count of HEAD so that consecutive commits run consecutive slices and every break runs
once in ``ceil(breaks / N)`` commits (CI runs ``--sample 4``). Exit code 1 when a break was
missed or errored, 2 when the control run failed.
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
# The container tests (this service's, the generic checks of pytest-image-checks): each must be
# named by a break. A break may also name a unit test that pins the table's policy.
CONTAINER_FOLDERS = ("container_tests", "packages/pytest-image-checks/src/image_checks/checks")
TEST_FOLDERS = (*CONTAINER_FOLDERS, "unit_tests")
VERDICTS = ("caught", "caught by the build", "error", "MISSED")
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


def defining_module(name: str, root: Path = ROOT) -> str:
    """The one test module that defines the test ``name``, relative to ``root``.

    Raises:
        ValueError: no module, or more than one, defines it.
    """
    found = [
        str(path.relative_to(root))
        for folder in TEST_FOLDERS
        for path in sorted((root / folder).rglob("test_*.py"))
        if re.search(rf"^def {name}\(", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    if len(found) != 1:
        raise ValueError(f"{len(found)} test modules define {name}: {found}")
    return found[0]


def modules_defining(names: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """The test modules that define the tests ``names``, relative to ``root``."""
    return sorted({defining_module(name, root) for name in names})


def sample(breaks: list[Break], size: int, commits: int) -> list[Break]:
    """``size`` breaks, the slice of the ``commits``-th commit (consecutive ones tile them all)."""
    size = min(size, len(breaks))
    start = commits * size % len(breaks)
    return [breaks[(start + i) % len(breaks)] for i in range(size)]


def judge(brk: Break, cases: list[junit.Case], build_failed: bool) -> str:
    """The verdict on a break from the JUnit cases of its run (see the module's docstring)."""
    outcomes = []
    for name in brk.catch:
        module = Path(defining_module(name)).stem
        mine = [c for c in cases if c.test == name and c.module == module]
        if not mine:
            outcomes.append("absent")
        elif any(c.asserted for c in mine):
            outcomes.append("asserted")
        elif any(c.red for c in mine):
            outcomes.append("error")
        else:
            outcomes.append("passed")
    if all(o == "asserted" for o in outcomes):
        return "caught"
    if build_failed:
        return "caught by the build"
    if "error" in outcomes and not {"passed", "absent"} & set(outcomes):
        return "error"
    return "MISSED"


@dataclass
class Outcome:
    """What one run of the tests in a clone showed."""

    verdict: str
    failed: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)
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
    report = workdir / "junit.xml"
    started = time.perf_counter()
    run = subprocess.run(
        ["uv", "run", "--frozen", "--quiet", "pytest", *modules, "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}"],
        cwd=clone, capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    cases = junit.cases(report)
    outcome = Outcome(
        "",
        {c.test for c in cases if c.asserted},
        {c.test for c in cases if c.red and not c.asserted},
        time.perf_counter() - started,
    )
    outcome.last_line = (output.strip().splitlines() or [""])[-1][:160]
    if brk is None:
        outcome.verdict = "green" if run.returncode == 0 else "red"
    else:
        outcome.verdict = judge(brk, cases, BUILD_FAILED in output)
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
        f"{counts['caught by the build']} by the build, {counts['error']} errored, "
        f"{counts['MISSED']} missed ({results['minutes']:.0f} min).\n\n"
        f"| Break | Verdict | Must go red | Time |\n| --- | --- | --- | ---: |\n{rows}\n",
        encoding="utf-8",
    )


def run_breaks(chosen: list[Break]) -> list[dict]:
    """Runs each break in a fresh clone; a row per break, printed as it ends."""
    rows = []
    for number, brk in enumerate(chosen, 1):
        with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
            outcome = run_in_clone(Path(tmp), modules_defining(brk.catch), brk)
        rows.append(
            {"name": brk.name, "catch": list(brk.catch), "verdict": outcome.verdict,
             "asserted": sorted(outcome.failed), "errored": sorted(outcome.errors),
             "seconds": round(outcome.seconds, 1)}
        )  # fmt: skip
        print(
            f"[{number}/{len(chosen)}] {outcome.verdict:6}  {brk.name}  ({outcome.seconds:.0f} s)"
        )
        print(f"          must go red: {', '.join(brk.catch)}")
        print(f"          asserted:    {', '.join(sorted(outcome.failed)) or 'nothing'}")
        if outcome.errors:
            print(f"          errored:     {', '.join(sorted(outcome.errors))}")
        print(f"          suite said:  {outcome.last_line}", flush=True)
    return rows


def forget_break_builds() -> None:
    """Empties the engine's BuildKit cache of what the breaks built.

    BuildKit's cache keys for a COPY ignore file times, so a break that leaves build times in
    a layer (the app's files not reset to 1980) would be reused by the next build of the
    unbroken tree, on this engine, and fail its reproducibility check. The whole cache goes:
    the next build is cold.
    """
    docker = subprocess.run(
        [str(ROOT / "deployment" / "docker-client.sh")], capture_output=True, text=True, check=False
    ).stdout.strip()
    if docker:
        subprocess.run([docker, "builder", "prune", "-af"], capture_output=True, check=False)


def main() -> int:
    """Runs the control run and the chosen breaks; prints which tests caught each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="substrings of break names to run")
    parser.add_argument(
        "--sample", type=int, metavar="N", help="N breaks, rotating with HEAD's commit count"
    )
    args = parser.parse_args()
    breaks = load_breaks()
    if args.sample is not None:
        if args.sample < 1 or args.names:
            parser.error("--sample takes a positive number, and no break names")
        commits = subprocess.run(
            ["git", "-C", str(ROOT), "rev-list", "--count", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        chosen = sample(breaks, args.sample, int(commits))
        print(f"[mutation] sample of commit {commits}: {len(chosen)} of {len(breaks)} breaks")
    else:
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
    try:
        rows = run_breaks(chosen)
    finally:
        forget_break_builds()
    verdicts = [row["verdict"] for row in rows]
    counts = {v: verdicts.count(v) for v in VERDICTS}
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
    if not args.names and args.sample is None:
        write_report(results)
    print(
        f"\n{counts['caught']} of {counts['total']} breaks caught by their tests, "
        f"{counts['caught by the build']} by the build, {counts['error']} errored, "
        f"{counts['MISSED']} missed; {RESULTS.relative_to(ROOT)}"
    )
    return 1 if counts["MISSED"] or counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
