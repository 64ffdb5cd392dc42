"""Dashboard pages and JSON over HTTP, on the hand-worked project of tests/alerts.

Late pairs (see alerts_support): p6 (pro, 30 days observed, expected 5, 25
late), t1 (team, 30, overall 10, 20 late) and f6 (free, 20, 10, 10 late).
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from jalon.i18n import Formatter

PAGES = (
    "/dashboard/",
    "/dashboard/milestones",
    "/dashboard/churn",
    "/dashboard/late",
    "/dashboard/accounts/p6",
)
EXPECTED_CSV = (
    "account_id,milestone,segment,start_at,elapsed_days,expected_days,days_late\n"
    "p6,first_post,pro,2026-01-01T00:00:00,30.0,5.0,25.0\n"
    "t1,first_post,team,2026-01-01T00:00:00,30.0,10.0,20.0\n"
    "f6,first_post,free,2026-01-11T00:00:00,20.0,10.0,10.0\n"
)
EXTERNAL_LOAD = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


def test_late_csv_export(dashboard):
    response = httpx.get(f"{dashboard.url}/dashboard/late.csv", timeout=120)
    assert response.text == EXPECTED_CSV


def test_late_csv_filtered(dashboard):
    response = httpx.get(
        f"{dashboard.url}/dashboard/late.csv?segment=free&min_days=5", timeout=120
    )
    assert response.text.splitlines()[1:] == [
        "f6,first_post,free,2026-01-11T00:00:00,20.0,10.0,10.0"
    ]


def test_late_page_filter_min_days(dashboard):
    html = httpx.get(f"{dashboard.url}/dashboard/late?min_days=15", timeout=120).text
    assert re.findall(r'<tr data-account="([^"]+)"', html) == ["p6", "t1"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_external(dashboard, path):
    html = httpx.get(f"{dashboard.url}{path}", timeout=120).text
    assert EXTERNAL_LOAD.findall(html) == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_page_language_from_query(dashboard, lang):
    response = httpx.get(f"{dashboard.url}/dashboard/?lang={lang}", timeout=120)
    assert f'<html lang="{lang}">' in response.text
    assert response.cookies.get("jalon_lang") == lang


def test_french_from_accept_language(dashboard):
    response = httpx.get(
        f"{dashboard.url}/dashboard/", headers={"Accept-Language": "fr-FR"}, timeout=120
    )
    assert '<html lang="fr">' in response.text


def test_figures_json_needs_read_key(dashboard):
    response = httpx.get(f"{dashboard.url}/api/dashboard/figures", timeout=120)
    assert response.status_code == 401


def test_figures_json_percentiles(dashboard):
    response = httpx.get(
        f"{dashboard.url}/api/dashboard/figures",
        headers={"Authorization": f"Bearer {dashboard.read_key}"},
        timeout=120,
    )
    milestone = response.json()["milestones"][0]
    percentiles = {item["q"]: item["days"] for item in milestone["percentiles"]}
    # Overall KM (alerts_support): S(4) = 0.476 <= 0.5 and S(10) = 0.238 <= 0.25.
    assert percentiles == {0.5: 4.0, 0.75: 10.0, 0.9: None}
    assert milestone["late"] == 3


def test_late_json(dashboard):
    response = httpx.get(
        f"{dashboard.url}/api/dashboard/late?milestone=first_post",
        headers={"Authorization": f"Bearer {dashboard.read_key}"},
        timeout=120,
    )
    assert [(item["account_id"], item["days_late"]) for item in response.json()] == [
        ("p6", 25.0),
        ("t1", 20.0),
        ("f6", 10.0),
    ]


def test_unknown_account_404(dashboard):
    response = httpx.get(f"{dashboard.url}/dashboard/accounts/nobody", timeout=120)
    assert response.status_code == 404


def test_static_rejects_other_files(dashboard):
    response = httpx.get(
        f"{dashboard.url}/dashboard/static/..%2Fdashboard.py", timeout=120
    )
    assert response.status_code == 404


def test_account_page_status(dashboard):
    html = httpx.get(f"{dashboard.url}/dashboard/accounts/t2?lang=en", timeout=120).text
    statuses = re.findall(r'<td data-field="status">([^<]+)</td>', html)
    # t2 cancelled on day 2 (2026-01-03) without a post.
    assert statuses == ["Churned before reaching it"]
    status = re.search(r'<dd data-field="status">([^<]+)</dd>', html).group(1)
    assert status == f"Churned on {Formatter('en').date(dt.date(2026, 1, 3))}"


def test_invalid_min_days_400(dashboard):
    response = httpx.get(f"{dashboard.url}/dashboard/late.csv?min_days=-3", timeout=120)
    assert response.status_code == 400
    assert response.json()["code"] == "dashboard.invalid_min_days"


def test_empty_min_days_no_filter(dashboard):
    response = httpx.get(
        f"{dashboard.url}/dashboard/late.csv?min_days=&milestone=", timeout=120
    )
    assert response.text == EXPECTED_CSV


def test_rule_text_fixed_days():
    from pathlib import Path

    from jalon.alerts import parse_alert_settings
    from jalon.report.text import Text
    from jalon.web.dashboard import rule_text

    settings = parse_alert_settings({"rule": "days", "days": 14}, Path("/project"))
    text = rule_text(settings, Text("fr"))
    assert text == (
        "Un compte est en retard quand il n'a ni atteint le jalon ni churné "
        f"dans le délai attendu ({Formatter('fr').days(14, 0)})."
    )
