"""Patch currency: whether the image lacks an update its sources have published.

For every Debian package the image's SBOM lists (the SBOM the suite checked against the image),
the newest version in its release's archive indexes: the security updates
(``<suite>-security``), the stable updates (``<suite>-updates``) and the release itself (point
releases land there), read with python-debian and compared by Debian's version rules. Where an
update exists, the CVE ids its changelog names above the installed version are read from the
updated package itself (the changelog service is not reachable from here; the .deb is). For
every Python distribution: whether the installed version is yanked on the package index, and
the newest release there.

Verdicts go to ``reports/patches.json``. The policy (``--require``, ``PATCH_REQUIRED=1`` in CI):
exit 1 when a Debian package lacks a security update (one in the security index, or any update
whose changelog names a CVE: point releases fix CVEs too), a Python distribution is yanked, or an
index or changelog could not be read (nothing checked is not a pass). Without ``--require`` it
reports only.

Usage: ``uv run python deployment/patch_currency.py --image TAG [--sbom FILE] [--out FILE]
[--require]``
"""

from __future__ import annotations

import argparse
import io
import json
import lzma
import re
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import docker
import httpx
from debian.changelog import Changelog
from debian.deb822 import Packages
from debian.debfile import DebFile
from debian.debian_support import Version
from docker.errors import DockerException
from packaging.version import InvalidVersion
from packaging.version import Version as PythonVersion

ROOT = Path(__file__).resolve().parents[1]
DEBIAN = "http://deb.debian.org/debian"
SECURITY = "http://security.debian.org/debian-security"
CVE = re.compile(r"CVE-\d{4}-\d{4,}")
Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class Index:
    """One archive index the image's packages are compared with."""

    name: str  # security, updates, release
    suite: str  # trixie-security
    pool: str  # the archive's base URL, where Filename paths start

    def url(self, arch: str) -> str:
        """The URL of its Packages.xz for ``arch``."""
        return f"{self.pool}/dists/{self.suite}/main/binary-{arch}/Packages.xz"


def indexes(suite: str) -> list[Index]:
    """The indexes of a Debian release: security updates, stable updates, the release."""
    return [
        Index("security", f"{suite}-security", SECURITY),
        Index("updates", f"{suite}-updates", DEBIAN),
        Index("release", suite, DEBIAN),
    ]


@dataclass(frozen=True)
class Candidate:
    """A version of a package an index offers."""

    version: str
    index: str
    filename: str  # path of its .deb under the index's pool


@dataclass
class Update:
    """A package of the image with a newer version in its release's indexes."""

    package: str
    installed: str
    available: str  # the newest version of any index
    index: str  # the index that has it
    security: str | None  # the newest security update newer than installed, if any
    cves: list[str] = field(default_factory=list)  # what the update's changelog says it fixes
    changelog: str = "read"  # or why it could not be read

    @property
    def required(self) -> bool:
        """Whether the policy requires it: a security update, or one that fixes a CVE."""
        return bool(self.security or self.cves)


def newest(text: str, wanted: set[str], index: str) -> dict[str, Candidate]:
    """The newest version of each ``wanted`` package in the Packages index ``text``."""
    found: dict[str, Candidate] = {}
    for paragraph in Packages.iter_paragraphs(io.StringIO(text), use_apt_pkg=False):
        name = paragraph.get("Package")
        if name not in wanted:
            continue
        version = paragraph["Version"]
        if name not in found or Version(version) > Version(found[name].version):
            found[name] = Candidate(version, index, paragraph.get("Filename", ""))
    return found


def updates(installed: dict[str, str], offered: Iterable[dict[str, Candidate]]) -> list[Update]:
    """The installed packages that an index offers a newer version of, newest first per index."""
    found = []
    by_index = list(offered)
    for package, version in sorted(installed.items()):
        newer = [
            c
            for index in by_index
            if (c := index.get(package)) and Version(c.version) > Version(version)
        ]
        if not newer:
            continue
        best = max(newer, key=lambda c: Version(c.version))
        security = [c for c in newer if c.index == "security"]
        found.append(
            Update(package, version, best.version, best.index,
                   max((c.version for c in security), key=Version, default=None))
        )  # fmt: skip
    return found


