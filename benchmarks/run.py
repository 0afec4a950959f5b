"""Benchmarks: the release image and gate against the original single-stage design, one run.

Builds both images on this machine from the same app code, measures size, layers, cold and
warm builds, start-up, idle memory, throughput and latency against the stand-in upstream
(loopback only, bounded runs), ours on the slim bases beside them, and with ``--gate`` the
gate's wall time after an app edit; prints a table with ours/baseline ratios, writes
``benchmarks/results.json``, ``benchmarks/flavours.json`` (ours on each base flavour),
``benchmarks/results.png`` and ``benchmarks/RESULTS.md``. ``--quick`` is a smoke run: fewer,
shorter runs, and it only prints. Nothing here asserts a timing.

``--platforms`` measures ours for each platform (linux/amd64, linux/arm64: one of them under
QEMU) and writes ``benchmarks/platforms.json``.

Usage: ``uv run --group bench python benchmarks/run.py [--quick] [--gate] | --platforms``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docker  # noqa: E402

from container_tests.load import working_set  # noqa: E402
from container_tests.service.upstream import running_stand_in, upstream_env  # noqa: E402
from container_tests.settings import load_service  # noqa: E402
from image_checks.containers import private_network, running_service  # noqa: E402
from image_checks.engine import engine_facts  # noqa: E402
from image_checks.filesystem import analyze_layers  # noqa: E402
from image_checks.report import engine_row  # noqa: E402
from image_checks.table import load_table  # noqa: E402

BASELINE = ROOT / "benchmarks" / "baseline"
RESULTS = ROOT / "benchmarks" / "results.json"
CHART = ROOT / "benchmarks" / "results.png"
FLAVOUR_RESULTS = ROOT / "benchmarks" / "flavours.json"
PLATFORM_RESULTS = ROOT / "benchmarks" / "platforms.json"
PLATFORMS = ("linux/amd64", "linux/arm64")
OURS_TAG = "modern-ml-microservices-app:bench"
BASELINE_TAG = "modern-ml-microservices-baseline:bench"
TABLE = load_table(ROOT / "pyproject.toml")  # the port and health path the images serve
BASELINE_FLAVOUR = "slim"  # its builder base holds Debian's Python 3.13
SAME_BASES_TAG = f"{OURS_TAG}-{BASELINE_FLAVOUR}"  # ours, built on the baseline's bases
REPORT = ROOT / "benchmarks" / "RESULTS.md"


STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the seconds since the run began, so a long run shows where it is."""
    print(f"[bench +{time.monotonic() - STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


def timed(command: list[str | Path], *, check: bool = False, **kwargs: object) -> tuple[float, str]:
    """Wall seconds and output (stdout, then stderr) of ``command``.

    With ``check``, a failure ends the run with the command and its output.
    """
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if check and done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, command))}\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stdout + done.stderr


def run(command: list[str | Path], **kwargs: object) -> float:
    """Runs a command (failing loudly) and returns its wall time in seconds."""
    return timed(command, check=True, **kwargs)[0]


def output(command: list[str | Path]) -> str:
    """A command's standard output."""
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def copy_tree(destination: Path) -> Path:
    """A copy of the checkout's tracked files (what a clone holds), without touching it."""
    for name in output(["git", "-C", ROOT, "ls-files"]).splitlines():
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


def baseline_tree(destination: Path) -> Path:
    """A copy of the checkout with the original design's files laid over it.

    From ``benchmarks/baseline/``: its Dockerfile, .dockerignore, project file and lock.
    """
    tree = copy_tree(destination)
    for name in ("Dockerfile", "pyproject.toml", "uv.lock"):
        shutil.copy2(BASELINE / name, tree / name)
    shutil.copy2(BASELINE / "dockerignore", tree / ".dockerignore")
    return tree


def commit_tree(tree: Path) -> Path:
    """Makes ``tree`` a git repository with one commit of all it holds.

    The build labels the image with that commit, and the suite checks the label.
    """
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "benchmark copy"], cwd=tree, check=True)
    return tree


def touch_app(tree: Path) -> None:
    """Edits one file under app/, as a developer would between two builds."""
    with (tree / "app" / "routes.py").open("a", encoding="utf-8") as routes:
        routes.write(f"\n\n# benchmark edit {time.time()}\n")


