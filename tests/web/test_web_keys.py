"""API keys: hashed storage, scopes, revocation and the ``jalon keys`` commands."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner
from web_support import SRC_DIR

from jalon.cli import keys as keys_cli
from jalon.errors import ApiError, ConfigError
from jalon.i18n import translations
from jalon.web.keys import KeyChecker, create_key, list_keys, revoke_key
from jalon.web.security import key_from_authorization


def _keys_app(lang: str = "en") -> typer.Typer:
    app = typer.Typer()
    keys_cli.register(app, translations(lang).gettext)

    @app.callback()
    def root() -> None:
        """Group holding the keys commands, as the jalon app does."""

    return app


def test_key_stored_as_salted_scrypt_hash(tmp_path):
    path = tmp_path / "keys.sqlite"

    key, text = create_key(path, "backend", "write")

    salt, stored = (
        sqlite3.connect(path)
        .execute("SELECT salt, key_hash FROM api_keys WHERE key_id = ?", (key.key_id,))
        .fetchone()
    )
    expected = hashlib.scrypt(text.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert stored == expected
    assert text.encode() not in path.read_bytes()


def test_checker_accepts_scope_and_rejects_other(tmp_path):
    path = tmp_path / "keys.sqlite"
    write, write_text = create_key(path, "backend", "write")
    checker = KeyChecker(path)

    assert checker.check(write_text, "write") == write.key_id
    with pytest.raises(ApiError) as caught:
        checker.check(write_text, "read")
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "text", [None, "", "not-a-key", "jalon_w_0123456789ab_secret", "jalon_x_a_b"]
)
def test_checker_rejects_unknown_keys(tmp_path, text):
    path = tmp_path / "keys.sqlite"
    create_key(path, "backend", "write")

    with pytest.raises(ApiError) as caught:
        KeyChecker(path).check(text, "write")

    assert caught.value.status == 401


def test_wrong_secret_of_known_id_rejected(tmp_path):
    path = tmp_path / "keys.sqlite"
    _, text = create_key(path, "backend", "write")
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")

    with pytest.raises(ApiError) as caught:
        KeyChecker(path).check(forged, "write")

    assert caught.value.status == 401


def test_revocation_seen_by_running_checker(tmp_path):
    path = tmp_path / "keys.sqlite"
    key, text = create_key(path, "backend", "write")
    checker = KeyChecker(path)
    checker.check(text, "write")

    # Revoke from another connection, as the CLI does while the server runs.
    revoke_key(path, key.key_id)

    with pytest.raises(ApiError) as caught:
        checker.check(text, "write")
    assert caught.value.code == "api.revoked_key"


def test_create_rejects_unknown_scope(tmp_path):
    with pytest.raises(ConfigError) as caught:
        create_key(tmp_path / "keys.sqlite", "x", "admin")

    assert caught.value.params["value"] == "admin"


def test_revoke_unknown_id_raises(tmp_path):
    create_key(tmp_path / "keys.sqlite", "x", "read")

    with pytest.raises(ConfigError) as caught:
        revoke_key(tmp_path / "keys.sqlite", "feedbeef0000")

    assert caught.value.code == "keys.unknown_id"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Basic YWJjMTIzOg==", "abc123"),  # base64("abc123:")
        ("Basic YWJjMTIz", "abc123"),  # base64("abc123"), no colon
        ("basic YWJjMTIzOnB3", "abc123"),  # base64("abc123:pw")
        ("Bearer abc123", "abc123"),
        ("Basic !!!", None),
        ("Digest abc", None),
        (None, None),
    ],
)
def test_key_read_from_authorization_header(header, key):
    assert key_from_authorization(header) == key


def test_cli_create_list_revoke(tmp_path):
    runner = CliRunner()
    app = _keys_app()
    project = str(tmp_path)

    created = runner.invoke(
        app, ["keys", "create", "--name", "web app", "--scope", "read", "-c", project]
    )
    key_id = list_keys(tmp_path / ".jalon" / "keys.sqlite")[0].key_id
    listed = runner.invoke(app, ["keys", "list", "-c", project])
    revoked = runner.invoke(app, ["keys", "revoke", key_id, "-c", project])

    assert created.exit_code == 0, created.output
    assert f"jalon_r_{key_id}_" in created.output
    assert listed.exit_code == 0, listed.output
    assert "web app" in listed.output
    assert revoked.exit_code == 0, revoked.output
    assert list_keys(tmp_path / ".jalon" / "keys.sqlite")[0].revoked_at is not None


def test_cli_bad_scope_exits_2_in_french(tmp_path):
    result = CliRunner().invoke(
        _keys_app("fr"),
        [
            "keys",
            "create",
            "--name",
            "x",
            "--scope",
            "admin",
            "--lang",
            "fr",
            "-c",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 2, result.output
    assert "Portée de clé 'admin' invalide" in result.output


def test_cli_create_in_subprocess(tmp_path):
    script = (
        "import typer, sys\n"
        "from jalon.cli import keys\n"
        "from jalon.i18n import translations\n"
        "app = typer.Typer()\n"
        "keys.register(app, translations('en').gettext)\n"
        "app.callback()(lambda: None)\n"
        "app(args=sys.argv[1:], prog_name='jalon')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR), "COLUMNS": "200"}

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "keys",
            "create",
            "--name",
            "ci",
            "-c",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    key_text = next(
        line for line in result.stdout.splitlines() if line.startswith("jalon_w_")
    )
    stored = list_keys(tmp_path / ".jalon" / "keys.sqlite")[0]
    assert (
        KeyChecker(tmp_path / ".jalon" / "keys.sqlite").check(key_text, "write")
        == stored.key_id
    )
