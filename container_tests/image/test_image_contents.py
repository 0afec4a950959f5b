"""The image's filesystem: the interpreter, the venv and the app, nothing else."""

from __future__ import annotations

import fnmatch

from container_tests.containers import ServiceContainer
from container_tests.expectations import ROOT, Expectations
from container_tests.facts import Facts
from container_tests.filesystem import ImageFilesystem
from container_tests.lockfile import dev_only


def _workdir(expect: Expectations) -> str:
    return expect.workdir.strip("/")


def test_image_holds_the_app_and_its_venv(
    image_files: ImageFilesystem, expect: Expectations
) -> None:
    missing = [
        path
        for path in expect.required_paths
        if f"{_workdir(expect)}/{path}" not in image_files.members
    ]
    assert not missing, f"the image lacks {missing} under {expect.workdir}: check the COPY steps"


def test_workdir_holds_only_the_app_and_the_venv(
    image_files: ImageFilesystem, expect: Expectations
) -> None:
    prefix = f"{_workdir(expect)}/"
    top = {
        path[len(prefix) :].split("/")[0] for path in image_files.members if path.startswith(prefix)
    }
    extra = sorted(top - expect.workdir_allowed)
    assert not extra, (
        f"{expect.workdir} holds {extra}; only {sorted(expect.workdir_allowed)} belong in the "
        "release image (copy the venv and app/ from the builder, not the whole context)"
    )


def test_image_holds_no_excluded_file(image_files: ImageFilesystem, expect: Expectations) -> None:
    def excluded(path: str, pattern: str) -> bool:
        if "/" in pattern:
            return fnmatch.fnmatch(path, f"*{pattern}")
        return any(fnmatch.fnmatch(part, pattern) for part in path.split("/"))

    found = sorted(
        path
        for path in image_files.members
        if any(excluded(path, pattern) for pattern in expect.image_excluded)
        and not any(fnmatch.fnmatch(path, allowed) for allowed in expect.image_excluded_allowed)
    )
    assert not found, f"files that must never ship are in the image: {found[:20]}"


def test_image_has_no_compiler_or_package_manager(
    image_files: ImageFilesystem, expect: Expectations
) -> None:
    found = sorted(
        path
        for path in image_files.members
        if any(path.endswith(f"bin/{tool}") for tool in expect.forbidden_tools)
        and not path.startswith("app/.venv/lib")
    )
    assert not found, f"build or shell tools reached the runtime image: {found}"


def test_no_dev_dependency_is_importable(service: ServiceContainer, facts: Facts) -> None:
    # The list comes from uv.lock: every distribution only the dependency groups pull in.
    dev = dev_only(ROOT / "uv.lock")
    facts.figure("dev_only_modules", len(dev.modules), detail="modules of dev-only wheels probed")
    facts.detail("dev_only_not_installed_here", dev.not_installed)
    assert dev.modules or not dev.groups, (
        "uv.lock has dependency groups, but no module of theirs was found: nothing was checked"
    )
    probe = (
        "import importlib.util, sys; "
        f"found = [m for m in {dev.modules!r} if importlib.util.find_spec(m)]; "
        "print(' '.join(found)); sys.exit(1 if found else 0)"
    )
    code, found = service.python(probe)
    assert code == 0, (
        f"modules of dev-only dependencies import in the image: {found}; sync with --no-dev"
    )


def test_the_app_imports_as_the_runtime_user(
    service: ServiceContainer, expect: Expectations
) -> None:
    code, output = service.python(f"import {expect.import_check}, os; print(os.getuid())")
    assert code == 0, f"importing the app failed: {output}"
    assert output.splitlines()[-1] == str(expect.uid), f"the app ran as UID {output}"


def test_interpreter_is_the_declared_version(
    service: ServiceContainer, expect: Expectations
) -> None:
    _, version = service.python("import sys; print('%d.%d' % sys.version_info[:2])")
    assert version == expect.python_version, (
        f"the image runs Python {version}, pyproject declares {expect.python_version}"
    )
