"""/docs as a person sees it: headless Chromium against the running image, no outside network.

The page must render the API's title and every operation of the image's own /openapi.json,
"Try it out" + "Execute" on the health path must show a 200 rendered by the page, and every
request the page makes must go to the container's own origin (inline ``data:`` images aside).
A screenshot of the page goes to reports/docs-page.png; a failing test's report names a
screenshot taken at the failure (conftest.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from container_tests import browser
from container_tests.containers import ServiceContainer
from container_tests.expectations import Expectations
from container_tests.facts import Facts

RENDER_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def page(service: ServiceContainer) -> Iterator[Chrome]:
    """Chromium with /docs of the running image loaded (rendered or not)."""
    if problem := browser.missing():
        pytest.fail(problem)
    with browser.chromium() as driver:
        driver.get("about:blank")
        driver.get_log("performance")  # drop what Chromium itself loaded before the page
        driver.get(service.url("/docs"))
        with contextlib.suppress(TimeoutException):  # the tests below say what is missing
            WebDriverWait(driver, RENDER_TIMEOUT_S).until(
                ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary"))
            )
        yield driver
        driver.save_screenshot(str(browser.screenshot_path("docs-page")))


def _operations(page: Chrome) -> list[str]:
    return [
        " ".join(e.text.split()[:2])
        for e in page.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    ]


def test_docs_page_renders_the_title_and_every_operation(
    page: Chrome, service: ServiceContainer
) -> None:
    schema = service.get("/openapi.json").json()
    expected = sorted(
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
    )
    titles = page.find_elements(By.CSS_SELECTOR, ".info .title")
    shown = titles[0].text if titles else ""
    assert shown.startswith(schema["info"]["title"]), (
        f"/docs does not show the API's title {schema['info']['title']!r} (shows {shown!r}); "
        "a blank page means Swagger UI's assets did not load"
    )
    assert sorted(_operations(page)) == expected, (
        f"/docs renders {_operations(page)}, the schema has {expected}"
    )


def test_try_it_out_on_the_health_path_shows_a_200(page: Chrome, expect: Expectations) -> None:
    blocks = [
        b
        for b in page.find_elements(By.CSS_SELECTOR, ".opblock")
        if f"GET {expect.health_path}" in " ".join(b.text.split()[:2])
    ]
    assert blocks, f"/docs shows no operation GET {expect.health_path}"
    block = blocks[0]
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait = WebDriverWait(block, RENDER_TIMEOUT_S)
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.try-out__btn"))).click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.execute"))).click()
    status = wait.until(
        ready.presence_of_element_located(
            (By.CSS_SELECTOR, ".live-responses-table .response .response-col_status")
        )
    )
    assert status.text.strip() == "200", (
        f"Execute on GET {expect.health_path} shows {status.text!r}, not 200"
    )


def test_every_request_of_the_page_goes_to_the_container(
    page: Chrome, service: ServiceContainer, facts: Facts
) -> None:
    origin = urlsplit(service.url("/"))
    urls = browser.requested_urls(page.get_log("performance"))
    elsewhere = [u for u in urls if urlsplit(u)[:2] != origin[:2] and urlsplit(u).scheme != "data"]
    facts.figure("docs_page_requests", len(urls), detail="all to the container's origin")
    assert urls, "the browser recorded no request at all"
    assert not elsewhere, f"/docs made requests beyond the container's origin: {elsewhere}"
    errors = [e["message"] for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"the browser console shows errors on /docs: {errors}"