class Builds:
    """Cold and warm builds of both designs from copies of the checkout."""

    def __init__(self, docker_cli: str, workdir: Path) -> None:
        """Prepares the copies of both designs (the baseline's files over a copy of ours)."""
        self.docker = docker_cli
        self.ours = copy_tree(workdir / "ours")
        self.baseline = baseline_tree(workdir / "baseline")
        self.env = {**os.environ, "DOCKER_BUILDKIT": "1", "DOCKER": docker_cli}
        self.env["BUILDKIT_PROGRESS"] = "plain"  # each step with its time, in the output
        self.said = ""  # the last build's output: BuildKit's steps, each with its time

    def prune(self) -> None:
        """Drops all BuildKit cache: the next build is cold."""
        run([self.docker, "builder", "prune", "-af"], env=self.env)

    def build_ours(self, tag: str = OURS_TAG, flavour: str | None = None) -> float:
        """Builds the release image through the one build entry (bases: ``BASE_FLAVOUR``)."""
        env = self.env if flavour is None else {**self.env, "BASE_FLAVOUR": flavour}
        seconds, self.said = timed(
            [self.ours / "deployment" / "build-image.sh", tag], check=True, env=env
        )
        return seconds

    def build_baseline(self) -> float:
        """Builds the baseline through the same build entry, on the slim flavour's bases.

        Its base is the slim builder image: Debian's Python 3.13, as the original's public base.
        """
        env = {**self.env, "BASE_FLAVOUR": BASELINE_FLAVOUR}
        seconds, self.said = timed(
            [self.baseline / "deployment" / "build-image.sh", BASELINE_TAG], check=True, env=env
        )
        return seconds


STEP = re.compile(r"^#(\d+) (.*)$")
STEP_DONE = re.compile(r"^#(\d+) DONE ([\d.]+)s$")


def build_steps(said: str, most: int = 8) -> dict[str, float]:
    """The slowest steps of a BuildKit build, from its plain progress output, in seconds.

    Each step is named by its first line (``[builder 5/7] RUN ...``, ``exporting to image``),
    cut to 80 characters. Stages build in parallel, so the steps add up to more than the wall.
    """
    names: dict[str, str] = {}
    steps: dict[str, float] = {}
    for line in said.splitlines():
        if done := STEP_DONE.match(line):
            name = names.get(done[1], f"#{done[1]}")
            steps[name] = steps.get(name, 0.0) + float(done[2])
        elif (step := STEP.match(line)) and step[1] not in names:
            names[step[1]] = step[2][:80]
    slowest = sorted(steps.items(), key=lambda item: -item[1])[:most]
    return {name: round(seconds, 1) for name, seconds in slowest if seconds >= 0.1}


STARTUP_POLL_S = 0.01  # the start-up figure's precision: /health asked every 10 ms


def startup_and_memory(image: str, starts: int) -> tuple[float, list[float], float]:
    """Median seconds from docker run to the first 200 on /health, samples, idle MiB."""
    timings, memory = [], []
    for _ in range(starts):
        with running_service(image, TABLE, poll_s=STARTUP_POLL_S) as (container, seconds):
            timings.append(seconds)
            time.sleep(2)  # settle before reading idle memory
            stats = container.get_wrapped_container().stats(stream=False)["memory_stats"]
            memory.append((working_set(stats) or 0) / 2**20)  # cgroup v1 or v2
    return statistics.median(timings), timings, statistics.median(memory)


def image_figures(client: docker.DockerClient, tag: str, starts: int) -> dict:
    """One image's size, layers, start-up (median and samples) and idle memory."""
    median, samples, memory = startup_and_memory(tag, starts)
    return {
        "size_mb": image_mb(client, tag),
        "layers": len(client.images.get(tag).attrs["RootFS"]["Layers"]),
        "startup_s": round(median, 3),
        "startup_samples": [round(s, 3) for s in samples],
        "idle_memory_mib": round(memory, 1),
    }


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_burst(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    """One bounded wrk run (2 threads) on a loopback URL: req/s, p50/p99 ms and errors."""
    report = output(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s",
         url]
    )  # fmt: skip
    figures: dict[str, float] = {"errors": 0}
    for line in report.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = round(float(words[1]), 1)
        elif words[:1] in (["50%"], ["99%"]):
            value = words[1].rstrip("usm")
            unit = words[1][len(value) :]
            figures[f"p{words[0][:2]}_ms"] = round(float(value) * UNIT_MS[unit], 2)
        elif line.strip().startswith("Non-2xx"):
            figures["errors"] += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            figures["errors"] += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
    return figures


def one_burst(url: str, params: dict[str, str], seconds: float, concurrency: int) -> dict:
    """One wrk run on ``url`` with ``params`` as its query."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return wrk_burst(f"{url}?{query}" if query else url, seconds, concurrency)


def load_generator() -> str:
    """wrk, installed by ``benchmarks/load-generator.sh`` when missing; its version.

    A Python client saturates on 2 cores before the service does, so its figures would measure
    the client: without wrk, throughput is not measured at all.
    """
    found = subprocess.run(
        [ROOT / "benchmarks" / "load-generator.sh"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0 or not shutil.which("wrk"):
        raise SystemExit(
            f"no load generator: {found.stderr.strip()}\n(throughput from a Python client "
            "would measure the client, not the service: refused)"
        )
    return found.stdout.strip()


FLOOR_TAG = "modern-ml-microservices-floor:bench"
IMPORT_MODULE = "app.main"


BUSYBOX = "busybox-static=1:1.35.0-4+deb12u1+b1"  # Debian bookworm's, pinned


def static_busybox(destination: Path) -> Path:
    """Debian's static busybox (``BUSYBOX``), fetched and written to ``destination``; its path.

    A program that needs no library: the floor image here, the FROM-scratch image of
    deployment/foreign_images.py. The package is fetched and unpacked in a folder of its own,
    removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="busybox-") as fetched:
        folder = Path(fetched)
        run(["apt-get", "download", "-q", BUSYBOX], cwd=folder)
        (deb,) = folder.glob("busybox-static_*.deb")
        run(["dpkg-deb", "-x", deb, folder / "root"])
        shutil.copy2(folder / "root" / "bin" / "busybox", destination)
    return destination


