"""Every dashboard page in headless Chromium, in both languages, against the CLI.

Chromium is the Debian package at /usr/bin/chromium (scripts/install-browser.sh
installs it); Playwright drives it without downloading its own browser.
The figures a page shows are compared with what ``jalon report`` and
``jalon alerts list`` print for the same project, while the server runs.
"""

from __future__ import annotations

import re
import shutil

import pytest
from typer.testing import CliRunner

from jalon.cli.main import build_app
from jalon.i18n import Formatter

pytestmark = pytest.mark.browser

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
PAGES = (
    "/dashboard/",
    "/dashboard/milestones",
    "/dashboard/churn",
    "/dashboard/late",
    "/dashboard/accounts/p6",
)
PAGE_TIMEOUT_MS = 120_000
LANGUAGES = ("en", "fr")
# Without it, Rich wraps the CLI tables at 80 columns and splits their rows.
WIDE_CONSOLE = {"COLUMNS": "200"}

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, dashboard):
    context = browser.new_context(base_url=dashboard.url)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.requests = requests
    try:
        yield tab
    finally:
        context.close()


def cli_output(arguments: list[str], lang: str) -> str:
    result = CliRunner(env=WIDE_CONSOLE).invoke(
        build_app(lang), [*arguments, "--lang", lang]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_loads_offline(page, dashboard, lang):
    for path in PAGES:
        response = page.goto(f"{path}?lang={lang}")
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == lang, path
    outside = [url for url in page.requests if not url.startswith(dashboard.url)]
    assert outside == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_key_figures_match_cli(page, dashboard, tmp_path, lang):
    page.goto(f"/dashboard/?lang={lang}")
    row = page.locator('table.key-figures tr[data-milestone="first_post"]')
    shares = row.locator('[data-field="share"]').all_inner_texts()
    median = row.locator('[data-field="median"]').inner_text()

    report = tmp_path / "report.html"
    output = cli_output(
        ["report", "--config", str(dashboard.config), "--out", str(report)], lang
    )
    cli_row = next(
        line for line in output.splitlines() if line.startswith("│ First post ")
    )
    cli_cells = [cell.strip() for cell in cli_row.split("│") if cell.strip()]
    # CLI columns: milestone, reached, churned first, not reached yet, one
    # share per horizon, then the median with its interval.
    assert cli_cells[4:7] == shares
    assert cli_cells[7].startswith(median)
    # By hand (alerts_support): 2 of 14 posted by day 1, 8 by day 7 and 10 by
    # day 30; the one churned account never posts, so each share is n / 14.
    assert shares == [Formatter(lang).percent(n / 14) for n in (2, 8, 10)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_late_list_matches_cli(page, dashboard, lang):
    page.goto(f"/dashboard/late?lang={lang}")
    rows = page.locator('table[data-table="late"] tbody tr')
    shown = {
        rows.nth(i).get_attribute("data-account"): rows.nth(i)
        .locator('[data-field="days_late"]')
        .inner_text()
        for i in range(rows.count())
    }

    output = cli_output(["alerts", "list", "--config", str(dashboard.config)], lang)
    printed = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        if len(cells) == 6 and cells[0] in shown:
            printed[cells[0]] = cells[5]
    assert shown == printed
    assert sorted(shown) == ["f6", "p6", "t1"]


def test_language_switch_persists(page):
    page.goto("/dashboard/?lang=en")
    page.click('a[data-lang="fr"]')
    page.wait_for_load_state()
    page.click('a[data-nav="late"]')
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.evaluate("window.localStorage.getItem('jalon_lang')") == "fr"


def test_late_filter_and_sort(page):
    page.goto("/dashboard/late?lang=en")
    page.select_option('select[name="segment"]', "team")
    page.click('form.filters button[type="submit"]')
    page.wait_for_load_state()
    accounts = page.locator('table[data-table="late"] tbody tr').evaluate_all(
        "rows => rows.map(row => row.dataset.account)"
    )
    assert accounts == ["t1"]

    page.goto("/dashboard/late?lang=en")
    page.click('th[data-sort]:has-text("Days late")')
    ascending = page.locator('table[data-table="late"] tbody tr').evaluate_all(
        "rows => rows.map(row => row.dataset.account)"
    )
    # Days late: f6 10, t1 20, p6 25.
    assert ascending == ["f6", "t1", "p6"]


def test_phone_width_has_no_horizontal_scroll(browser, dashboard):
    context = browser.new_context(
        base_url=dashboard.url, viewport={"width": 390, "height": 844}
    )
    try:
        tab = context.new_page()
        tab.goto("/dashboard/late?lang=fr", timeout=PAGE_TIMEOUT_MS)
        overflow = tab.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
    finally:
        context.close()
    assert overflow <= 0


def test_account_page_lists_timeline(page):
    page.goto("/dashboard/accounts/p1?lang=en")
    events = page.locator('[data-table="events"] code').all_inner_texts()
    # p1: login at hour 1 of day 0, post on day 1.
    assert events == ["login", "post"]
    assert re.match(
        r"Reached on ",
        page.locator(
            '[data-table="account-milestones"] [data-field="status"]'
        ).inner_text(),
    )
