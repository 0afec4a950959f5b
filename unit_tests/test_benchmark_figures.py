"""The benchmark's parsers: a wrong figure here would be published as a measurement."""

import pytest

from benchmarks.run import parse_importtime

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
