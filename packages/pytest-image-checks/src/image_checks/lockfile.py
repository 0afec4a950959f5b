"""What ``uv.lock`` says about dependencies.

The distributions the project's runtime dependencies pull in on a given environment (the
image's, its markers evaluated), for the check that the image holds exactly those; and the
distributions only the dependency groups (dev, bench, ...) pull in, with the modules they make
importable where they are installed here, for the check that none of them reaches the image.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker

# The environment markers of the interpreter that runs it (as packaging's default_environment),
# printed as JSON by the image's own Python: stdlib only.
ENVIRONMENT_PROBE = (
    "import json, os, platform, sys; i = sys.implementation; "
    "v = '%d.%d.%d' % i.version[:3] + ('' if i.version.releaselevel == 'final' "
    "else i.version.releaselevel[0] + str(i.version.serial)); "
    "print(json.dumps({'implementation_name': i.name, 'implementation_version': v, "
    "'os_name': os.name, 'platform_machine': platform.machine(), "
    "'platform_release': platform.release(), 'platform_system': platform.system(), "
    "'platform_version': platform.version(), 'python_full_version': platform.python_version(), "
    "'platform_python_implementation': platform.python_implementation(), "
    "'python_version': '.'.join(platform.python_version_tuple()[:2]), "
    "'sys_platform': sys.platform}))"
)


def _applies(dependency: dict[str, Any], environment: dict[str, str] | None) -> bool:
    """Whether a dependency's marker holds on ``environment`` (every one does on None)."""
    marker = dependency.get("marker")
    if environment is None or not marker:
        return True
    return Marker(marker).evaluate({**environment, "extra": ""})


def _closure(
    packages: dict[str, dict[str, Any]],
    roots: list[dict[str, Any]],
    environment: dict[str, str] | None = None,
) -> set[str]:
    """Names of the distributions ``roots`` pull in, transitively, extras included.

    With an ``environment``, only through dependencies whose markers hold on it.
    """
    seen: set[str] = set()
    todo = [d for d in roots if _applies(d, environment)]
    while todo:
        dependency = todo.pop()
        name = dependency["name"]
        optional = packages.get(name, {}).get("optional-dependencies", {})
        extras = [d for extra in dependency.get("extra", []) for d in optional.get(extra, [])]
        if name in seen and not extras:
            continue
        seen.add(name)
        pulled = [*packages.get(name, {}).get("dependencies", []), *extras]
        todo.extend(d for d in pulled if _applies(d, environment))
    return seen


def _packages(lock: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The lock's packages by name, and the project's own entry (the virtual root)."""
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in document["package"]}
    (project,) = [p for p in packages.values() if p.get("source", {}).get("virtual") == "."]
    return packages, project


def runtime_distributions(lock: Path, environment: dict[str, str]) -> set[tuple[str, str]]:
    """(name, version) of what the project's runtime dependencies pull in on ``environment``.

    The environment's marker names are those ``ENVIRONMENT_PROBE`` prints.
    """
    packages, project = _packages(lock)
    names = _closure(packages, project.get("dependencies", []), environment)
    return {(name, packages[name].get("version", "")) for name in names}


def top_level_modules(distribution: str) -> set[str] | None:
    """The top-level names an installed distribution makes importable (None if not installed)."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    names = set()
    for file in files:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data", ".pth")) or first in ("..", "__pycache__"):
            continue
        if len(file.parts) > 1 or first.endswith((".py", ".so", ".pyd")):
            names.add(first.split(".")[0])
    return names


@dataclass(frozen=True)
class DevOnly:
    """Distributions only the dependency groups pull in, with what is known of their modules.

    The modules are those of the distributions installed here; the names of the others' modules
    cannot be known without them (they are listed apart).
    """

    distributions: list[str]
    modules: list[str]
    not_installed: list[str]
    groups: int  # requirements in the lock's dependency groups


def dev_only(lock: Path) -> DevOnly:
    """Reads ``lock`` and the installed distributions' files."""
    packages, project = _packages(lock)
    runtime = _closure(packages, project.get("dependencies", []))
    groups = [d for group in project.get("dev-dependencies", {}).values() for d in group]
    runtime_modules = {m for d in runtime for m in top_level_modules(d) or ()}
    modules: set[str] = set()
    not_installed = []
    distributions = sorted(_closure(packages, groups) - runtime)
    for distribution in distributions:
        found = top_level_modules(distribution)
        if found is None:
            not_installed.append(distribution)
        else:
            modules |= {m for m in found if m.isidentifier()} - runtime_modules
    return DevOnly(distributions, sorted(modules), not_installed, len(groups))
