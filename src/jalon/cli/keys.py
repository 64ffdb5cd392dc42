"""``jalon keys create|list|revoke``: API keys of the project's server."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jalon.cli.common import (
    config_option,
    console,
    lang_option,
    resolve_language,
    user_errors,
)
from jalon.i18n import translations
from jalon.web.keys import create_key, list_keys, revoke_key
from jalon.web.project import ProjectContext


def register(app: typer.Typer, _) -> None:
    """Add the ``keys`` command group to ``app``, with help texts translated by ``_``."""
    Lang = lang_option(_)
    ConfigPath = config_option(_)
    keys_app = typer.Typer(
        help=_("Create, list and revoke the API keys of jalon serve."),
        no_args_is_help=True,
    )
    app.add_typer(keys_app, name="keys")

    @keys_app.command("create", help=_("Create an API key and print it once."))
    def create(
        name: Annotated[
            str,
            typer.Option(
                "--name", help=_("Label of the key, e.g. the sending application.")
            ),
        ],
        scope: Annotated[
            str,
            typer.Option(
                "--scope",
                help=_("write: send events; read: read endpoints under /api."),
            ),
        ] = "write",
        config: ConfigPath = Path("jalon.toml"),
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        _t = translations(language).gettext
        with user_errors(language):
            project = ProjectContext.from_path(config)
            key, text = create_key(project.keys_path, name, scope)
        console.print(
            _t("Created the {scope} key {key_id} ({name}):").format(
                scope=key.scope, key_id=key.key_id, name=key.name
            )
        )
        console.print(text, soft_wrap=True, highlight=False)
        console.print(
            _t("Copy it now: only its hash is stored, it cannot be shown again.")
        )

    @keys_app.command("list", help=_("List the API keys, revoked ones included."))
    def list_command(
        config: ConfigPath = Path("jalon.toml"), lang: Lang = None
    ) -> None:
        language = resolve_language(lang)
        _t = translations(language).gettext
        with user_errors(language):
            keys = list_keys(ProjectContext.from_path(config).keys_path)
        if not keys:
            console.print(
                _t("No API key yet: create one with 'jalon keys create --name NAME'.")
            )
            return
        table = Table()
        for title in (
            _t("Id"),
            _t("Name"),
            _t("Scope"),
            _t("Created (UTC)"),
            _t("Revoked (UTC)"),
        ):
            table.add_column(title)
        for key in keys:
            table.add_row(
                key.key_id, key.name, key.scope, key.created_at, key.revoked_at or ""
            )
        console.print(table)

    @keys_app.command(
        "revoke",
        help=_("Revoke an API key; the server rejects it from its next request."),
    )
    def revoke(
        key_id: Annotated[
            str, typer.Argument(help=_("Id of the key, as 'jalon keys list' shows it."))
        ],
        config: ConfigPath = Path("jalon.toml"),
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        _t = translations(language).gettext
        with user_errors(language):
            key = revoke_key(ProjectContext.from_path(config).keys_path, key_id)
        console.print(
            _t("Revoked the key {key_id} ({name}).").format(
                key_id=key.key_id, name=key.name
            )
        )
