"""The mutation check's breaks (deployment/mutations.toml) stay in step with the code, offline:
each still applies to this tree, names tests that exist, and every container test is the
target of at least one break. The breaks themselves run in deployment/mutation_check.py."""

import re
import shutil
from pathlib import Path

import pytest

from deployment import mutation_check
from image_checks.junit import Case

ROOT = Path(__file__).resolve().parents[2]
BREAKS = mutation_check.load_breaks()
CONTAINER_TESTS = sorted(
    {
        name
        for folder in mutation_check.CONTAINER_FOLDERS
        for path in (ROOT / folder).rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)\(", path.read_text(), re.MULTILINE)
    }
)


def test_every_container_test_is_the_target_of_a_break() -> None:
    targeted = {name for brk in BREAKS for name in brk.catch}
    untargeted = [name for name in CONTAINER_TESTS if name not in targeted]
    assert not untargeted, (
        f"no break in deployment/mutations.toml must turn these red: {untargeted}"
    )


def test_every_test_a_break_names_is_defined_once() -> None:
    problems = []
    for name in sorted({n for brk in BREAKS for n in brk.catch}):
        try:
            mutation_check.defining_module(name)
        except ValueError as exc:
            problems.append(str(exc))
    assert not problems, f"deployment/mutations.toml names tests ambiguously: {problems}"


def _case(name: str, outcome: str, message: str = "", module: str = "test_posture") -> Case:
    return Case(f"image_checks.checks.{module}", name, outcome, message)


STOP = "test_docker_stop_stops_the_container_cleanly_within_budget"  # in test_posture


@pytest.mark.parametrize(
    ("cases", "build_failed", "verdict"),
    [
        ([_case(STOP, "failed", "AssertionError: exit code 137")], False, "caught"),
        ([_case(STOP, "failed", "Failed: the container did not stop")], False, "caught"),
        ([_case(STOP, "error", "failed on setup: base missing")], False, "error"),
        ([_case(STOP, "failed", "KeyError: 'State'")], False, "error"),
        ([_case(STOP, "failed", "AssertionError: x", module="test_layers")], False, "MISSED"),
        ([_case(STOP, "passed")], False, "MISSED"),
        ([], False, "MISSED"),
        ([], True, "caught by the build"),
    ],
    ids=[
        "assertion",
        "pytest-fail",
        "fixture-error",
        "crash",
        "other-module",
        "passed",
        "not-run",
        "build",
    ],
)
def test_only_a_failed_assertion_of_the_named_test_is_a_catch(
    cases: list[Case], build_failed: bool, verdict: str
) -> None:
    brk = mutation_check.Break(name="b", catch=(STOP,))
    assert mutation_check.judge(brk, cases, build_failed) == verdict


def test_samples_of_consecutive_commits_run_every_break() -> None:
    size = 6
    runs = -(-len(BREAKS) // size)
    seen = [b.name for c in range(100, 100 + runs) for b in mutation_check.sample(BREAKS, size, c)]
    assert all(len(mutation_check.sample(BREAKS, size, c)) == size for c in range(runs))
    assert set(seen) == {b.name for b in BREAKS}, f"{runs} commits run only {len(set(seen))}"


def test_break_names_are_unique() -> None:
    names = [brk.name for brk in BREAKS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("brk", BREAKS, ids=[brk.name for brk in BREAKS])
def test_break_applies_to_this_tree_and_changes_it(
    brk: mutation_check.Break, tmp_path: Path
) -> None:
    files = {e["file"] for e in brk.text} | {
        part["file"] for part in (brk.toml, brk.yaml) if part is not None
    }
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    mutation_check.apply(brk, tmp_path)
    changed = [
        name for name in files if (tmp_path / name).read_bytes() != (ROOT / name).read_bytes()
    ]
    assert changed, f"break {brk.name!r} changed nothing"
    for name in (n for n in changed if n.endswith(".py")):  # a break is a change, not a typo
        compile((tmp_path / name).read_text(), name, "exec")


def test_text_is_matched_whatever_its_layout() -> None:
    pattern = mutation_check.loose("uv sync --frozen --no-dev")
    assert pattern.search("uv sync \\\n    --frozen   --no-dev")
    assert not pattern.search("uv sync --frozen --dev")


def test_replacement_keeps_the_indentation_around_it(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    if x:\n        return 2\n")
    brk = mutation_check.Break(
        "t",
        ("test_x",),
        text=({"file": "m.py", "old": "        return 2", "new": "        return 1"},),
    )
    mutation_check.apply(brk, tmp_path)
    assert (tmp_path / "m.py").read_text() == "def f():\n    if x:\n        return 1\n"
