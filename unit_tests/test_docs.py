"""/docs needs nothing outside the app: Swagger UI's assets are served by the app itself, and a
strict Content-Security-Policy lets the page load nothing else."""

import re

from fastapi.testclient import TestClient

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def _policy(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_every_asset_of_the_docs_page_is_served_by_the_app_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assets = ASSET.findall(page.text)
    assert sorted(assets) == [
        "/docs-assets/favicon.png",
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
    ], f"/docs loads {assets}"
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, f"{asset} answered {response.status_code}"
        assert len(response.content) > 1000, f"{asset} is {len(response.content)} bytes"
    assert "https://" not in page.text, "the page still names an outside URL"


def test_docs_page_policy_allows_only_its_own_origin_and_its_nonced_script(
    client: TestClient,
) -> None:
    page = client.get("/docs")
    policy = _policy(page.headers["content-security-policy"])
    nonce = re.search(r'<script nonce="([^"]+)">', page.text)
    assert nonce, "the inline start-up script carries no nonce"
    assert policy == {
        "default-src": "'none'",
        "script-src": f"'self' 'nonce-{nonce.group(1)}'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    assert page.text.count("<script") == page.text.count(f'nonce="{nonce.group(1)}"') + 1, (
        "an inline script without the nonce would be blocked (the one without is the bundle)"
    )


def test_every_docs_response_has_a_new_nonce(client: TestClient) -> None:
    first, second = (client.get("/docs").headers["content-security-policy"] for _ in range(2))
    assert first != second


def test_redoc_is_switched_off_rather_than_served_from_a_cdn(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
