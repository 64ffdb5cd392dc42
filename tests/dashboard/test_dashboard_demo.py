"""Funnel, cohort, churn and revenue pages in Chromium, on the synthetic demo company.

The hand-worked project of the other dashboard tests has no funnel, cohort
or billing data, so these pages are loaded here on a small demo company.
"""

from __future__ import annotations

import pytest
from dashboard_support import serve_project

from jalon.demo import generate_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_SEED = 11
DEMO_ACCOUNTS = 80
PAGE_TIMEOUT_MS = 300_000
# Page, then a selector of the report section it must show.
PAGES = {
    "/dashboard/": "#key-figures",
    "/dashboard/funnels": "section[id^='funnel-']",
    "/dashboard/cohorts": "#cohorts",
    "/dashboard/churn": "section[id^='churn']",
    "/dashboard/revenue": "#revenue",
}

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder, seed=DEMO_SEED, n_accounts=DEMO_ACCOUNTS)
    live = serve_project(folder / "jalon.toml")
    try:
        yield live
    finally:
        live.stop()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_demo_pages_show_sections(demo, lang):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(base_url=demo.url)
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            for path, selector in PAGES.items():
                response = page.goto(f"{path}?lang={lang}")
                assert response.status == 200, path
                assert page.locator(selector).count() >= 1, path
                assert page.locator("html").get_attribute("lang") == lang, path
        finally:
            browser.close()
    assert [url for url in requests if not url.startswith(demo.url)] == []
