"""What a secret looks like in a file: known token formats, and password-style assignments.

Token formats (cloud keys, GitHub, GitLab, PyPI and Slack tokens, private keys) are looked for in
every file; ``password = "..."``-style assignments only in configuration-like files (dotfiles
and ``.env``, ``.ini``, ``.cfg``, ``.conf``, ``.toml``, ``.yaml``, ``.json``, ``.properties``),
because library code and docs are full of example passwords.
"""

from __future__ import annotations

import posixpath
import re

TOKENS = re.compile(
    rb"(?P<private_key>-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----)"
    rb"|(?P<aws_access_key>\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"
    rb"|(?P<github_token>\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,})"
    rb"|(?P<gitlab_token>\bglpat-[A-Za-z0-9_-]{20}\b)"
    rb"|(?P<pypi_token>\bpypi-AgE[A-Za-z0-9_-]{50,})"
    rb"|(?P<slack_token>\bxox[baprs]-[A-Za-z0-9-]{10,})"
    rb"|(?P<google_api_key>\bAIza[0-9A-Za-z_-]{35}\b)"
)
ASSIGNMENT = re.compile(
    rb"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|token)\b\s*[:=]\s*['\"]?[^'\"\s#]{8,}"
)
# A literal every alternative of TOKENS contains: files holding none of them (nearly all) are
# passed over at memory-search speed instead of through the regex, which took 8 s a session.
NEEDLES = (
    b"PRIVATE KEY-----", b"AKIA", b"ASIA", b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_",
    b"github_pat_", b"glpat-", b"pypi-AgE", b"xoxb-", b"xoxa-", b"xoxp-", b"xoxr-", b"xoxs-",
    b"AIza",
)  # fmt: skip
CONFIG_SUFFIXES = (
    ".env", ".ini", ".cfg", ".conf", ".toml", ".yaml", ".yml", ".json", ".properties",
)  # fmt: skip


def is_config_like(path: str) -> bool:
    """Whether ``path`` names a configuration-like file (where assignments are looked for)."""
    base = posixpath.basename(path)
    return base.startswith(".") or base.endswith(CONFIG_SUFFIXES) or ".env" in base


def find_secrets(path: str, data: bytes) -> list[str]:
    """The kinds of secret found in ``data`` (the content of ``path``), without their values."""
    kinds = set()
    if any(needle in data for needle in NEEDLES):
        kinds = {match.lastgroup or "token" for match in TOKENS.finditer(data)}
    if is_config_like(path) and ASSIGNMENT.search(data):
        kinds.add("password_assignment")
    return sorted(kinds)