def changelog_cves(changelog: str, installed: str) -> list[str]:
    """The CVE ids a Debian changelog names in its entries newer than ``installed``."""
    ids: set[str] = set()
    for block in Changelog(changelog, strict=False):
        if block.version is None or Version(str(block.version)) <= Version(installed):
            continue
        ids.update(CVE.findall("\n".join(block.changes())))
    return sorted(ids, key=lambda cve: tuple(int(part) for part in cve[4:].split("-")))


def deb_changelog(data: bytes) -> str:
    """The Debian changelog inside a .deb ("" when it ships none)."""
    with tempfile.NamedTemporaryFile(suffix=".deb") as file:
        file.write(data)
        file.flush()
        changelog = DebFile(file.name).changelog()
    return str(changelog) if changelog else ""


def debian_currency(installed: dict[str, str], suite: str, arch: str, fetch: Fetch) -> dict:
    """The Debian verdict: each package with an update, and whether a security update lacks."""
    sources = indexes(suite)
    offered, unread = [], []
    for index in sources:
        try:
            text = lzma.decompress(fetch(index.url(arch))).decode("utf-8")
        except (httpx.HTTPError, lzma.LZMAError) as exc:
            unread.append(f"{index.suite}: {exc}")
            continue
        offered.append(newest(text, set(installed), index.name))
    found = updates(installed, offered)
    pools = {index.name: index.pool for index in sources}
    for update in found:
        version = update.security or update.available
        candidate = next(o[update.package] for o in offered if update.package in o
                         and o[update.package].version == version)  # fmt: skip
        try:
            data = fetch(f"{pools[candidate.index]}/{candidate.filename}")
            update.cves = changelog_cves(deb_changelog(data), update.installed)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            update.changelog = f"not read: {exc}"
    missing = [u for u in found if u.required]
    if unread:
        verdict = f"not checked: {len(unread)} of {len(sources)} indexes unreadable"
    elif missing:
        verdict = f"security updates missing: {len(missing)} of {len(installed)} packages"
    elif any(u.changelog != "read" for u in found):
        verdict = f"{len(found)} updates available; a changelog could not be read for its CVEs"
    elif found:
        verdict = f"{len(found)} updates available, no security update missing"
    else:
        verdict = f"current: {len(installed)} packages, no update in {suite}'s indexes"
    return {
        "verdict": verdict,
        "suite": suite,
        "arch": arch,
        "indexes": [index.suite for index in sources],
        "unread": unread,
        "packages": len(installed),
        "updates": [{**asdict(u), "required": u.required} for u in found],
    }


def python_currency(installed: dict[str, str], fetch: Fetch) -> dict:
    """The Python verdict: yanked versions, and the newest release of each distribution."""
    yanked, newer, unread = [], [], []
    for name, version in sorted(installed.items()):
        try:
            project = json.loads(fetch(f"https://pypi.org/pypi/{name}/json"))
        except (httpx.HTTPError, ValueError) as exc:
            unread.append(f"{name}: {exc}")
            continue
        files = project["releases"].get(version, [])
        if files and all(f.get("yanked") for f in files):
            reason = next((f.get("yanked_reason") for f in files if f.get("yanked_reason")), "")
            yanked.append({"name": name, "version": version, "reason": reason or ""})
        latest = project["info"]["version"]
        try:
            if PythonVersion(latest) > PythonVersion(version):
                newer.append({"name": name, "installed": version, "latest": latest})
        except InvalidVersion:
            unread.append(f"{name}: version {latest!r} or {version!r} not comparable")
    if unread:
        verdict = f"not checked: {len(unread)} of {len(installed)} distributions unreadable"
    elif yanked:
        verdict = f"yanked: {len(yanked)} of {len(installed)} distributions"
    else:
        verdict = (
            f"{len(newer)} of {len(installed)} distributions have a newer release, none yanked"
        )
    return {
        "verdict": verdict,
        "packages": len(installed),
        "yanked": yanked,
        "newer": newer,
        "unread": unread,
    }


