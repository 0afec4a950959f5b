"""pytest-image-checks: verify a container image against a table of what it must be.

Run ``pytest --pyargs image_checks --image REF --image-table FILE``; see the package's README.
"""

import os

# Testcontainers' reaper (Ryuk) is an image to pull; the plugin removes what a session made by
# its session label instead. Read when testcontainers is imported, so set before that.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

from image_checks.plugin import include_checks
from image_checks.table import Table, TableError, load_table

__all__ = ["Table", "TableError", "include_checks", "load_table"]
