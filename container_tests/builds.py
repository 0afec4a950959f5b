"""Builds the suite starts itself, beside the image under test."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# The label deployment/build-image.sh gives the image: which base flavour it was built on.
FLAVOUR_LABEL = "org.modern-ml-microservices.base-flavour"


@dataclass
class ColdRebuild:
    """A build of this checkout without any BuildKit cache, running beside the other checks."""

    tag: str
    process: subprocess.Popen[bytes] | None
    log: Path

    def wait(self) -> tuple[int, str]:
        """Waits for the build; its exit code and the end of its output."""
        if self.process is None:
            return 1, "not started: the image names no base flavour (and BASE_FLAVOUR is unset)"
        code = self.process.wait()
        return code, self.log.read_text(errors="replace")[-3000:]
