"""The image's filesystem: what the table requires, nothing it excludes, no build tools; for a
Python image, the declared interpreter and no dev-only dependency."""

from __future__ import annotations

import fnmatch

import pytest

from image_checks.containers import ServiceContainer
from image_checks.facts import Facts
from image_checks.filesystem import ImageFilesystem
from image_checks.lockfile import dev_only
from image_checks.sbom import canonical
from image_checks.table import Table

python = pytest.mark.image_checks_section("python")


def test_image_holds_the_app_and_its_venv(image_files: ImageFilesystem, image_table: Table) -> None:
    missing = [
        path
        for path in image_table.required_paths
        if image_table.in_workdir(path) not in image_files.members
    ]
    assert not missing, (
        f"the image lacks {missing} under {image_table.workdir}: check the COPY steps"
    )


def test_workdir_holds_only_the_app_and_the_venv(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    prefix = f"{image_table.in_workdir('')}/".lstrip("/")
    top = {
        path[len(prefix) :].split("/")[0] for path in image_files.members if path.startswith(prefix)
    }
    extra = sorted(top - image_table.workdir_allowed)
    assert not extra, (
        f"{image_table.workdir} holds {extra}; only {sorted(image_table.workdir_allowed)} "
        "belong in the image (copy what runs from a builder stage, not the whole context)"
    )


def test_image_holds_no_excluded_file(image_files: ImageFilesystem, image_table: Table) -> None:
    def excluded(path: str, pattern: str) -> bool:
        if "/" in pattern:
            return fnmatch.fnmatch(path, f"*{pattern}")
        return any(fnmatch.fnmatch(part, pattern) for part in path.split("/"))

    found = sorted(
        path
        for path in image_files.members
        if any(excluded(path, pattern) for pattern in image_table.image_excluded)
        and not any(
            fnmatch.fnmatch(path, allowed) for allowed in image_table.image_excluded_allowed
        )
    )
    assert not found, f"files that must never ship are in the image: {found[:20]}"


def test_image_has_no_compiler_or_package_manager(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    found = sorted(
        path
        for path in image_files.members
        if any(path.endswith(f"bin/{tool}") for tool in image_table.forbidden_tools)
        and not (image_table.python and path.startswith(f"{image_table.venv_path()}/lib/"))
    )
    assert not found, f"build or shell tools reached the runtime image: {found}"


@python
@pytest.mark.image_checks_section("build")
def test_no_dev_dependency_is_installed_or_importable(
    python_probe: ServiceContainer, image_table: Table, facts: Facts
) -> None:
    # The list comes from the lock: every distribution only the dependency groups pull in, by
    # its name in the image's metadata, and by its modules where it is installed here.
    assert image_table.python is not None
    lock = image_table.lock_path()
    if not lock.is_file():
        pytest.fail(f"the build context has no {image_table.python.lock} (python.lock)",
                    pytrace=False)  # fmt: skip
    dev = dev_only(lock)
    facts.figure(
        "dev_only_distributions", len(dev.distributions),
        detail=f"dev-only wheels looked for, {len(dev.modules)} of their modules probed",
    )  # fmt: skip
    facts.detail("dev_only_not_installed_here", dev.not_installed)
    assert dev.distributions or not dev.groups, (
        f"{lock.name} has dependency groups, but no distribution only they pull in: nothing "
        "was checked"
    )
    installed = {name for name, _ in python_probe.distributions()}
    shipped = sorted(installed & {canonical(d) for d in dev.distributions})
    assert not shipped, f"dev-only distributions are installed in the image: {shipped}"
    probe = (
        "import importlib.util, sys; "
        f"found = [m for m in {dev.modules!r} if importlib.util.find_spec(m)]; "
        "print(' '.join(found)); sys.exit(1 if found else 0)"
    )
    code, found = python_probe.python(probe)
    assert code == 0, (
        f"modules of dev-only dependencies import in the image: {found}; sync with --no-dev"
    )


@python
def test_the_app_imports_as_the_runtime_user(
    python_probe: ServiceContainer, image_table: Table
) -> None:
    assert image_table.python is not None
    module = image_table.python.import_check
    code, output = python_probe.python(f"import {module}, os; print(os.getuid())")
    assert code == 0, f"importing {module} failed (exit {code}): {output[-2000:]}"
    assert output.splitlines()[-1] == str(image_table.user), f"{module} ran as UID {output}"


@python
def test_interpreter_is_the_declared_version(
    python_probe: ServiceContainer, image_table: Table
) -> None:
    assert image_table.python is not None
    code, version = python_probe.python("import sys; print('%d.%d' % sys.version_info[:2])")
    assert code == 0, f"python does not run in the image (exit {code}): {version[-500:]}"
    assert version == image_table.python.version, (
        f"the image runs Python {version}, the table declares {image_table.python.version}"
    )