def floor_image(docker_cli: str, work: Path) -> str:
    """An image of one static binary, ``FROM scratch``: the floor under every start-up.

    Running ``/busybox true`` in it costs what any container costs this engine.
    """
    folder = work / "floor"
    folder.mkdir()
    with tarfile.open(folder / "floor.tar", "w") as archive:
        archive.add(static_busybox(folder / "busybox"), arcname="busybox")
    run([docker_cli, "import", folder / "floor.tar", FLOOR_TAG])
    return FLOOR_TAG


def run_in(docker_cli: str, image: str, command: list[str]) -> list[str]:
    """The ``docker run --rm`` of ``command`` in ``image``, whatever its entrypoint, offline."""
    return [docker_cli, "run", "--rm", "--network", "none", "--entrypoint", command[0], image,
            *command[1:]]  # fmt: skip


def container_runs(docker_cli: str, image: str, command: list[str], runs: int) -> list[float]:
    """Wall seconds of ``docker run --rm`` of ``command`` in ``image``, ``runs`` times."""
    return [run(run_in(docker_cli, image, command)) for _ in range(runs)]


def parse_importtime(report: str, module: str) -> tuple[float, dict[str, float]]:
    """The cumulative ms of ``module`` in a ``-X importtime`` report, and of what it imported.

    The second value maps each module ``module`` imported directly to its cumulative ms.

    Raises:
        ValueError: the report does not list ``module``.
    """
    rows = [line.split("|") for line in report.splitlines() if line.startswith("import time:")]
    tree = [(len(r[2]) - len(r[2].lstrip()), r[2].strip(), r[1].strip()) for r in rows]
    tree = [(level, name, int(us)) for level, name, us in tree if us.isdigit()]
    at = next((i for i, (_, name, _) in enumerate(tree) if name == module), None)
    if at is None:
        raise ValueError(f"the report does not list {module}")
    # A module is listed after what it imported, each level indented 2 more.
    depth, direct = tree[at][0], {}
    for level, name, us in reversed(tree[:at]):
        if level <= depth:
            break
        if level == depth + 2:
            direct[name] = round(us / 1000, 1)
    return round(tree[at][2] / 1000, 1), direct


