"""The mutation check's breaks (deployment/mutations.toml) stay in step with the code, offline:
each still applies to this tree, names tests that exist, and every container test is the
target of at least one break. The breaks themselves run in deployment/mutation_check.py."""

import re
import shutil
from pathlib import Path

import pytest

from deployment import mutation_check

ROOT = Path(__file__).resolve().parents[2]
BREAKS = mutation_check.load_breaks()
CONTAINER_TESTS = sorted(
    {
        name
        for folder in mutation_check.TEST_FOLDERS
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


def test_every_test_a_break_names_exists() -> None:
    unknown = sorted({n for brk in BREAKS for n in brk.catch} - set(CONTAINER_TESTS))
    assert not unknown, f"deployment/mutations.toml names tests that do not exist: {unknown}"


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
