"""Builds the checks start themselves, beside the image under test."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ColdRebuild:
    """A build of the build context without any cache, running beside the other checks."""

    tag: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait(self) -> tuple[int, str]:
        """Waits for the build; its exit code and the end of its output."""
        code = self.process.wait()
        return code, self.log.read_text(errors="replace")[-3000:]
