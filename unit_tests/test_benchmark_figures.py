"""The benchmark's parsers: a wrong figure here would be published as a measurement."""

import json
from pathlib import Path

import pytest

from benchmarks import run as bench
from benchmarks.run import build_steps, dive_rules, import_budget_ms, parse_importtime

REPORT = """\
import time: self [us] | cumulative | imported package
import time:       300 |        300 | encodings
import time:      1000 |       1000 |   typing
import time:      2000 |       2000 |     fastapi.params
import time:      5000 |      40000 |   fastapi
import time:       100 |        100 |     app.version
import time:       700 |        800 |   app.settings
import time:      9000 |      57900 | app.main
import time:       400 |        400 | site
"""


def test_importtime_gives_the_modules_cumulative_and_its_direct_imports() -> None:
    total, direct = parse_importtime(REPORT, "app.main")
    assert total == 57.9
    assert direct == {"typing": 1.0, "fastapi": 40.0, "app.settings": 0.8}


def test_importtime_without_the_module_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"does not list app\.main"):
        parse_importtime(REPORT.replace("app.main", "app.other"), "app.main")


BUILD = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#9 [builder 5/7] RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev
#9 0.512 Resolved 23 packages
#10 [stdlib-bytecode 2/2] RUN ["/usr/bin/python3.13", "-B", "-c", "import sys"]
#10 DONE 1.4s
#9 DONE 3.2s
#11 [runtime 2/3] COPY --from=builder /stage/venv /
#11 CACHED
#12 exporting to image
#12 DONE 0.6s
"""


def test_build_steps_name_each_step_by_its_first_line_slowest_first() -> None:
    steps = build_steps(BUILD)
    assert list(steps) == [
        "[builder 5/7] RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --n",  # 80
        '[stdlib-bytecode 2/2] RUN ["/usr/bin/python3.13", "-B", "-c", "import sys"]',
        "exporting to image",
    ]
    assert steps["exporting to image"] == 0.6


def test_dive_counts_the_rules_it_did_not_skip_and_those_that_failed() -> None:
    said = (
        "\x1b[31mFAIL\x1b[0m: lowestEfficiency\n"
        "Result:FAIL [Total:3] [Passed:1] [Failed:1] [Warn:0] [Skipped:1]"
    )
    assert dive_rules(said) == (2, 1)
    with pytest.raises(ValueError, match="no result line"):
        dive_rules("permission denied")


def test_the_import_budget_is_what_the_start_up_target_leaves() -> None:
    results = {
        "ours": {"startup_s": 0.517, "import_app_ms": 265.0},
        "baseline": {"startup_s": 0.879},
    }
    # 0.5 x 0.879 s = 0.4395 s, less the 0.252 s ours spends outside the import
    assert import_budget_ms(results) == 187.5
    assert import_budget_ms({"ours": {}, "baseline": {}}) is None


def _verified(properties: int, seconds: float) -> dict:
    return {"seconds": seconds, "properties": properties, "failed": 0, "slowest_s": {}}


@pytest.mark.parametrize(("reads", "runs", "whole"), [(30, 20, 50), (30, 19, 50), (0, 50, 50)])
def test_the_plugins_two_parts_must_add_up_to_the_whole_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reads: int, runs: int, whole: int
) -> None:
    by_selection = {"": whole, "not image_checks_runs": reads, "image_checks_runs": runs}
    monkeypatch.setattr(
        bench,
        "verify_with_plugin",
        lambda tag, folder, select="": _verified(by_selection[select], 5),
    )
    monkeypatch.setattr(bench, "verify_with_anchors", lambda tag: {"cst": _verified(4, 1.0)})
    if reads + runs == whole and reads and runs:
        found = bench.verification("img", tmp_path)
        assert found["anchors_s_per_property"] == 0.25
        assert found["pytest-image-checks, reading the image only"]["vs_anchors"] == round(
            5 / reads / 0.25, 2
        )
    else:
        with pytest.raises(SystemExit, match="splits them wrongly"):
            bench.verification("img", tmp_path)


def _measured(args: object) -> dict:
    flavour = {"size_mb": 74.4, "layers": 5, "startup_s": 0.6, "startup_samples": [0.6]}
    return {
        "date": "2026-12-07 00:00 UTC",
        "commit": "abc1234",
        "engine": "Docker 20.10",
        "machine": "2 cores",
        "concurrency": 32,
        "load_generator": "wrk",
        "ours": {"size_mb": 94.5, "startup_s": 0.6},
        "baseline": {"size_mb": 293.7, "startup_s": 1.0},
        "flavours": {"baseline": {**flavour, "startup_s": 1.0}, "slim": flavour},
    }


@pytest.mark.parametrize("quick", [True, False])
def test_a_quick_run_writes_nothing_and_a_full_run_writes_results_and_flavours(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, quick: bool
) -> None:
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    for name in ("RESULTS", "FLAVOUR_RESULTS", "CHART", "REPORT"):
        monkeypatch.setattr(bench, name, tmp_path / name)
    monkeypatch.setattr(bench, "measure", _measured)
    monkeypatch.setattr(bench, "chart", lambda results: bench.CHART.write_text("png"))
    monkeypatch.setattr("sys.argv", ["run.py", *(["--quick"] if quick else [])])
    assert bench.main() == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    if quick:
        assert written == [], f"a --quick run wrote {written}"
        return
    assert written == ["CHART", "FLAVOUR_RESULTS", "REPORT", "RESULTS"]
    flavours = json.loads(bench.FLAVOUR_RESULTS.read_text())
    assert flavours["commit"] == "abc1234"
    assert flavours["slim"]["size_mb"] == 74.4
    assert "flavours" not in json.loads(bench.RESULTS.read_text())
