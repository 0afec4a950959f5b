"""What ``uv.lock`` says about dependencies.

The distributions only the dependency groups (dev, bench, ...) pull in, and the modules they
make importable, for the check that none of them reaches the image.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _closure(packages: dict[str, dict[str, Any]], roots: list[dict[str, Any]]) -> set[str]:
    """Names of the distributions ``roots`` pull in, transitively, extras included."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        dependency = todo.pop()
        name = dependency["name"]
        optional = packages.get(name, {}).get("optional-dependencies", {})
        extras = [d for extra in dependency.get("extra", []) for d in optional.get(extra, [])]
        if name in seen and not extras:
            continue
        seen.add(name)
        todo.extend(packages.get(name, {}).get("dependencies", []))
        todo.extend(extras)
    return seen


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
    """Modules only the dependency groups provide, and dev-only distributions not installed here.

    The module names of a distribution not installed here cannot be known without it.
    """

    modules: list[str]
    not_installed: list[str]
    groups: int  # requirements in the lock's dependency groups


def dev_only(lock: Path) -> DevOnly:
    """Reads ``lock`` and the installed distributions' files."""
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in document["package"]}
    (project,) = [p for p in packages.values() if p.get("source", {}).get("virtual") == "."]
    runtime = _closure(packages, project.get("dependencies", []))
    groups = [d for group in project.get("dev-dependencies", {}).values() for d in group]
    runtime_modules = {m for d in runtime for m in top_level_modules(d) or ()}
    modules: set[str] = set()
    not_installed = []
    for distribution in sorted(_closure(packages, groups) - runtime):
        found = top_level_modules(distribution)
        if found is None:
            not_installed.append(distribution)
        else:
            modules |= {m for m in found if m.isidentifier()} - runtime_modules
    return DevOnly(sorted(modules), not_installed, len(groups))
