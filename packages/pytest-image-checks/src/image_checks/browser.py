"""Headless Chromium from Debian's packages, driven through WebDriver, kept off the network.

No browser is downloaded at run time: ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` come
from Debian's ``chromium`` and ``chromium-driver``; ``CHROMIUM_BINARY`` and ``CHROMEDRIVER``
name others (a CI runner's preinstalled Chrome, for example). Every host name but 127.0.0.1
and localhost resolves to nothing, there is no proxy, and Chromium's own background traffic is
off, so a page can reach only what runs on this machine. Every request the page makes is read
from Chromium's performance log.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from image_checks.table import Environment

INSTALL_HINT = (
    "the browser check needs Chromium and ChromeDriver: on Debian, as root, run "
    "'apt-get install -y chromium chromium-driver', or name them with CHROMIUM_BINARY and "
    "CHROMEDRIVER"
)
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in CI; the page under test is our own
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--window-size=1280,1500",
)


def missing(env: Environment) -> str | None:
    """Says what is missing to run the browser, or None."""
    absent = [str(p) for p in (env.chromium, env.chromedriver) if not p.exists()]
    return f"{', '.join(absent)} not found: {INSTALL_HINT}" if absent else None


@contextmanager
def chromium(env: Environment) -> Iterator[webdriver.Chrome]:
    """A headless Chromium session with a fresh profile, closed and removed afterwards."""
    profile = tempfile.mkdtemp(prefix="docs-browser-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(env.chromium)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(env.chromedriver)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(performance_log: list[dict]) -> list[str]:
    """The URLs of every request in Chromium's performance log entries, in order."""
    urls = []
    for entry in performance_log:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot_path(reports: Path, name: str) -> Path:
    """Where a screenshot called ``name`` goes: the reports folder."""
    reports.mkdir(parents=True, exist_ok=True)
    return reports / f"{name}.png"