def from_sbom(sbom: dict[str, Any], kind: str) -> dict[str, str]:
    """Name -> version of the SBOM's components of ``kind`` (``deb`` or ``pypi``)."""
    found = {}
    for component in sbom["components"]:
        purl = component.get("purl", "")
        if purl.startswith(f"pkg:{kind}/"):
            found[component["name"]] = component["version"]
    return found


def deb_arch(sbom: dict[str, Any]) -> str:
    """The image's architecture, from its packages' purls (``all`` packages say nothing)."""
    arches = {
        unquote(purl.split("arch=", 1)[1].split("&", 1)[0])
        for c in sbom["components"]
        if (purl := c.get("purl", "")).startswith("pkg:deb/") and "arch=" in purl
    } - {"all"}
    if len(arches) != 1:
        raise SystemExit(f"patch_currency.py: the SBOM's packages are of {sorted(arches)}")
    return arches.pop()


def image_suite(image: str) -> str:
    """The Debian release of the image (VERSION_CODENAME of its os-release).

    Raises:
        SystemExit: no engine, no such image, or an image that does not say its release.
    """
    try:
        client = docker.from_env()
        container = client.containers.create(image)
    except DockerException as exc:
        raise SystemExit(f"patch_currency.py: cannot read the image {image}: {exc}") from None
    try:
        stream, _ = container.get_archive("/usr/lib/os-release")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile("os-release")
            text = member.read().decode() if member else ""
    except DockerException as exc:
        raise SystemExit(f"patch_currency.py: {image} has no /usr/lib/os-release: {exc}") from None
    finally:
        container.remove(force=True)
        client.close()
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    suite = fields.get("VERSION_CODENAME", "").strip('"')
    if not suite:
        raise SystemExit(f"patch_currency.py: {image} names no VERSION_CODENAME in its os-release")
    return suite


def fetch_url(url: str) -> bytes:
    """The body of ``url`` (a 404 is an error; a failed connection is tried three times)."""
    with httpx.Client(transport=httpx.HTTPTransport(retries=3), timeout=60) as client:
        answer = client.get(url, follow_redirects=True)
    answer.raise_for_status()
    return answer.content


def main() -> int:
    """Reads the SBOM, compares with the indexes, writes the verdicts; exit 1 as --require says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--sbom", type=Path, default=ROOT / "reports" / "sbom.cdx.json")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "patches.json")
    parser.add_argument("--require", action="store_true", help="fail as the policy says")
    args = parser.parse_args()
    try:
        sbom = json.loads(args.sbom.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"[patches] cannot read the SBOM {args.sbom} (the suite writes it): {exc}")
        return 1
    found = {"image": args.image}
    if debs := from_sbom(sbom, "deb"):
        found["debian"] = debian_currency(debs, image_suite(args.image), deb_arch(sbom), fetch_url)
    found["python"] = python_currency(from_sbom(sbom, "pypi"), fetch_url)
    args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    for part in ("debian", "python"):
        if part in found:
            print(f"[patches] {part}: {found[part]['verdict']}")
    for update in found.get("debian", {}).get("updates", []):
        kind = "REQUIRED " if update["required"] else ""
        cves = update["cves"]
        named = f"{len(cves)} CVEs: {', '.join(cves[:8])}{', ...' if len(cves) > 8 else ''}"
        print(
            f"[patches]   {update['package']} {update['installed']} -> {kind}"
            f"{update['available']} ({update['index']}); {named if cves else 'no CVE named'}"
        )
    if any(u["required"] for u in found.get("debian", {}).get("updates", [])):
        print("[patches] a base made before these updates: BASES_REFRESH=1 "
              "deployment/base-images.sh FLAVOUR makes the local bases again; pull a public base "
              "again")  # fmt: skip
    return exit_code(found) if args.require else 0


def exit_code(found: dict[str, Any]) -> int:
    """1 when the policy fails, else 0.

    It fails on a security update lacking (from the security index, or naming a CVE in its
    changelog), a changelog not read, a yanked version, an unread index.
    """
    debian, python = found.get("debian", {}), found["python"]
    failing = (
        debian.get("unread")
        or any(u["required"] or u["changelog"] != "read" for u in debian.get("updates", []))
        or python["unread"]
        or python["yanked"]
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
