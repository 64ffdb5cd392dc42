"""``jalon alerts``: Typer's runner in process, and one real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alerts_support import write_project
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from jalon.cli.main import build_app

SRC = Path(__file__).parents[2] / "src" / "jalon"
SOURCES = sorted((SRC / "alerts").glob("*.py")) + [SRC / "cli" / "alerts.py"]
KEYWORDS = {"_": None, "N_": None, "_t": None}


def test_list_prints_late_accounts(tmp_path):
    config = write_project(tmp_path / "p")
    result = CliRunner().invoke(
        build_app("en"), ["alerts", "list", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    for account in ("p6", "t1", "f6"):
        assert account in result.output


def test_run_exit_one_when_webhook_down(tmp_path):
    # Nothing listens on port 9 of loopback, so every attempt is refused.
    alerts = (
        '[alerts]\nretries = 0\n[alerts.webhook]\nurl = "http://127.0.0.1:9/hook"\n'
    )
    config = write_project(tmp_path / "p", extra=alerts)
    result = CliRunner().invoke(
        build_app("en"), ["alerts", "run", "--config", str(config)]
    )
    assert result.exit_code == 1, result.output


def test_run_subprocess_dry_run(tmp_path):
    config = write_project(tmp_path / "p")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "jalon.cli.main",
            "alerts",
            "run",
            "--dry-run",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "3 accounts late to a milestone." in completed.stdout


def test_every_message_in_both_catalogs():
    found = set()
    for path in SOURCES:
        for _line, message, _c, _ctx in extract_from_file(
            "python", str(path), keywords=KEYWORDS
        ):
            found.add(message)
    for lang in ("fr", "en"):
        folder = SRC / "i18n" / "locales" / lang / "LC_MESSAGES"
        known = set()
        for po in folder.glob("*.po"):
            with po.open("rb") as handle:
                known |= {
                    message.id for message in read_po(handle, locale=lang) if message.id
                }
        assert sorted(found - known) == [], lang
