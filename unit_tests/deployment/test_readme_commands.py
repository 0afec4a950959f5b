"""The README's command list is the truth: every command in its code blocks has a way to run.

`deployment/readme_commands.py run` (step 3 of `.ci/run`) runs them; these tests keep the list and
the README in step, offline.
"""

from pathlib import Path

from deployment import readme_commands

ROOT = Path(__file__).resolve().parents[2]

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_readme_command_has_a_way_to_run_and_every_entry_is_in_the_readme() -> None:
    problems = readme_commands.mismatches(README)
    assert not problems, "README.md and deployment/readme_commands.py disagree:\n" + "\n".join(
        problems
    )


def test_a_command_added_to_the_readme_without_an_entry_is_reported() -> None:
    text = README + "\n```bash\nuv run pytest --lf   # rerun the last failures\n```\n"
    assert readme_commands.mismatches(text) == [
        "README command with no entry in COMMANDS: uv run pytest --lf"
    ]


def test_a_command_removed_from_the_readme_is_reported() -> None:
    text = README.replace("curl http://127.0.0.1:8000/health", "wget -qO- localhost:8000")
    problems = readme_commands.mismatches(text)
    assert "COMMANDS entry not in README: curl http://127.0.0.1:8000/health" in problems


def test_commands_are_read_from_bash_blocks_only_with_trailing_comments_stripped() -> None:
    text = (
        "Inline `uv run nothing` is prose.\n\n```\nnot bash\n```\n\n```bash\n"
        "# a comment line\nuv run pytest -k 'a  # b'   # trailing comment\n\ncurl x#y\n```\n"
    )
    assert readme_commands.readme_commands(text) == ["uv run pytest -k 'a  # b'", "curl x#y"]
