"""The pure helpers the checks rest on: sentinel names for the context's globs, and the
listening ports of a /proc/net/tcp table."""

from types import SimpleNamespace
from typing import Any

import pytest

from image_checks.checks.test_build_context import sentinel_name
from image_checks.checks.test_http import listening_ports
from image_checks.plugin import CHECKS_DIR, CHECKS_NODE, checks_relative
from image_checks.workers import scope_of

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65532 0 1 1
   1: 0100007F:0050 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000 65532 0 2 1
"""


@pytest.mark.parametrize(
    ("pattern", "name"),
    [("*.pem", "pytest-sentinel.pem"), ("id_rsa*", "id_rsapytest-sentinel"), (".env", ".env"),
     ("*.py[cod]", "pytest-sentinel.pyc"), (".env.*", ".env.pytest-sentinel")],
)  # fmt: skip
def test_every_glob_gets_a_name_it_matches(pattern: str, name: str) -> None:
    assert sentinel_name(pattern) == name


def test_only_listening_sockets_count() -> None:
    assert listening_ports(TCP) == [8000]  # 0x1F40; the established one to port 80 is not


@pytest.mark.parametrize(
    ("nodeid", "scope"),
    [
        ("packages/x/src/image_checks/checks/test_layers.py::test_a", CHECKS_NODE),
        ("../venv/lib/site-packages/image_checks/checks/test_http.py::test_b[1]", CHECKS_NODE),
        ("container_tests/service/test_load.py::test_c", "container_tests/"),
        ("unit_tests/test_routes.py::test_d", "unit_tests/test_routes.py"),
    ],
)
def test_the_checks_and_each_scope_run_whole_on_one_worker(nodeid: str, scope: str) -> None:
    assert scope_of(nodeid, CHECKS_NODE, ["container_tests/"]) == scope


def test_the_checks_outside_the_rootdir_run_whole_on_one_worker() -> None:
    # pytest --pyargs image_checks from a team's own folder: node ids relative to the package
    assert scope_of("checks/test_layers.py::test_a", CHECKS_NODE, [], ("checks/",)) == CHECKS_NODE
    assert scope_of("checks/test_layers.py::test_a", CHECKS_NODE, []) == "checks/test_layers.py"


def test_the_checks_folder_is_named_relative_to_the_argument_holding_it() -> None:
    def config(*args: str, pyargs: bool) -> Any:
        return SimpleNamespace(args=list(args), option=SimpleNamespace(pyargs=pyargs))

    assert checks_relative(config("image_checks", pyargs=True)) == ("checks/",)
    assert checks_relative(config(str(CHECKS_DIR.parent.parent), pyargs=False)) == (
        "image_checks/checks/",
    )
    assert checks_relative(config("unit_tests", "image_checks.release", pyargs=True)) == ()
