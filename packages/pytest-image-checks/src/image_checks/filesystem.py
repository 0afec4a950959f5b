"""The image's files and layers, read from ``docker export`` and ``docker save``."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import docker

from image_checks.secrets import find_secrets

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
CHUNK = 4 * 1024 * 1024  # files are hashed and scanned for secrets in pieces of this size ...
OVERLAP = 64 * 1024  # ... each scanned with the end of the one before, so no secret is cut


class ImageFilesystem:
    """The flattened filesystem of an image: every path with its metadata and contents."""

    def __init__(self, archive: bytes) -> None:
        """Indexes an export tarball; paths have no leading slash."""
        self._tar = tarfile.open(fileobj=io.BytesIO(archive))  # noqa: SIM115 - kept for reads
        self.members: dict[str, tarfile.TarInfo] = {
            m.name.removeprefix("./").rstrip("/"): m for m in self._tar.getmembers()
        }

    @classmethod
    def export(
        cls, client: docker.DockerClient, image: str, labels: dict[str, str]
    ) -> ImageFilesystem:
        """Exports a (never started) container of ``image``."""
        container = client.containers.create(image, labels=labels)
        try:
            return cls(b"".join(container.export()))
        finally:
            container.remove(force=True)

    def files(self) -> Iterator[tarfile.TarInfo]:
        """The regular files."""
        return (m for m in self.members.values() if m.isfile())

    def extract(self, path: str, into: Path) -> bool:
        """Extracts ``path`` (absolute) and what is under it into ``into``, as ``docker cp``.

        Paths are named from the last component of ``path`` on; False when there is no such path.
        """
        prefix = path.strip("/")
        parent = posixpath.dirname(prefix)
        chosen = []
        for name, member in self.members.items():
            if name == prefix or name.startswith(prefix + "/"):
                renamed = copy.copy(member)
                renamed.name = posixpath.relpath(name, parent) if parent else name
                chosen.append(renamed)
        if not chosen:
            return False
        self._tar.extractall(into, members=chosen, filter="data")
        return True

    def read(self, path: str) -> bytes:
        """The contents of a regular file."""
        handle = self._tar.extractfile(self.members[path])
        assert handle is not None, f"{path} is not a regular file"
        return handle.read()


@dataclass
class Layer:
    """One filesystem layer: the instruction that made it, its size and its files."""

    created_by: str
    size: int
    files: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    secrets: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class LayerReport:
    """Layers of an image and the bytes later layers overwrite or delete (dive's waste)."""

    layers: list[Layer]
    wasted_bytes: int
    wasted_files: list[tuple[str, int]]


def analyze_layers(client: docker.DockerClient, image: str) -> LayerReport:
    """Reads ``docker save`` of ``image`` and accounts for every file of every layer."""
    return read_saved(io.BytesIO(b"".join(client.images.get(image).save())))


def read_saved(saved: BinaryIO, platform: str | None = None) -> LayerReport:
    """Accounts for every file of every layer of an image archive, in either format.

    The formats of ``docker save``: an OCI image layout (``index.json``; Docker 25 and later,
    the containerd image store, Podman) or the legacy one (``manifest.json`` alone; Docker
    before 25). Layers may be plain tar or compressed (gzip, as the containerd store keeps
    them).

    Args:
        saved: the archive.
        platform: ``os/architecture`` of the image to read when an index holds several.

    Raises:
        ValueError: the archive is in neither format, or holds several platforms and
            ``platform`` names none of them.
    """
    with tarfile.open(fileobj=saved) as archive:
        config, paths = _image_in(archive, platform)
        history = [h for h in config.get("history", []) if not h.get("empty_layer")]
        layers = [
            _read_layer(archive, path, history[i].get("created_by", "") if i < len(history) else "")
            for i, path in enumerate(paths)
        ]
    wasted = _wasted(layers)
    return LayerReport(layers, sum(size for _, size in wasted), wasted)


def _image_in(archive: tarfile.TarFile, platform: str | None) -> tuple[dict, list[str]]:
    """The image config and the archive paths of the layers, in order."""
    names = set(archive.getnames())
    if "index.json" in names:
        manifest = _oci_manifest(archive, _json(archive, "index.json"), platform)
        config = _json(archive, _blob(manifest["config"]["digest"]))
        return config, [_blob(layer["digest"]) for layer in manifest["layers"]]
    if "manifest.json" in names:
        legacy = _json(archive, "manifest.json")[0]
        return _json(archive, legacy["Config"]), legacy["Layers"]
    raise ValueError("not an image archive: neither index.json (OCI layout) nor manifest.json")


def _oci_manifest(archive: tarfile.TarFile, index: dict, platform: str | None) -> dict:
    """The image manifest an OCI index leads to, through nested indexes.

    Attestation manifests (platform unknown/unknown) are not images.
    """
    images = []
    for entry in index.get("manifests", []):
        found = entry.get("platform") or {}
        name = f"{found.get('os', '')}/{found.get('architecture', '')}".strip("/")
        if name == "unknown/unknown":
            continue
        images.append((name, entry))
    if platform is not None:
        images = [(name, entry) for name, entry in images if name in (platform, "")]
    if len(images) != 1:
        raise ValueError(
            f"the archive holds {len(images)} images ({', '.join(n for n, _ in images) or 'none'}"
            f"{' for ' + platform if platform else ''}): name one platform"
        )
    entry = images[0][1]
    target = _json(archive, _blob(entry["digest"]))
    if "manifests" in target:  # an image index inside the layout's index
        return _oci_manifest(archive, target, platform)
    return target


def _blob(digest: str) -> str:
    algorithm, value = digest.split(":", 1)
    return f"blobs/{algorithm}/{value}"


def _json(archive: tarfile.TarFile, path: str) -> Any:  # noqa: ANN401 (any JSON document)
    member = archive.extractfile(path)
    if member is None:
        raise ValueError(f"{path} is not a file of the image archive")
    return json.load(member)


def _read_layer(archive: tarfile.TarFile, path: str, created_by: str) -> Layer:
    """One layer's files (sized, hashed and scanned whatever their size) and whiteouts."""
    layer = Layer(created_by=created_by, size=0)
    try:  # read as a stream: a compressed layer is decompressed once, not once a file
        layer_tar = tarfile.open(fileobj=archive.extractfile(path), mode="r|*")  # noqa: SIM115
    except tarfile.ReadError as exc:
        raise ValueError(
            f"layer {path} is neither a tar nor a gzip, bzip2 or xz compressed one ({exc})"
        ) from exc
    with layer_tar:
        for member in layer_tar:
            name = member.name.removeprefix("./").rstrip("/")
            base = posixpath.basename(name)
            if base.startswith(WHITEOUT):
                parent = posixpath.dirname(name)
                layer.removed.append(parent if base == OPAQUE else posixpath.join(parent, base[4:]))
            elif member.isfile():
                layer.files[name] = member.size
                layer.size += member.size
                layer.digests[name], kinds = scan(name, layer_tar.extractfile(member))
                if kinds:
                    layer.secrets[name] = kinds
    return layer


def scan(name: str, stream: BinaryIO) -> tuple[str, list[str]]:
    """The SHA-256 of a file read from ``stream``, and the kinds of secret it holds.

    The file is read in pieces (``CHUNK``), so a file of any size is scanned in bounded memory;
    each piece is scanned together with the last ``OVERLAP`` bytes of the one before it.
    """
    digest = hashlib.sha256()
    kinds: set[str] = set()
    tail = b""
    while piece := stream.read(CHUNK):
        digest.update(piece)
        kinds.update(find_secrets(name, tail + piece))
        tail = piece[-OVERLAP:]
    return digest.hexdigest(), sorted(kinds)


def _wasted(layers: list[Layer]) -> list[tuple[str, int]]:
    """Files whose bytes a later layer overwrote or deleted, with those bytes."""
    present: dict[str, int] = {}
    wasted: list[tuple[str, int]] = []
    for layer in layers:
        for removed in layer.removed:
            for path in [p for p in present if p == removed or p.startswith(removed + "/")]:
                wasted.append((path, present.pop(path)))
        for path, size in layer.files.items():
            if path in present:
                wasted.append((path, present[path]))
            present[path] = size
    return wasted