def import_ms(docker_cli: str, image: str, runs: int) -> tuple[float, dict[str, float]]:
    """Median ms Python spends importing ``app.main`` in ``image`` (``-X importtime``).

    With it, from the median run, the cumulative ms of each module it imports directly that
    costs 5 ms or more.
    """
    samples = []
    command = run_in(
        docker_cli, image, ["python", "-X", "importtime", "-c", f"import {IMPORT_MODULE}"]
    )
    for _ in range(runs):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        try:
            if done.returncode != 0:
                raise ValueError(f"exit {done.returncode}")
            samples.append(parse_importtime(done.stderr, IMPORT_MODULE))
        except ValueError as exc:
            raise SystemExit(
                f"import {IMPORT_MODULE} failed in {image} ({exc}): {done.stderr[-800:]}"
            ) from None
    samples.sort(key=lambda sample: sample[0])
    total, direct = samples[len(samples) // 2]
    return total, {name: ms for name, ms in direct.items() if ms >= 5}


STRUCTURE_TEST = ROOT / "benchmarks" / "anchors" / "structure-test.yaml"
# Sections of the table that need the build context or the deployment files: the anchors
# verify an image alone, so the verification row runs the plugin on the image alone too.
NOT_IMAGE_ALONE = ("build", "deployment")


def verify_with_plugin(tag: str, folder: Path, select: str = "") -> dict:
    """The plugin's generic checks on ``tag`` alone, in one process, as a team runs them.

    In ``folder`` (made here), holding only the table (this repository's, less the sections
    that need the build context or deployment files), ``pytest --pyargs image_checks --image
    TAG``, with no other pytest plugin loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``, the plugin
    by ``-p``): as in a virtual environment holding the plugin alone, not this repository's,
    whose other plugins (hypothesis, schemathesis, pytest-httpx) take a second to import.
    ``select``, a ``-m`` expression, keeps some of the checks.
    """
    import tomlkit

    folder.mkdir()
    table = tomlkit.parse((ROOT / "pyproject.toml").read_text())["tool"]["image-checks"]
    for section in NOT_IMAGE_ALONE:
        table.pop(section, None)
    (folder / "image-checks.toml").write_text(tomlkit.dumps({"tool": {"image-checks": table}}))
    report = folder / "junit.xml"
    seconds, said = timed(
        ["uv", "run", "--frozen", "--project", ROOT, "pytest", "-p", "image_checks.plugin",
         "--pyargs", "image_checks", "-q", "-p", "no:cacheprovider", "--rootdir", folder,
         f"--image={tag}", "--image-table=image-checks.toml",
         f"--image-reports={folder / 'reports'}", f"--junitxml={report}",
         *(["-m", select] if select else [])],
        cwd=folder, env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )  # fmt: skip
    if not report.exists():
        raise SystemExit(f"the plugin wrote no report on {tag}:\n{said[-2000:]}")
    ran = [
        (case.get("name", ""), float(case.get("time", 0)), case.find("failure") is not None)
        for case in ET.parse(report).getroot().iter("testcase")  # noqa: S314 - pytest's own
        if case.find("skipped") is None
    ]
    slowest = sorted(ran, key=lambda case: -case[1])[:8]
    return {
        "seconds": round(seconds, 2),
        "properties": len(ran),
        "failed": sum(failed for _, _, failed in ran),
        "slowest_s": {name: round(t, 2) for name, t, _ in slowest},
    }


def dive_rules(said: str) -> tuple[int, int]:
    """The rules ``dive --ci`` checked (those not skipped) and how many failed.

    From its summary line, ``Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0]
    [Skipped:1]``, printed in colour.

    Raises:
        ValueError: the output has no summary.
    """
    counts = dict(re.findall(r"\[(\w+):(\d+)\]", re.sub(r"\x1b\[[0-9;]*m", "", said)))
    if "Total" not in counts:
        raise ValueError("no result line")
    return int(counts["Total"]) - int(counts.get("Skipped", 0)), int(counts.get("Failed", 0))


ANCHORS = ("container-structure-test", "dive", "hadolint")  # the bench group's, in uv.lock


def anchors_missing() -> list[str]:
    """The anchor tools not on PATH (they come with ``uv run --group bench``)."""
    return [tool for tool in ANCHORS if not shutil.which(tool)]


def verify_with_anchors(tag: str) -> dict[str, dict]:
    """The anchor tools on ``tag``, each as a process: what each checks and how long it takes.

    container-structure-test (``benchmarks/anchors/structure-test.yaml``: files, metadata, one
    command), ``dive --ci`` (its enabled rules) and hadolint (the Dockerfile, one property).
    """
    rows: dict[str, dict] = {}
    seconds, said = timed(
        ["container-structure-test", "test", "--image", tag, "--config", STRUCTURE_TEST,
         "--output", "json"]
    )  # fmt: skip
    verdict = json.loads(next(line for line in said.splitlines() if line.startswith("{")))
    rows["container-structure-test"] = {
        "seconds": round(seconds, 2), "properties": verdict["Total"],
        "failed": verdict["Fail"],
    }  # fmt: skip
    seconds, said = timed(["dive", "--ci", "--source", "docker", tag])
    try:
        checked, failed = dive_rules(said)
    except ValueError as exc:
        raise SystemExit(f"dive --ci on {tag}: {exc}:\n{said[-1000:]}") from None
    rows["dive --ci"] = {"seconds": round(seconds, 2), "properties": checked, "failed": failed}
    seconds, said = timed(["hadolint", "--config", ROOT / ".hadolint.yaml", ROOT / "Dockerfile"])
    rows["hadolint"] = {"seconds": round(seconds, 2), "properties": 1, "failed": int(bool(said))}
    return rows


PLUGIN = "pytest-image-checks"
# The plugin's checks in two parts, each a run of its own (the marker is the plugin's).
PLUGIN_PARTS = {
    f"{PLUGIN}, reading the image only": "not image_checks_runs",
    f"{PLUGIN}, starting the image": "image_checks_runs",
}


def verification(tag: str, work: Path, parts: bool = True) -> dict:
    """The plugin against the anchors on the same image: seconds per property checked.

    The plugin in one process (its generic checks share one export and one container, and run
    whole on one worker under xdist too); then, with ``parts``, its checks that only read the
    image and those that start it (a container, or a browser on one), each in a run of its own,
    so that the inherently slower part is named; the anchors one after the other.
    """
    anchors = verify_with_anchors(tag)
    spent = sum(row["seconds"] for row in anchors.values())
    checked = sum(row["properties"] for row in anchors.values())
    per_anchors = spent / max(checked, 1)
    plugin = {PLUGIN: verify_with_plugin(tag, work / "verify-plugin")}
    if parts:
        for number, (name, select) in enumerate(PLUGIN_PARTS.items(), start=1):
            plugin[name] = verify_with_plugin(tag, work / f"verify-plugin-part-{number}", select)
        split = [plugin[name]["properties"] for name in PLUGIN_PARTS]
        if sum(split) != plugin[PLUGIN]["properties"] or not all(split):
            raise SystemExit(
                f"the plugin's two parts checked {split} properties, the whole run "
                f"{plugin[PLUGIN]['properties']}: the image_checks_runs marker splits them wrongly"
            )
    for row in plugin.values():
        row["s_per_property"] = round(row["seconds"] / max(row["properties"], 1), 3)
        row["vs_anchors"] = round(row["s_per_property"] / per_anchors, 2)
    return {**plugin, **anchors, "anchors_s_per_property": round(per_anchors, 3)}


def throughput(image: str, seconds: float, concurrency: int, repeats: int) -> dict[str, dict]:
    """Median req/s and latency on /health and /api/search (stand-in upstream), loopback only."""
    service = load_service()
    figures: dict[str, dict] = {}
    with private_network() as network, running_stand_in(image, network):
        env = {**upstream_env(service), "UPSTREAM_TIMEOUT": "10"}
        with running_service(image, TABLE, env=env, network=network) as (container, _):
            for name, path, params in (
                ("health", "/health", {}),
                ("search", "/api/search", {"title": "sunflowers"}),
            ):
                url = container.url(path)
                one_burst(url, params, 2, concurrency)  # warm-up
                runs = [one_burst(url, params, seconds, concurrency) for _ in range(repeats)]
                figures[name] = {
                    key: statistics.median(r[key] for r in runs)
                    for key in ("rps", "p50_ms", "p99_ms", "errors")
                }
                figures[name]["samples_rps"] = [r["rps"] for r in runs]
    return figures


def gate_time(workdir: Path, docker_cli: str) -> float:
    """Wall time of deployment/app-build.sh after an edit under app/, the build cache warm.

    One run: the gate's build is the part the cache changes, and the cold and warm build rows
    measure it; the rest (lint, the suites, the release) costs the same either way.
    """
    tree = commit_tree(copy_tree(workdir / "gate"))
    env = {
        **os.environ,
        "DOCKER": docker_cli,
        "REPORT_DIR": str(workdir / "gate-reports"),
        # The copy's release goes to a repository of its own, not over the checkout's release.
        "RELEASE_REPOSITORY": "benchmark/modern-ml-microservices-app",
    }
    touch_app(tree)
    return round(run([tree / "deployment" / "app-build.sh"], cwd=tree, env=env), 1)


def measure(args: argparse.Namespace) -> dict:
    """Runs every benchmark once and returns the figures."""
    if missing := anchors_missing():
        raise SystemExit(
            f"{', '.join(missing)} not found: the verification row runs the anchor tools; "
            "run the benchmark with `uv run --group bench python benchmarks/run.py`"
        )
    docker_cli = output([ROOT / "deployment" / "docker-client.sh"]).strip()
    client = docker.from_env()
    generator = load_generator()
    results: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {_memory_gib()} GiB, {platform.machine()}",
        "commit": output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip(),
        "engine": engine_row(engine_facts(client)),
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        log("the container floor: a static binary FROM scratch (Debian's busybox-static)")
        floor = floor_image(docker_cli, Path(tmp))
        floor_s = statistics.median(
            container_runs(docker_cli, floor, ["/busybox", "true"], args.starts)
        )
        builds = Builds(docker_cli, Path(tmp))
        rows: dict[str, dict] = {"ours": {}, "baseline": {}}
        for name, build, tree in (
            ("ours", builds.build_ours, builds.ours),
            ("baseline", builds.build_baseline, builds.baseline),
        ):
            log(f"{name}: cold build (BuildKit cache pruned)")
            builds.prune()
            rows[name]["cold_build_s"] = round(build(), 1)
            rows[name]["cold_build_steps_s"] = build_steps(builds.said)
            log(f"{name}: warm rebuild after one edit under app/")
            touch_app(tree)
            rows[name]["warm_build_s"] = round(build(), 1)
        log("ours: cold build on the baseline's bases (slim: Python 3.13 already in the builder)")
        builds.prune()
        rows["ours"]["cold_build_same_bases_s"] = round(
            builds.build_ours(SAME_BASES_TAG, BASELINE_FLAVOUR), 1
        )
        rows["baseline"]["cold_build_same_bases_s"] = rows["baseline"]["cold_build_s"]
        for name, tag in (("ours", OURS_TAG), ("baseline", BASELINE_TAG)):
            log(f"{name}: start-up and idle memory ({args.starts} starts)")
            rows[name].update(image_figures(client, tag, args.starts))
            log(f"{name}: Python's own start and import {IMPORT_MODULE} ({args.starts} runs)")
            rows[name]["container_floor_s"] = round(floor_s, 3)
            rows[name]["python_start_s"] = round(
                statistics.median(container_runs(docker_cli, tag, ["python", "-c", "pass"],
                                                 args.starts)), 3
            )  # fmt: skip
            rows[name]["import_app_ms"], rows[name]["import_app_modules_ms"] = import_ms(
                docker_cli, tag, args.starts
            )
            log(f"{name}: throughput ({args.repeats} x {args.seconds} s per endpoint)")
            for endpoint, figures in throughput(
                tag, args.seconds, args.concurrency, args.repeats
            ).items():
                rows[name][f"{endpoint}_rps"] = figures["rps"]
                rows[name][f"{endpoint}_p50_ms"] = figures["p50_ms"]
                rows[name][f"{endpoint}_p99_ms"] = figures["p99_ms"]
                rows[name][f"{endpoint}_errors"] = figures["errors"]
                rows[name][f"{endpoint}_rps_samples"] = figures["samples_rps"]
        log("ours: verification, the plugin on the image alone against the anchor tools")
        results["verification"] = verification(OURS_TAG, Path(tmp), parts=not args.quick)
        log(f"ours on the {BASELINE_FLAVOUR} bases: start-up ({args.starts} starts)")
        results["flavours"] = flavour_figures(client, rows, args.starts)
        if args.gate:
            log("ours: the gate, after an edit under app/ (build cache warm)")
            rows["ours"]["gate_warm_s"] = gate_time(Path(tmp), docker_cli)
        for tag in (OURS_TAG, SAME_BASES_TAG, BASELINE_TAG, FLOOR_TAG):
            client.images.remove(tag, force=True)
    results.update(rows)
    results["ours"]["import_app_budget_ms"] = import_budget_ms(results)
    results["concurrency"] = args.concurrency
    results["load_generator"] = f"{generator}, 2 threads"
    return results


def image_mb(client: docker.DockerClient, tag: str) -> float:
    """The bytes of every layer's files, uncompressed (as the image checks measure it).

    ``docker image inspect``'s ``Size`` is the compressed content on the containerd image store.
    """
    return round(sum(layer.size for layer in analyze_layers(client, tag).layers) / 1e6, 1)


def _memory_gib() -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        return round(int(meminfo.readline().split()[1]) / 2**20)


# (key, label, unit, lower is better, target ratio ours/baseline)
FIGURES = [
    ("size_mb", "image size", "MB", True, 0.4),
    ("layers", "layers", "", True, None),
    ("cold_build_s", "cold build", "s", True, None),
    ("cold_build_same_bases_s", "cold build, both on the slim bases", "s", True, None),
    ("warm_build_s", "warm rebuild (one app edit)", "s", True, 0.5),
    ("startup_s", "start-up to first 200 (median)", "s", True, 0.5),
    ("container_floor_s", "container floor: docker run --rm, a static binary", "s", True, None),
    ("python_start_s", "docker run --rm python -c pass", "s", True, None),
    ("import_app_ms", "import app.main (python -X importtime)", "ms", True, None),
    ("idle_memory_mib", "idle memory", "MiB", True, None),
    ("health_rps", "/health throughput", "req/s", False, 1.0),
    ("health_p50_ms", "/health p50", "ms", True, None),
    ("health_p99_ms", "/health p99", "ms", True, None),
    ("search_rps", "/api/search throughput", "req/s", False, 1.0),
    ("search_p50_ms", "/api/search p50", "ms", True, None),
    ("search_p99_ms", "/api/search p99", "ms", True, None),
    ("gate_warm_s", "gate, after an app edit (build cache warm)", "s", True, None),
]


FLAVOUR_LABEL = "org.modern-ml-microservices.base-flavour"


def flavour_figures(client: docker.DockerClient, rows: dict[str, dict], starts: int) -> dict:
    """Ours on each base flavour the run built, beside the baseline: size, layers, start-up.

    The run's own image is on the default bases (``BASE_FLAVOUR``, its label says which), and
    its build on the baseline's bases is the slim flavour: both are measured here, start-up
    side by side with the baseline's (the public bases cannot be pulled here; their stand-in
    is made from the same Debian packages). Written to ``benchmarks/flavours.json``.
    """
    keys = ("size_mb", "layers", "startup_s", "startup_samples")
    default = client.images.get(OURS_TAG).labels.get(FLAVOUR_LABEL, "default")
    slim = image_figures(client, SAME_BASES_TAG, starts)
    figures = {
        "baseline": {key: rows["baseline"][key] for key in keys},
        default: {key: rows["ours"][key] for key in keys},
        BASELINE_FLAVOUR: {key: slim[key] for key in keys},
    }
    for name in (default, BASELINE_FLAVOUR):
        figures[name]["startup_vs_baseline"] = round(
            figures[name]["startup_s"] / figures["baseline"]["startup_s"], 2
        )
    return figures


def platforms(args: argparse.Namespace) -> dict:
    """Ours for each platform, in one run: cold build, size, start-up and idle memory.

    The platform that is not this machine's runs under QEMU (deployment/emulation.sh, started
    here when no emulator is registered, and undone at the end): its figures are what
    emulation costs on this machine, each beside the native one's. Needs buildx (Docker 28).
    The suite's time on each platform is its gate's (``gate_seconds`` in the gate's report):
    CI runs both gates, so the benchmark does not run the suite a second time.
    """
    docker_cli = output([ROOT / "deployment" / "docker-client.sh"]).strip()
    if subprocess.run([docker_cli, "buildx", "version"], capture_output=True).returncode != 0:
        raise SystemExit(
            '--platforms needs a docker client with buildx: eval "$(deployment/engines.sh start'
            ' docker-28)" first'
        )
    client = docker.from_env()
    emulation = ROOT / "deployment" / "emulation.sh"
    started_here = subprocess.run([emulation, "status"], capture_output=True).returncode != 0
    if started_here:
        run([emulation, "start"])
    rows: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            builds = Builds(docker_cli, Path(tmp))
            for target in PLATFORMS:
                arch = target.split("/")[1]
                tag = f"{OURS_TAG}-{arch}"
                env = {**builds.env, "PLATFORM": target}
                log(f"{target}: cold build (BuildKit cache pruned)")
                builds.prune()
                build_s = run([builds.ours / "deployment" / "build-image.sh", tag], env=env)
                log(f"{target}: start-up ({args.starts} starts)")
                median, samples, memory = startup_and_memory(tag, args.starts)
                rows[target] = {
                    "architecture": client.images.get(tag).attrs["Architecture"],
                    "cold_build_s": round(build_s, 1),
                    "size_mb": image_mb(client, tag),
                    "startup_s": round(median, 3),
                    "startup_samples": [round(s, 3) for s in samples],
                    "idle_memory_mib": round(memory, 1),
                }
                client.images.remove(tag, force=True)
    finally:
        if started_here:
            run([emulation, "stop"])
    native = engine_facts(client)["platform"]
    for target, row in rows.items():
        row["emulated"] = target != native
        for key in ("cold_build_s", "startup_s", "size_mb"):
            row[f"{key.removesuffix('_s')}_vs_native"] = round(row[key] / rows[native][key], 2)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {_memory_gib()} GiB, {platform.machine()}",
        "commit": output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip(),
        "engine": engine_row(engine_facts(client)),
        **rows,
    }


