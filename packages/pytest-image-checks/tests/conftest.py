"""A minimal table of a foreign image, for the plugin's own tests."""

from pathlib import Path

import pytest

MINIMAL = """\
[tool.image-checks]
schema-version = 1
user = 101
workdir = "/srv"
command = ["/usr/sbin/server"]
max-image-mb = 50
max-added-mb = 10
max-added-layers = 2
required-paths = ["/usr/sbin/server"]
workdir-allowed = ["static"]
image-excluded = ["*.key"]
forbidden-tools = ["sh"]
"""


@pytest.fixture
def minimal_table(tmp_path: Path) -> Path:
    path = tmp_path / "image.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    return path
