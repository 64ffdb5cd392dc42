"""Project paths read from jalon.toml."""

from __future__ import annotations

import pytest

from jalon.errors import ConfigError
from jalon.web.project import ProjectContext


def test_project_reads_store_and_timezone(tmp_path):
    (tmp_path / "jalon.toml").write_text(
        '[project]\nstore = "data/acme.duckdb"\ntimezone = "Europe/Paris"\n'
    )

    project = ProjectContext.from_path(tmp_path / "jalon.toml")

    assert project.root == tmp_path
    assert project.store_path == tmp_path / "data" / "acme.duckdb"
    assert project.spool_path == tmp_path / ".jalon" / "spool.sqlite"
    assert project.keys_path == tmp_path / ".jalon" / "keys.sqlite"
    assert project.timezone == "Europe/Paris"


def test_project_defaults_without_config(tmp_path):
    project = ProjectContext.from_path(tmp_path)

    assert project.store_path == tmp_path / ".jalon" / "store.duckdb"
    assert project.timezone == "UTC"


def test_project_invalid_toml_raises_config_error(tmp_path):
    (tmp_path / "jalon.toml").write_text("[project\n")

    with pytest.raises(ConfigError) as caught:
        ProjectContext.from_path(tmp_path)

    assert caught.value.code == "config.bad_toml"
