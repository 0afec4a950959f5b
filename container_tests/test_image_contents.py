"""The image's filesystem: the interpreter, the venv and the app, nothing else."""

from __future__ import annotations

import fnmatch

from container_tests.containers import ServiceContainer
from container_tests.expectations import Expectations
from container_tests.filesystem import ImageFilesystem


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
    found = sorted(
        path
        for path in image_files.members
        if any(
            fnmatch.fnmatch(part, pattern)
            for part in path.split("/")
            for pattern in expect.image_excluded
        )
    )
    assert not found, f"files that must never ship are in the image: {found[:20]}"


def test_image_has_no_compiler_or_package_manager(
    image_files: ImageFilesystem,
) -> None:
    tools = ["gcc", "cc", "g++", "make", "apt-get", "dpkg", "pip", "uv", "sh", "bash"]
    found = sorted(
        path
        for path in image_files.members
        if any(path.endswith(f"bin/{tool}") for tool in tools)
        and not path.startswith("app/.venv/lib")
    )
    assert not found, f"build or shell tools reached the runtime image: {found}"


def test_no_dev_dependency_is_importable(service: ServiceContainer, expect: Expectations) -> None:
    probe = (
        "import importlib.util, sys; "
        f"found = [m for m in {list(expect.dev_packages)!r} if importlib.util.find_spec(m)]; "
        "print(' '.join(found)); sys.exit(1 if found else 0)"
    )
    code, found = service.python(probe)
    assert code == 0, f"dev dependencies are installed in the image: {found}; sync with --no-dev"


def test_the_app_imports_as_the_runtime_user(
    service: ServiceContainer, expect: Expectations
) -> None:
    code, output = service.python("import app.main, os; print(os.getuid())")
    assert code == 0, f"importing the app failed: {output}"
    assert output.splitlines()[-1] == str(expect.uid), f"the app ran as UID {output}"


def test_interpreter_is_the_declared_version(
    service: ServiceContainer, expect: Expectations
) -> None:
    _, version = service.python("import sys; print('%d.%d' % sys.version_info[:2])")
    assert version == expect.python_version, (
        f"the image runs Python {version}, pyproject declares {expect.python_version}"
    )
