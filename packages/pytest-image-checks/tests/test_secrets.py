"""The secret scan of every layer finds each token format, in any file, and only there."""

import hashlib
import io

import pytest

from image_checks.filesystem import scan
from image_checks.secrets import find_secrets

# One made-up token of each format (none of them valid anywhere), put together here so that
# this file holds none itself: an image that ships the tests must not look as if it held keys.
SAMPLES = {
    "private_key": b"-----BEGIN OPENSSH " + b"PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
    "aws_access_key": b"key = AKIA" + b"ABCDEFGHIJKLMNOP\n",
    "github_token": b"ghp_" + b"a1B2" * 9,
    "gitlab_token": b"glpat-" + b"x" * 20,
    "pypi_token": b"pypi-AgE" + b"I" * 50,
    "slack_token": b"xoxb" + b"-1234567890-abcdef",
    "google_api_key": b"AIza" + b"S" * 35,
}


@pytest.mark.parametrize(("kind", "sample"), SAMPLES.items(), ids=list(SAMPLES))
def test_each_token_format_is_found_in_any_file(kind: str, sample: bytes) -> None:
    data = b"\x00binary prefix\x7f" + sample + b"\ntrailing text"
    assert find_secrets("usr/lib/some/library.so", data) == [kind]


def test_password_assignments_count_only_in_configuration_files() -> None:
    data = b'password = "correct-horse-battery"\n'
    assert find_secrets("app/.env", data) == ["password_assignment"]
    assert find_secrets("app/settings.yaml", data) == ["password_assignment"]
    assert find_secrets("usr/lib/python3.13/smtplib.py", data) == []


def test_text_without_a_token_is_clean() -> None:
    assert find_secrets("app/main.py", b"import os\nAKI = 'A'\nghost_\n" * 1000) == []


@pytest.mark.parametrize("offset", [0, 8 * 1024 * 1024 - 10], ids=["start", "across-a-piece"])
def test_a_file_over_any_size_is_scanned_whole(offset: int) -> None:
    # 12 MiB of padding with a key at the start or cut by the edge of a 4 MiB piece.
    key = SAMPLES["private_key"]
    data = bytearray(12 * 1024 * 1024)
    data[offset : offset + len(key)] = key
    digest, kinds = scan("usr/lib/big.so", io.BytesIO(bytes(data)))
    assert kinds == ["private_key"]
    assert digest == hashlib.sha256(data).hexdigest()
