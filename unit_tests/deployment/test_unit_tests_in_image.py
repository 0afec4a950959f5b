"""What the unit run on the image's Python leaves out: only the tests of the tools, never app/'s."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deployment" / "unit-tests-in-image.sh"


def _imports_app(module: Path) -> bool:
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "app" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
            return True
    return False


def test_the_image_run_leaves_out_only_tests_that_do_not_import_the_app() -> None:
    left_out = [ROOT / path for path in re.findall(r"--ignore=(\S+)", SCRIPT.read_text())]
    assert left_out, f"{SCRIPT.name} names no tests it leaves out; this test guards that list"
    missing = [str(path.relative_to(ROOT)) for path in left_out if not path.exists()]
    assert not missing, f"{SCRIPT.name} leaves out paths that do not exist: {missing}"
    modules = [m for p in left_out for m in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    app_tests = [str(m.relative_to(ROOT)) for m in modules if _imports_app(m)]
    assert not app_tests, (
        f"the unit run on the image's Python leaves out tests of app/: {app_tests}; only the "
        "tools' tests may run on the host alone"
    )
