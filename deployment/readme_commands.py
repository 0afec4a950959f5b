"""Runs every command in a code block of README.md, as typed.

The README's command list is the truth: each line of a fenced ``bash`` block is a command, and
each command has one entry in ``COMMANDS`` saying how it is run: to completion (``run``), as a
server that is started, probed on 127.0.0.1 and stopped before the next server starts
(``serve``), or by ``.ci/run`` or the gate itself (``ci``: the file named must contain the
command). ``check`` fails when the two lists differ, so a command added to the README without a
way to run it, or an entry whose command left the README, is caught (the unit suite runs it).
``run`` runs every command not run by ``.ci/run`` itself, in README order, with progress; each
command's output goes to ``reports/readme-commands/``, and a failure prints its last lines.

Usage: ``uv run python deployment/readme_commands.py check|list|run``
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LOGS = ROOT / "reports" / "readme-commands"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    """How one README command is run.

    Attributes:
        how: ``run`` to completion (exit 0 required), ``serve`` (started, ``probe`` must answer
            200 within ``timeout_s``, stopped with SIGINT before the next server or at the end),
            or ``ci`` (run by the file ``by``, which must contain the command as typed).
        timeout_s: limit for a ``run`` command, or for a server to answer its probe.
        probe: for ``serve``, the URL on 127.0.0.1 that must answer 200.
        expect: text the command's output must contain (for ``curl``, which exits 0 on any status).
        by: for ``ci``, the file that runs the command.
        retry_s: for ``run``, keep retrying a failing command this long (a service still starting).
    """

    how: Literal["run", "serve", "ci"]
    timeout_s: float = 300.0
    probe: str = ""
    expect: str = ""
    by: str = ""
    retry_s: float = 0.0


HEALTH = "http://127.0.0.1:8000/health"
COMMANDS: dict[str, Command] = {
    "./deployment/app-build.sh": Command("ci", by=".ci/run"),
    "uv run pytest": Command("ci", by="deployment/app-build.sh"),
    "uv run pytest unit_tests": Command("run"),
    "uv run pytest unit_tests/test_settings.py": Command("run"),
    "uv run pytest unit_tests -k timeout": Command("run"),
    'uv run pytest -m "not container"': Command("run"),
    "BASE_FLAVOUR=slim uv run pytest container_tests": Command("ci", by=".ci/run"),
    'eval "$(deployment/engines.sh start docker-28)"': Command("ci", by=".ci/run"),
    "REPORT_DIR=reports/docker-28 ./deployment/app-build.sh": Command("ci", by=".ci/run"),
    "PLATFORM=linux/arm64 REPORT_DIR=reports/arm64 ./deployment/app-build.sh": Command(
        "ci", by=".ci/run"
    ),
    "uv run --group bench python benchmarks/run.py --platforms": Command("ci", by=".ci/run"),
    "uv run python deployment/release_index.py reports/docker-28 reports/arm64": Command(
        "ci", by=".ci/run"
    ),
    "docker buildx imagetools inspect 127.0.0.1:5055/modern-ml-microservices-app:0.1.0": Command(
        "ci", by=".ci/run"
    ),
    "uv run python deployment/release_tamperings.py --index reports/index/release-index.json": (
        Command("ci", by=".ci/run")
    ),
    "deployment/engines.sh stop docker-28": Command("ci", by=".ci/run"),
    "deployment/engines.sh save modern-ml-microservices-app:latest /tmp/app.tar": Command(
        "ci", by=".ci/run"
    ),
    'eval "$(deployment/engines.sh start podman)"': Command("ci", by=".ci/run"),
    "deployment/engines.sh load podman /tmp/app.tar": Command("ci", by=".ci/run"),
    "uv run pytest container_tests -n 2 --require-complete "
    "--image=modern-ml-microservices-app:latest": Command("ci", by=".ci/run"),
    "deployment/engines.sh stop podman": Command("ci", by=".ci/run"),
    'ref="127.0.0.1:5055/modern-ml-microservices-app@$(jq -r .release.digest '
    'reports/image-report.json)"': Command("ci", by=".ci/run"),
    "cosign verify --key reports/cosign.pub --insecure-ignore-tlog=true --allow-http-registry "
    '"$ref"': Command("ci", by=".ci/run"),
    "cosign verify-attestation --key reports/cosign.pub --type cyclonedx "
    '--insecure-ignore-tlog=true --allow-http-registry "$ref" >/dev/null': Command(
        "ci", by=".ci/run"
    ),
    "cosign verify-attestation --key reports/cosign.pub --type slsaprovenance1 "
    '--insecure-ignore-tlog=true --allow-http-registry "$ref" | jq -r .payload | base64 -d '
    "| jq .predicate.buildDefinition.resolvedDependencies": Command("ci", by=".ci/run"),
    "uv run python deployment/release_tamperings.py": Command("ci", by=".ci/run"),
    "./deployment/app-build.sh --build-only && docker-compose -p mmm up -d": Command("run"),
    "curl 'http://127.0.0.1:8000/api/search?title=sunflowers'": Command(
        "run", expect='"https://', retry_s=30
    ),
    "docker-compose -p mmm down": Command("run"),
    "uv run --group bench python benchmarks/run.py": Command("run", timeout_s=1800),
    "uv run python benchmarks/verdict.py": Command("run", timeout_s=900),
    "uv run python -m app": Command("serve", probe=HEALTH, timeout_s=60),
    "ENV=prod PORT=8080 uv run python -m app": Command(
        "serve", probe="http://127.0.0.1:8080/health", timeout_s=60
    ),
    "docker run --rm -p 127.0.0.1:8000:8000 -e ENV=prod modern-ml-microservices-app:latest": (
        Command("serve", probe=HEALTH, timeout_s=60)
    ),
    "curl http://127.0.0.1:8000/health": Command("run", expect='"status":"ok"'),
    "uv run python deployment/mutation_check.py --sample 4": Command("run", timeout_s=1200),
    "uv build --package pytest-image-checks": Command("run", timeout_s=120),
    "pip install dist/pytest_image_checks-0.1.0-py3-none-any.whl": Command(
        "ci", by="deployment/foreign_images.py"
    ),
    "pytest --pyargs image_checks --image my-service:1.0 --image-table image-checks.toml": Command(
        "ci", by="deployment/foreign_images.py"
    ),
    "uv run python deployment/foreign_images.py": Command("run", timeout_s=900),
}


def strip_comment(line: str) -> str:
    """Returns ``line`` without its shell comment: a ``#`` after a blank, outside quotes."""
    quote = ""
    for at, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or line[at - 1].isspace()):
            return line[:at].rstrip()
    return line.rstrip()


