"""The docs page as a person sees it: headless Chromium against the running image, no outside
network (``[tool.image-checks.docs]``, a Swagger UI page).

The page must render the API's title and every operation of the image's own OpenAPI document,
"Try it out" + "Execute" on the health path must show a 200 rendered by the page, and every
request the page makes must go to the container's own origin (inline ``data:`` images aside).
A screenshot of the page goes to the reports folder (docs-page.png); a failing check's report
names a screenshot taken at the failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from image_checks import browser
from image_checks.containers import ServiceContainer
from image_checks.facts import Facts
from image_checks.table import Docs, Table

pytestmark = [
    pytest.mark.image_checks_section("http"),
    pytest.mark.image_checks_section("docs"),
    pytest.mark.image_checks_runs,  # a browser on the running image
]
RENDER_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def docs(image_table: Table) -> Docs:
    assert image_table.docs is not None
    return image_table.docs


@pytest.fixture(scope="module")
def page(
    service: ServiceContainer, image_table: Table, image_reports: Path, docs: Docs
) -> Iterator[Chrome]:
    """Chromium with the docs page of the running image loaded (rendered or not)."""
    if problem := browser.missing(image_table.environment):
        pytest.fail(problem)
    with browser.chromium(image_table.environment) as driver:
        driver.get("about:blank")
        driver.get_log("performance")  # drop what Chromium itself loaded before the page
        driver.get(service.url(docs.path))
        with contextlib.suppress(TimeoutException):  # the tests below say what is missing
            WebDriverWait(driver, RENDER_TIMEOUT_S).until(
                ready.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary"))
            )
        yield driver
        driver.save_screenshot(str(browser.screenshot_path(image_reports, "docs-page")))


def _operations(page: Chrome) -> list[str]:
    return [
        " ".join(e.text.split()[:2])
        for e in page.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    ]


def test_docs_page_renders_the_title_and_every_operation(
    page: Chrome, service: ServiceContainer, docs: Docs
) -> None:
    response = service.get(docs.openapi_path)
    assert response.status_code == 200, f"{docs.openapi_path} answered {response.status_code}"
    schema = response.json()
    expected = sorted(
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
    )
    titles = page.find_elements(By.CSS_SELECTOR, ".info .title")
    shown = titles[0].text if titles else ""
    assert shown.startswith(schema["info"]["title"]), (
        f"{docs.path} does not show the API's title {schema['info']['title']!r} (shows {shown!r}); "
        "a blank page means Swagger UI's assets did not load"
    )
    assert sorted(_operations(page)) == expected, (
        f"{docs.path} renders {_operations(page)}, the schema has {expected}"
    )


def test_try_it_out_on_the_health_path_shows_a_200(page: Chrome, image_table: Table) -> None:
    assert image_table.http is not None
    health = image_table.http.health_path
    blocks = [
        b
        for b in page.find_elements(By.CSS_SELECTOR, ".opblock")
        if f"GET {health}" in " ".join(b.text.split()[:2])
    ]
    assert blocks, f"the docs page shows no operation GET {health}"
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
    assert status.text.strip() == "200", f"Execute on GET {health} shows {status.text!r}, not 200"


def test_every_request_of_the_page_goes_to_the_container(
    page: Chrome, service: ServiceContainer, facts: Facts
) -> None:
    origin = urlsplit(service.url("/"))
    urls = browser.requested_urls(page.get_log("performance"))
    elsewhere = [u for u in urls if urlsplit(u)[:2] != origin[:2] and urlsplit(u).scheme != "data"]
    facts.figure("docs_page_requests", len(urls), detail="all to the container's origin")
    assert urls, "the browser recorded no request at all"
    assert not elsewhere, f"the docs page made requests beyond the container: {elsewhere}"
    errors = [e["message"] for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"the browser console shows errors on the docs page: {errors}"
