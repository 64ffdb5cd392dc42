"""The dashboard of a project that cannot be analysed explains why instead of failing."""

from __future__ import annotations

import httpx
from web_support import basic_auth

PROJECT_ERROR_STATUS = 503


def test_missing_config_page_in_french(live_server):
    # The test project has API keys but no jalon.toml.
    response = httpx.get(
        f"{live_server.url}/dashboard/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    )

    assert response.status_code == PROJECT_ERROR_STATUS
    assert response.headers["content-type"].startswith("text/html")
    assert "Le tableau de bord ne peut pas encore afficher de chiffres." in response.text
    assert "Fichier de configuration introuvable" in response.text
    assert str(live_server.project.root / "jalon.toml") in response.text


def test_missing_config_page_in_english(live_server):
    response = httpx.get(f"{live_server.url}/dashboard/?lang=en")

    assert response.status_code == PROJECT_ERROR_STATUS
    assert "The dashboard cannot show figures yet." in response.text
    assert "Configuration file not found" in response.text


def test_missing_config_api_error_body(live_server):
    response = httpx.get(
        f"{live_server.url}/api/dashboard/figures", headers=basic_auth(live_server.read_key)
    )

    assert response.status_code == PROJECT_ERROR_STATUS
    body = response.json()
    assert body["code"] == "config.not_found"
    assert body["params"]["file"] == str(live_server.project.root / "jalon.toml")
