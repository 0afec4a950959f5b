"""The files that deploy the image (``[tool.image-checks.deployment]``), read as data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from image_checks.table import Deployment

# Kubernetes quantity suffixes (apimachinery resource.Quantity): binary and decimal.
K8S_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1,
}  # fmt: skip


def k8s_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity in bytes: ``256Mi`` is 268435456, ``256M`` 256000000."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity.strip())
    if match is None or match.group(2) not in K8S_SUFFIXES:
        raise ValueError(f"not a Kubernetes memory quantity: {quantity!r}")
    return int(float(match.group(1)) * K8S_SUFFIXES[match.group(2)])


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def manifests(root: Path, deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object of the manifests folder (relative to ``root``), by kind."""
    folder = root / deployment.manifests
    return {doc["kind"]: doc for path in sorted(folder.glob("*.yaml")) for doc in _documents(path)}


def compose_service(root: Path, deployment: Deployment) -> dict[str, Any]:
    """The compose service that runs the image (the compose file relative to ``root``)."""
    document = yaml.safe_load((root / deployment.compose).read_text(encoding="utf-8"))
    return document["services"][deployment.compose_service]
