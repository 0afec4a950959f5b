"""The table ``[tool.image-checks]`` is one validated model: misspelt, mistyped or missing keys
fail naming them, sections are optional, and the README's reference lists exactly its keys.
"""

import re
from pathlib import Path

import pytest

from image_checks.table import SECTIONS, Table, TableError, load_table

README = Path(__file__).resolve().parents[1] / "README.md"


def edited(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_minimal_table_validates_with_no_section(minimal_table: Path) -> None:
    table = load_table(minimal_table)
    assert table.user == 101
    assert table.folder == minimal_table.parent
    assert not any(table.configured(section) for section in SECTIONS)
    assert table.max_wasted_mb == 1.0  # a default


def test_a_misspelt_key_fails_naming_it(minimal_table: Path) -> None:
    edited(minimal_table, "max-image-mb = 50", "max-image-mbs = 50")
    with pytest.raises(TableError, match=r"max-image-mbs: Extra inputs are not permitted"):
        load_table(minimal_table)


def test_a_misspelt_key_of_a_section_fails_naming_both(minimal_table: Path) -> None:
    minimal_table.write_text(
        minimal_table.read_text() + '[tool.image-checks.http]\nhealth-paht = "/"\n'
    )
    with pytest.raises(TableError, match=r"http\.health-paht: Extra inputs"):
        load_table(minimal_table)


def test_a_wrong_type_fails_naming_the_key(minimal_table: Path) -> None:
    edited(minimal_table, "user = 101", 'user = "nginx"')
    with pytest.raises(TableError, match=r"user: Input should be a valid integer"):
        load_table(minimal_table)


def test_a_missing_required_key_fails_naming_it(minimal_table: Path) -> None:
    edited(minimal_table, 'workdir = "/srv"\n', "")
    with pytest.raises(TableError, match=r"workdir: Field required"):
        load_table(minimal_table)


def test_an_empty_list_a_check_loops_over_fails(minimal_table: Path) -> None:
    edited(minimal_table, 'forbidden-tools = ["sh"]', "forbidden-tools = []")
    with pytest.raises(TableError, match=r"forbidden-tools: .*at least 1"):
        load_table(minimal_table)


def test_another_schema_version_fails(minimal_table: Path) -> None:
    edited(minimal_table, "schema-version = 1", "schema-version = 2")
    with pytest.raises(TableError, match=r"schema-version: Input should be 1"):
        load_table(minimal_table)


def test_a_file_without_the_table_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text("[tool.other]\nx = 1\n")
    with pytest.raises(TableError, match=r"other\.toml: no \[tool.image-checks\] table"):
        load_table(tmp_path / "other.toml")
    with pytest.raises(TableError, match=r"missing\.toml: cannot read"):
        load_table(tmp_path / "missing.toml")


def test_the_harness_fields_cannot_be_set_in_the_file(minimal_table: Path) -> None:
    minimal_table.write_text(
        minimal_table.read_text().replace("user = 101", 'folder = "/"\nuser = 101')
    )
    with pytest.raises(TableError, match="not keys"):
        load_table(minimal_table)


def test_a_build_context_on_the_command_line_configures_the_build(
    minimal_table: Path, tmp_path: Path
) -> None:
    with pytest.raises(TableError, match=r"build\.context-allowed: Field required"):
        load_table(minimal_table, build_context=tmp_path)  # what may the context hold?
    minimal_table.write_text(
        minimal_table.read_text()
        + '[tool.image-checks.build]\ncontext-allowed = ["src"]\ncontext-required = ["src"]\n'
        'context-excluded = [".git"]\n'
    )
    assert not load_table(minimal_table).configured("build")  # no context: not configured
    table = load_table(minimal_table, build_context=tmp_path, dockerfile=Path("Containerfile"))
    assert table.configured("build")
    assert table.context_path() == tmp_path.resolve()
    assert table.build is not None
    assert table.build.dockerfile == "Containerfile"


def test_budgets_are_keyed_by_the_names_the_table_gives_its_bases(minimal_table: Path) -> None:
    minimal_table.write_text(
        minimal_table.read_text()
        + '[[tool.image-checks.bases]]\nname = "small"\nmatch = "example/base:*"\n'
        "max-image-mb = 20\n"
    )
    table = load_table(minimal_table)
    small = table.base_named("example/base:1.0")
    assert small is not None
    assert (small.name, small.max_image_mb) == ("small", 20)
    assert table.base_named("other/base:1.0") is None


def test_paths_are_read_under_the_workdir_unless_absolute(minimal_table: Path) -> None:
    table = load_table(minimal_table)
    assert table.in_workdir("static/index.html") == "srv/static/index.html"
    assert table.in_workdir("/usr/sbin/server") == "usr/sbin/server"


def _model_keys() -> dict[str, set[str]]:
    """Every key of the table, by section ("" for the top level), as a file spells them."""
    sections = {"": Table}
    sections.update(
        {name: Table.model_fields[name].annotation.__args__[0] for name in SECTIONS}  # type: ignore[union-attr]
    )
    sections["bases"] = Table.model_fields["bases"].annotation.__args__[0]  # type: ignore[union-attr]
    sections["emulation"] = Table.model_fields["emulation"].annotation  # type: ignore[assignment]
    hidden = {"folder", "environment", "emulation", *SECTIONS}
    return {
        section: {
            field.alias or name
            for name, field in model.model_fields.items()
            if not (section == "" and name in hidden)
        }
        for section, model in sections.items()
    }


def _readme_keys() -> dict[str, set[str]]:
    """The keys the README's reference lists, by section heading."""
    keys: dict[str, set[str]] = {}
    section = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"^#### `\[\[?tool\.image-checks(?:\.(\w+))?\]\]?`", line):
            section = heading.group(1) or ""
            keys[section] = set()
        elif section is not None and (row := re.match(r"^\| `([a-z-]+)` \|", line)):
            keys[section].add(row.group(1))
    return keys


def test_the_readme_reference_lists_exactly_the_models_keys() -> None:
    assert _readme_keys() == _model_keys()


PLATFORM_BASES = """
[[tool.image-checks.bases]]
name = "distroless"
match = "distroless:*"
max-image-mb = 98

[[tool.image-checks.bases]]
name = "distroless on arm"
match = "distroless:*"
platform = "linux/arm64"
max-image-mb = 112

[tool.image-checks.emulation]
time-factor = 12
memory-factor = 2
"""


def test_a_base_written_for_the_image_platform_comes_before_one_for_any(
    minimal_table: Path,
) -> None:
    minimal_table.write_text(minimal_table.read_text() + PLATFORM_BASES)
    table = load_table(minimal_table)
    assert table.base_named("distroless:nonroot", "linux/arm64").max_image_mb == 112
    assert table.base_named("distroless:nonroot", "linux/amd64").max_image_mb == 98
    assert table.base_named("distroless:nonroot").max_image_mb == 98
    assert table.base_named("debian:trixie", "linux/arm64") is None


def test_emulation_factors_default_to_one_and_never_shrink_a_budget(minimal_table: Path) -> None:
    assert load_table(minimal_table).emulation.time_factor == 1.0
    minimal_table.write_text(minimal_table.read_text() + PLATFORM_BASES)
    assert load_table(minimal_table).emulation.memory_factor == 2
    edited(minimal_table, "time-factor = 12", "time-factor = 0.5")
    with pytest.raises(TableError, match=r"emulation\.time-factor: Input should be greater"):
        load_table(minimal_table)