def readme_commands(text: str) -> list[str]:
    """Returns the commands of the README's ``bash`` blocks, in order, comments stripped."""
    lines = (
        strip_comment(line.strip()) for block in BLOCK.findall(text) for line in block.splitlines()
    )
    return [line for line in lines if line]


def mismatches(text: str) -> list[str]:
    """Says where the README's commands and ``COMMANDS`` disagree (empty when they agree)."""
    typed = readme_commands(text)
    problems = [
        f"README command with no entry in COMMANDS: {c}" for c in typed if c not in COMMANDS
    ]
    problems += [f"COMMANDS entry not in README: {c}" for c in COMMANDS if c not in typed]
    problems += [f"README shows this command twice: {c}" for c in set(typed) if typed.count(c) > 1]
    for command, how in COMMANDS.items():
        if how.how == "ci" and command not in (ROOT / how.by).read_text(encoding="utf-8"):
            problems.append(f"{how.by} does not run `{command}` as typed")
    return problems


class Runner:
    """Runs the commands in order; at most one server runs at a time."""

    def __init__(self) -> None:
        """Starts with no server running and nothing failed."""
        self.server: tuple[str, subprocess.Popen[bytes]] | None = None
        self.failed: list[str] = []
        LOGS.mkdir(parents=True, exist_ok=True)

    def _start(self, index: int, command: str) -> subprocess.Popen[bytes]:
        log = (LOGS / f"{index:02d}.log").open("wb")
        return subprocess.Popen(
            ["bash", "-c", command], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def stop_server(self) -> None:
        """Stops the running server, as Ctrl-C would, and waits for it."""
        if self.server is None:
            return
        command, process = self.server
        self.server = None
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.failed.append(f"{command} (did not stop within 20 s of Ctrl-C)")

    def run(self, index: int, command: str, how: Command) -> str:
        """Runs one command; returns "" when it did what it should, else what went wrong."""
        if how.how == "serve":
            self.stop_server()
            process = self._start(index, command)
            self.server = (command, process)
            deadline = time.monotonic() + how.timeout_s
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    return f"exited {process.returncode} before {how.probe} answered"
                try:
                    if httpx.get(how.probe, timeout=2).status_code == 200:
                        return ""
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
            return f"{how.probe} did not answer 200 within {how.timeout_s:.0f} s"
        deadline = time.monotonic() + how.retry_s
        while True:
            process = self._start(index, command)
            try:
                code = process.wait(timeout=how.timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return f"still running after {how.timeout_s:.0f} s"
            output = (LOGS / f"{index:02d}.log").read_text(encoding="utf-8", errors="replace")
            problem = f"exit {code}" if code else ""
            if not problem and how.expect not in output.replace(" ", ""):
                problem = f"output lacks {how.expect!r}"
            if not problem or time.monotonic() > deadline:
                return problem
            time.sleep(1)


def main() -> int:
    """Checks, lists or runs the README's commands."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "list", "run"))
    action = parser.parse_args().action
    text = README.read_text(encoding="utf-8")
    problems = mismatches(text)
    for problem in problems:
        print(f"[readme] {problem}", file=sys.stderr)
    if problems or action == "check":
        return 1 if problems else 0
    typed = readme_commands(text)
    if action == "list":
        for command in typed:
            how = COMMANDS[command]
            print(f"{how.how:5}  {command}" + (f"   (by {how.by})" if how.by else ""))
        return 0
    runner = Runner()
    try:
        for index, command in enumerate(typed, 1):
            how = COMMANDS[command]
            head = f"[readme {index}/{len(typed)}] {command}"
            if how.how == "ci":
                print(f"{head}: run by {how.by}", flush=True)
                continue
            print(f"{head} ...", flush=True)
            started = time.monotonic()
            problem = runner.run(index, command, how)
            took = time.monotonic() - started
            if problem:
                runner.failed.append(f"{command} ({problem})")
                log = (LOGS / f"{index:02d}.log").read_text(encoding="utf-8", errors="replace")
                print("\n".join(log.splitlines()[-30:]))
            verdict = f"FAILED: {problem}" if problem else "ok"
            print(f"{head}: {verdict} in {took:.1f} s", flush=True)
    finally:
        runner.stop_server()
    if runner.failed:
        print("[readme] failed:\n  " + "\n  ".join(runner.failed), file=sys.stderr)
        return 1
    print(f"[readme] all {len(typed)} commands of README.md did what they say")
    return 0


if __name__ == "__main__":
    sys.exit(main())
