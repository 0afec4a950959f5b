"""Patch currency: an outdated package is flagged with the CVEs its update names, current ones
are not, and an index that cannot be read is never a pass."""

import json
import lzma

import httpx
import pytest

from deployment.patch_currency import (
    Candidate,
    changelog_cves,
    debian_currency,
    exit_code,
    newest,
    python_currency,
    updates,
)

SECURITY_INDEX = """\
Package: libssl3t64
Version: 3.5.4-1~deb13u1
Filename: pool/updates/main/o/openssl/libssl3t64_3.5.4-1~deb13u1_amd64.deb

Package: libssl3t64
Version: 3.5.10-1~deb13u1
Filename: pool/updates/main/o/openssl/libssl3t64_3.5.10-1~deb13u1_amd64.deb

Package: openssl
Version: 3.5.10-1~deb13u1
Filename: pool/updates/main/o/openssl/openssl_3.5.10-1~deb13u1_amd64.deb
"""
RELEASE_INDEX = """\
Package: libssl3t64
Version: 3.5.1-1
Filename: pool/main/o/openssl/libssl3t64_3.5.1-1_amd64.deb

Package: zlib1g
Version: 1:1.3.dfsg+really1.3.1-1+deb13u1
Filename: pool/main/z/zlib/zlib1g_1.3.dfsg+really1.3.1-1+deb13u1_amd64.deb
"""
CHANGELOG = """\
openssl (3.5.10-1~deb13u1) trixie-security; urgency=medium

  * New upstream version, fixing CVE-2026-2673 and CVE-2025-9230.

 -- Maintainer <m@debian.test>  Mon, 02 Nov 2026 10:00:00 +0000

openssl (3.5.1-1) unstable; urgency=medium

  * Fixes CVE-2024-0001.

 -- Maintainer <m@debian.test>  Mon, 02 Jun 2025 10:00:00 +0000
"""
CURRENT = {"libssl3t64": "3.5.10-1~deb13u1", "zlib1g": "1:1.3.dfsg+really1.3.1-1+deb13u1"}
OUTDATED = {**CURRENT, "libssl3t64": "3.5.1-1"}


def _offered() -> list[dict[str, Candidate]]:
    return [
        newest(SECURITY_INDEX, set(OUTDATED), "security"),
        newest(RELEASE_INDEX, set(OUTDATED), "release"),
    ]


def test_the_newest_version_of_each_wanted_package_is_taken() -> None:
    found = newest(SECURITY_INDEX, {"libssl3t64"}, "security")
    assert found == {
        "libssl3t64": Candidate(
            "3.5.10-1~deb13u1", "security",
            "pool/updates/main/o/openssl/libssl3t64_3.5.10-1~deb13u1_amd64.deb",
        )
    }  # fmt: skip


def test_a_known_outdated_package_is_flagged_with_its_security_update() -> None:
    (update,) = updates(OUTDATED, _offered())
    assert (update.package, update.installed, update.available) == (
        "libssl3t64", "3.5.1-1", "3.5.10-1~deb13u1",
    )  # fmt: skip
    assert update.security == "3.5.10-1~deb13u1"
    assert update.required


def test_current_packages_are_not_flagged() -> None:
    assert updates(CURRENT, _offered()) == []


def test_the_cves_are_those_named_above_the_installed_version() -> None:
    assert changelog_cves(CHANGELOG, "3.5.1-1") == ["CVE-2025-9230", "CVE-2026-2673"]
    assert changelog_cves(CHANGELOG, "3.5.10-1~deb13u1") == []


def _archive():
    def fetch(url: str) -> bytes:
        if url.endswith("trixie-security/main/binary-amd64/Packages.xz"):
            return lzma.compress(SECURITY_INDEX.encode())
        if url.endswith("/Packages.xz"):
            return lzma.compress(RELEASE_INDEX.encode())
        raise httpx.ConnectError(f"no route to {url}")  # the .deb of the update

    return fetch


def test_an_update_whose_changelog_cannot_be_read_fails_the_policy() -> None:
    found = debian_currency(OUTDATED, "trixie", "amd64", _archive())
    assert found["verdict"] == "security updates missing: 1 of 2 packages"
    assert found["updates"][0]["changelog"].startswith("not read: no route to")
    assert exit_code({"debian": found, "python": {"unread": [], "yanked": []}}) == 1


def test_current_packages_pass_the_policy() -> None:
    found = debian_currency(CURRENT, "trixie", "amd64", _archive())
    assert found["verdict"] == "current: 2 packages, no update in trixie's indexes"
    assert exit_code({"debian": found, "python": {"unread": [], "yanked": []}}) == 0


def test_an_unreadable_index_is_not_a_pass() -> None:
    def offline(url: str) -> bytes:
        raise httpx.ConnectError("network unreachable")

    found = debian_currency(CURRENT, "trixie", "amd64", offline)
    assert found["verdict"] == "not checked: 3 of 3 indexes unreadable"
    assert exit_code({"debian": found, "python": {"unread": [], "yanked": []}}) == 1


def _pypi(releases: dict[str, list[dict]], latest: str):
    def fetch(url: str) -> bytes:
        assert url == "https://pypi.org/pypi/httpx/json"
        return json.dumps({"info": {"version": latest}, "releases": releases}).encode()

    return fetch


def test_a_yanked_version_fails_and_a_newer_release_is_listed() -> None:
    found = python_currency(
        {"httpx": "0.28.0"},
        _pypi({"0.28.0": [{"yanked": True, "yanked_reason": "broken"}]}, "0.28.1"),
    )
    assert found["yanked"] == [{"name": "httpx", "version": "0.28.0", "reason": "broken"}]
    assert found["newer"] == [{"name": "httpx", "installed": "0.28.0", "latest": "0.28.1"}]
    assert exit_code({"python": found}) == 1


@pytest.mark.parametrize("latest", ["0.28.1", "0.28.0"])
def test_a_current_or_merely_older_distribution_passes(latest: str) -> None:
    found = python_currency({"httpx": "0.28.0"}, _pypi({"0.28.0": [{"yanked": False}]}, latest))
    assert found["yanked"] == []
    assert exit_code({"python": found}) == 0
