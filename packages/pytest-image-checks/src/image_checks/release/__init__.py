"""The release checks: the signed, attested release in its registry is the image that was tested.

Run after the image checks, with the same reports folder and the release record:
``pytest --pyargs image_checks.release --image REF --release FILE --image-reports DIR``; a
multi-platform index of such releases with ``--release-index FILE`` (test_index.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from image_checks.registry import ReleaseError


def or_fail(call: Any, *args: Any) -> Any:
    """``call(*args)``; a ``ReleaseError`` fails the test with its message, without a traceback."""
    try:
        return call(*args)
    except ReleaseError as exc:
        pytest.fail(str(exc), pytrace=False)
