"""File ownership, modes and bytecode of the image (what container-structure-test checks)."""

from __future__ import annotations

import posixpath
import stat
import tarfile
from collections.abc import Iterable

import pytest

from image_checks.filesystem import ImageFilesystem
from image_checks.table import Table

PYC_UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked
python = pytest.mark.image_checks_section("python")


# Created by the container runtime, not shipped in the image.
RUNTIME_PATHS = ("dev", "proc", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf", ".dockerenv")


def _shipped(path: str) -> bool:
    return not any(path == p or path.startswith(p + "/") for p in RUNTIME_PATHS)


def _under(image_files: ImageFilesystem, prefix: str) -> dict:
    return {
        p: m for p, m in image_files.members.items() if p == prefix or p.startswith(prefix + "/")
    }


def test_no_setuid_or_setgid_files(image_files: ImageFilesystem) -> None:
    flagged = sorted(
        f"/{path} ({stat.filemode(m.mode)})"
        for path, m in image_files.members.items()
        if m.mode & (stat.S_ISUID | stat.S_ISGID)
    )
    assert not flagged, f"setuid/setgid files allow privilege escalation: {flagged}"


def test_only_sticky_directories_are_world_writable(image_files: ImageFilesystem) -> None:
    # A world-writable directory is safe only with the sticky bit (/tmp, and /var/tmp and
    # /var/lock on distroless): nobody can remove or replace another user's files there.
    writable = sorted(
        f"/{path} ({stat.filemode(m.mode)})"
        for path, m in image_files.members.items()
        if m.mode & stat.S_IWOTH
        and not m.issym()
        and _shipped(path)
        and not (m.isdir() and m.mode & stat.S_ISVTX)
    )
    assert not writable, f"world-writable paths that are not sticky directories: {writable[:20]}"


def test_app_and_venv_belong_to_root_and_are_read_only_for_the_service_user(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    workdir = image_table.workdir.strip("/")
    wrong = sorted(
        f"/{path} ({m.uid}:{m.gid} {stat.filemode(m.mode)})"
        for path, m in _under(image_files, workdir).items()
        if not m.issym() and (m.uid != 0 or m.gid != 0 or m.mode & (stat.S_IWGRP | stat.S_IWOTH))
    )
    assert not wrong, (
        f"{image_table.workdir} must be owned by root and writable by nobody else, so the "
        f"service (UID {image_table.user}) cannot rewrite its own code: {wrong[:20]}"
    )


def _code(image_files: ImageFilesystem, table: Table) -> dict[str, tarfile.TarInfo]:
    """Every path under the table's ``python.code-paths``."""
    assert table.python is not None
    return {
        path: member
        for folder in table.python.code_paths
        for path, member in _under(image_files, table.in_workdir(folder)).items()
    }


@python
def test_app_files_have_the_expected_modes(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    code = _code(image_files, image_table)
    wrong = sorted(
        f"/{path} {stat.filemode(m.mode)}"
        for path, m in code.items()
        if (m.isdir() and stat.S_IMODE(m.mode) != 0o755)
        or (m.isfile() and stat.S_IMODE(m.mode) != 0o644)
    )
    assert image_table.python is not None
    assert code, f"the image has none of the code paths {list(image_table.python.code_paths)}"
    assert not wrong, f"code files must be 0644 and folders 0755: {wrong[:20]}"


@python
def test_app_bytecode_was_compiled_in_the_build(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    tag = _cache_tag(image_table)
    code = _code(image_files, image_table)
    sources, missing = _sources_without_bytecode(image_files, code, tag)
    assert sources, "no Python sources found under the code paths"
    assert not missing, f"modules of the code paths without {tag} bytecode: {missing}"
    pycs = [p for p in code if p.endswith(".pyc")]
    foreign = [p for p in pycs if f".{tag}." not in p]
    assert not foreign, f"bytecode of another interpreter (from the host?): {foreign}"
    unchecked = [p for p in pycs if _pyc_flags(image_files.read(p)) != PYC_UNCHECKED_HASH]
    assert not unchecked, (
        f"bytecode not compiled by the build (expected unchecked-hash .pyc): {unchecked}"
    )


@python
def test_dependencies_are_compiled_to_bytecode(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    assert image_table.python is not None
    version = image_table.python.version
    site = f"{image_table.venv_path()}/lib/python{version}/site-packages"
    sources, missing = _sources_without_bytecode(
        image_files, _under(image_files, site), _cache_tag(image_table)
    )
    assert sources, f"no dependencies found under /{site}"
    assert not missing, (
        f"{len(missing)} of {len(sources)} dependency modules lack bytecode (compileall in the "
        f"builder): {missing[:10]}"
    )


@python
def test_stdlib_is_compiled_to_bytecode_that_matches_its_sources(
    image_files: ImageFilesystem, image_table: Table
) -> None:
    # Without it every start compiles the stdlib it imports (distroless ships no .pyc): the
    # build compiles what its base lacks. Timestamp .pyc must record the source's mtime and
    # size, or Python ignores them and compiles again.
    assert image_table.python is not None
    version = image_table.python.version
    found = sorted(
        p.removesuffix("/os.py")
        for p in image_files.members
        if p.endswith(f"lib/python{version}/os.py") and "/site-packages/" not in p
    )
    assert found, f"the image has no Python {version} standard library (no lib/python{version})"
    stdlib = found[0]
    tag = _cache_tag(image_table)
    sources = [
        p for p in _under(image_files, stdlib) if p.endswith(".py") and "-packages/" not in p
    ]
    assert sources, f"no stdlib sources found under /{stdlib}"
    missing, stale = [], []
    for source in sources:
        pyc = _pyc_path(source, tag)
        if pyc not in image_files.members:
            missing.append(source)
            continue
        header = image_files.read(pyc)[:16]
        member = _resolved(image_files, source)
        if _pyc_flags(header) == 0 and (
            int.from_bytes(header[8:12], "little") != int(member.mtime) & 0xFFFFFFFF
            or int.from_bytes(header[12:16], "little") != member.size & 0xFFFFFFFF
        ):
            stale.append(source)
    assert not missing, (
        f"{len(missing)} of {len(sources)} stdlib modules lack {tag} bytecode (the "
        f"stdlib-bytecode stage compiles what the base lacks): {missing[:10]}"
    )
    assert not stale, f"stdlib bytecode that does not match its source: {stale[:10]}"


def _resolved(image_files: ImageFilesystem, path: str) -> tarfile.TarInfo:
    """The member ``path`` names, following symbolic links (as Python's stat of a source does)."""
    member = image_files.members[path]
    for _ in range(10):
        if not member.issym():
            return member
        target = member.linkname
        path = posixpath.normpath(
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.join(posixpath.dirname(path), target)
        )
        member = image_files.members[path]
    return member


def _cache_tag(table: Table) -> str:
    assert table.python is not None
    return f"cpython-{table.python.version.replace('.', '')}"


def _sources_without_bytecode(
    image_files: ImageFilesystem, paths: Iterable[str], tag: str
) -> tuple[list[str], list[str]]:
    """The .py files among ``paths``, and those of them without a ``tag`` .pyc."""
    sources = [p for p in paths if p.endswith(".py")]
    return sources, [p for p in sources if _pyc_path(p, tag) not in image_files.members]


def _pyc_path(source: str, tag: str) -> str:
    folder, _, name = source.rpartition("/")
    return f"{folder}/__pycache__/{name.removesuffix('.py')}.{tag}.pyc"


def _pyc_flags(data: bytes) -> int:
    return int.from_bytes(data[4:8], "little")
