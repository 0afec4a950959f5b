"""Both formats of ``docker save`` are read to the same layers, files, waste and secrets.

The archives are made here, as each engine writes them: legacy (``manifest.json``, plain tar
layers, Docker before 25 on its classic store) and OCI image layout (``index.json`` leading to a
manifest through an image index beside an attestation, gzip layers: the containerd image store,
Docker 25 and later, Podman).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

from image_checks.filesystem import LayerReport, read_saved

KEY = b"-----BEGIN OPENSSH " + b"PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
LAYERS = [  # (the instruction, the layer's entries: path -> bytes, or None for a whiteout)
    ("COPY . /app", {"app/main.py": b"print('hi')\n", "app/big.bin": b"x" * 1000}),
    ("RUN rm big.bin && echo k > id", {"app/.wh.big.bin": None, "app/id_ed25519": KEY}),
]


def _tar(entries: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for path, data in entries.items():
            info = tarfile.TarInfo(path)
            info.size = len(data or b"")
            archive.addfile(info, io.BytesIO(data or b""))
    return out.getvalue()


def _config() -> bytes:
    history = [{"created_by": "ENV A=b", "empty_layer": True}]
    history += [{"created_by": step} for step, _ in LAYERS]
    return json.dumps({"architecture": "amd64", "os": "linux", "history": history}).encode()


def _archive(files: dict[str, bytes]) -> io.BytesIO:
    return io.BytesIO(_tar(files))


def legacy() -> io.BytesIO:
    """An archive as Docker before 25 saves it: manifest.json, plain layer tars."""
    files = {"config.json": _config()}
    paths = []
    for i, (_, entries) in enumerate(LAYERS):
        paths.append(f"layer{i}/layer.tar")
        files[paths[-1]] = _tar(entries)
    manifest = [{"Config": "config.json", "RepoTags": ["t:1"], "Layers": paths}]
    files["manifest.json"] = json.dumps(manifest).encode()
    return _archive(files)


def _descriptor(files: dict[str, bytes], media_type: str, data: bytes, **extra: object) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    files[f"blobs/sha256/{digest}"] = data
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data), **extra}


def oci(platforms: tuple[str, ...] = ("linux/amd64",)) -> io.BytesIO:
    """An OCI image layout as the containerd store saves it: index, image index, gzip layers."""
    files: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    layers = [
        _descriptor(files, "application/vnd.oci.image.layer.v1.tar+gzip",
                    gzip.compress(_tar(entries), mtime=0))
        for _, entries in LAYERS
    ]  # fmt: skip
    config = _descriptor(files, "application/vnd.oci.image.config.v1+json", _config())
    manifest = json.dumps({"schemaVersion": 2, "config": config, "layers": layers}).encode()
    entries = []
    for platform in platforms:
        os_name, architecture = platform.split("/")
        entries.append(
            _descriptor(
                files,
                "application/vnd.oci.image.manifest.v1+json",
                manifest,
                platform={"os": os_name, "architecture": architecture},
            )
        )
    attestation = json.dumps({"schemaVersion": 2, "config": config, "layers": []}).encode()
    entries.append(
        _descriptor(
            files,
            "application/vnd.oci.image.manifest.v1+json",
            attestation,
            platform={"os": "unknown", "architecture": "unknown"},
        )
    )
    inner = json.dumps({"schemaVersion": 2, "manifests": entries}).encode()
    index = {"schemaVersion": 2, "manifests": [
        _descriptor(files, "application/vnd.oci.image.index.v1+json", inner)
    ]}  # fmt: skip
    files["index.json"] = json.dumps(index).encode()
    return _archive(files)


def _summary(report: LayerReport) -> list[tuple[str, int, dict, list, dict]]:
    return [(la.created_by, la.size, la.files, la.removed, la.secrets) for la in report.layers]


@pytest.mark.parametrize("saved", [legacy, oci], ids=["legacy", "oci-layout"])
def test_each_format_is_read_to_its_layers_files_waste_and_secrets(saved) -> None:
    report = read_saved(saved())
    assert _summary(report) == [
        ("COPY . /app", 1012, {"app/main.py": 12, "app/big.bin": 1000}, [], {}),
        ("RUN rm big.bin && echo k > id", len(KEY), {"app/id_ed25519": len(KEY)},
         ["app/big.bin"], {"app/id_ed25519": ["private_key"]}),
    ]  # fmt: skip
    assert report.wasted_files == [("app/big.bin", 1000)]
    assert report.layers[0].digests["app/main.py"] == hashlib.sha256(b"print('hi')\n").hexdigest()


def test_both_formats_give_the_same_report() -> None:
    assert read_saved(legacy()) == read_saved(oci())


def test_a_multi_platform_index_needs_the_platform_named() -> None:
    with pytest.raises(ValueError, match=r"2 images \(linux/amd64, linux/arm64\): name one"):
        read_saved(oci(("linux/amd64", "linux/arm64")))
    report = read_saved(oci(("linux/amd64", "linux/arm64")), platform="linux/arm64")
    assert report.wasted_bytes == 1000


def test_an_archive_of_neither_format_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match=r"neither index\.json \(OCI layout\) nor manifest\.json"):
        read_saved(_archive({"something.txt": b"not an image"}))


def test_a_layer_in_an_unreadable_compression_is_named() -> None:
    files = {"config.json": _config(), "l.tar.zst": b"\x28\xb5\x2f\xfd" + b"\0" * 600}
    manifest = [{"Config": "config.json", "Layers": ["l.tar.zst"]}]
    files["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(ValueError, match=r"layer l.tar.zst is neither a tar nor a gzip"):
        read_saved(_archive(files))
