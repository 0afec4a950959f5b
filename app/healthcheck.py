"""Container health probe: ``python -m app.healthcheck`` exits 0 when ``/health`` answers 200.

Uses the standard library only, so the image needs neither a shell nor curl.
"""

from __future__ import annotations

import sys
import urllib.request

from app.settings import get_settings


def main() -> int:
    """Probes the local service on its configured port; returns the exit code."""
    url = f"http://127.0.0.1:{get_settings().port}/health"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
