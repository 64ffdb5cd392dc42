"""Every ``[alerts]`` and ``[serve]`` key and every ``jalon alerts`` command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from jalon.alerts.settings import ALERT_KEYS, EMAIL_KEYS, SERVE_KEYS, WEBHOOK_KEYS

DOCS = Path(__file__).parents[2] / "docs"
COMMANDS = ("jalon alerts run", "jalon alerts list", "--dry-run")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_key_documented(lang):
    text = (DOCS / lang / "serve.md").read_text(encoding="utf-8")
    keys = ALERT_KEYS + WEBHOOK_KEYS + EMAIL_KEYS + SERVE_KEYS
    missing = [
        key
        for key in keys
        if f"| `{key}` |" not in text and f"`[alerts.{key}]`" not in text
    ]
    assert missing == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_command_documented(lang):
    text = (DOCS / lang / "serve.md").read_text(encoding="utf-8")
    assert [command for command in COMMANDS if command not in text] == []