STARTUP_TARGET = next(f[4] for f in FIGURES if f[0] == "startup_s")


def import_budget_ms(results: dict) -> float | None:
    """What the start-up target leaves for ``import app.main``, in ms.

    The target start-up (``STARTUP_TARGET`` times the baseline's) less what ours spends
    outside the import (its start-up less its import time): the budget the imports must fit
    for the target to be met; None without those figures.
    """
    ours, base = results["ours"], results["baseline"]
    if None in (ours.get("startup_s"), ours.get("import_app_ms"), base.get("startup_s")):
        return None
    outside = ours["startup_s"] - ours["import_app_ms"] / 1000
    return round((STARTUP_TARGET * base["startup_s"] - outside) * 1000, 1)


def table(results: dict) -> str:
    """A Markdown table: ours, baseline, ratio, target."""
    lines = [
        "| Figure | Ours | Baseline | Ours/baseline | Target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for key, label, unit, lower, target in FIGURES:
        ours, base = results["ours"].get(key), results["baseline"].get(key)
        if ours is None:
            continue
        ratio = f"{ours / base:.2f}x" if base else "n/a"
        goal = f"{'<=' if lower else '>='} {target}x" if target else ""
        if target and base:
            met = ours / base <= target if lower else ours / base >= target
            goal += " met" if met else " NOT met"
        if key == "import_app_ms" and (budget := import_budget_ms(results)) is not None:
            met = "met" if ours <= budget else "NOT met"
            goal = f"<= {budget} ms (what {STARTUP_TARGET}x start-up leaves) {met}"
        base_text = f"{base} {unit}" if base is not None else "no equivalent"
        lines.append(f"| {label} | {ours} {unit} | {base_text} | {ratio} | {goal} |")
    return "\n".join(lines)


def build_steps_table(results: dict) -> str:
    """A Markdown table: the slowest steps of each design's cold build."""
    lines = ["| Design | Step (BuildKit, cache pruned) | Seconds |", "| --- | --- | ---: |"]
    for name in ("ours", "baseline"):
        for step, seconds in results[name].get("cold_build_steps_s", {}).items():
            lines.append(f"| {name} | `{step.replace('|', '/')}` | {seconds} |")
    return "\n".join(lines)


def verification_table(results: dict) -> str:
    """A Markdown table: each verifier of the same image, its properties and time per property."""
    found = results.get("verification")
    if not found:
        return ""
    per_anchors = found["anchors_s_per_property"]
    lines = [
        "| Verifier (same image, each a process) | Properties checked | Wall | Per property |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, row in found.items():
        if isinstance(row, dict):
            per = row["seconds"] / max(row["properties"], 1)
            versus = f" ({per / per_anchors:.2f}x the anchors)" if "vs_anchors" in row else ""
            lines.append(
                f"| {name} | {row['properties']} | {row['seconds']} s | {per:.3f} s{versus} |"
            )
    lines.append(f"| the anchors together | | | {per_anchors:.3f} s |")
    return "\n".join(lines)


def chart(results: dict) -> None:
    """Bar chart of ours/baseline per figure, with 1.0 and the targets marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [f for f in FIGURES if results["baseline"].get(f[0]) and results["ours"].get(f[0])]
    ratios = [results["ours"][f[0]] / results["baseline"][f[0]] for f in shown]
    colors = [
        "tab:green" if (r <= 1) == f[3] else "tab:red" for r, f in zip(ratios, shown, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.barh([f[1] for f in shown], ratios, color=colors)
    ax.axvline(1.0, color="black", linewidth=1)
    for index, figure in enumerate(shown):
        if figure[4]:
            ax.plot([figure[4]] * 2, [index - 0.4, index + 0.4], color="tab:blue", linewidth=2)
    ax.set_xlabel("ours / baseline (green: better; blue tick: target)")
    ax.set_title(f"ours vs original design, {results['date']}, {results['machine']}", fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)


def write_report(results: dict) -> None:
    """Writes benchmarks/RESULTS.md: the table of this run, with what it measured."""
    REPORT.write_text(
        "# Benchmarks: ours against the original design\n\n"
        "Written by `uv run --group bench python benchmarks/run.py` (see docs/benchmarks.md for "
        "what each figure is). Nothing asserts a timing: the figures carry the noise of a "
        "shared 2-core machine, and ratios within about 0.95-1.05x are parity.\n\n"
        f"Measured {results['date']} on {results['machine']}, {results['engine']} "
        f"(commit {results['commit']}, "
        f"{results['concurrency']} concurrent loopback connections from "
        f"{results['load_generator']}):\n\n{table(results)}\n\n"
        "![ours/baseline ratios](results.png)\n\n"
        "## The cold builds, step by step\n\n"
        "Each design's slowest steps, from BuildKit's own timing of the cold build above (stages "
        "build in parallel, so steps add up to more than the wall time):\n\n"
        f"{build_steps_table(results)}\n\n"
        "## Verification speed: the plugin against the anchor tools\n\n"
        "The plugin's generic checks on the release image alone (the table less its build and "
        "deployment sections), against container-structure-test, `dive --ci` and hadolint on "
        "the same image, in the same run (docs/benchmarks.md):\n\n"
        f"{verification_table(results)}\n",
        encoding="utf-8",
    )


def main() -> int:
    """Parses options, measures, reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter runs (a smoke test); writes nothing"
    )
    parser.add_argument(
        "--gate",
        action="store_true",
        help="also time the gate after an app edit (its own report gives each run's time)",
    )
    parser.add_argument(
        "--platforms",
        action="store_true",
        help="only ours for each platform (one under emulation): build, size, start-up",
    )
    args = parser.parse_args()
    args.starts, args.repeats, args.seconds = (2, 1, 3) if args.quick else (5, 3, 8)
    args.concurrency = 32
    if args.platforms:
        figures = platforms(args)
        PLATFORM_RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"on {figures['engine']}, {figures['machine']}")
        for target in PLATFORMS:
            row = figures[target]
            print(
                f"{target:12} {'emulated' if row['emulated'] else 'native':8} cold build "
                f"{row['cold_build_s']:6.1f} s ({row['cold_build_vs_native']}x)  start-up "
                f"{row['startup_s']:.2f} s ({row['startup_vs_native']}x)  {row['size_mb']} MB"
            )
        return 0
    results = measure(args)
    print(table(results))
    print("\nper base flavour:")
    for name, row in results["flavours"].items():
        versus = row.get("startup_vs_baseline")
        print(
            f"{name:9} {row['size_mb']:6.1f} MB {row['layers']:3} layers  start-up "
            f"{row['startup_s']:.3f} s" + (f" ({versus:.2f}x the baseline's)" if versus else "")
        )
    print(f"\n{build_steps_table(results)}\n\n{verification_table(results)}")
    if args.quick:  # a smoke run's figures are too noisy to replace the recorded ones
        print(
            "\n--quick: nothing written; results.json, the chart and RESULTS.md keep the last run"
        )
        return 0
    flavour_rows = results.pop("flavours")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    run_facts = {key: results[key] for key in ("date", "commit", "engine")}
    FLAVOUR_RESULTS.write_text(
        json.dumps({**run_facts, **flavour_rows}, indent=2) + "\n", encoding="utf-8"
    )
    chart(results)
    write_report(results)
    written = (RESULTS, FLAVOUR_RESULTS, CHART, REPORT)
    print(f"\nwritten: {', '.join(str(path.relative_to(ROOT)) for path in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
