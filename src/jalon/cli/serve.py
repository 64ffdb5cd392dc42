"""``jalon serve``: the dashboard and the ingest API of a project."""

from pathlib import Path
from typing import Annotated

import typer

from jalon.cli.common import (
    config_option,
    console,
    lang_option,
    resolve_language,
    user_errors,
)
from jalon.i18n import translations
from jalon.web.project import ProjectContext
from jalon.web.server import DEFAULT_HOST, DEFAULT_PORT, run_server
from jalon.web.state import ServerSettings

DEFAULTS = ServerSettings()


def register(app: typer.Typer, _) -> None:
    """Add the ``serve`` command to ``app``, with help texts translated by ``_``."""
    Lang = lang_option(_)
    ConfigPath = config_option(_)

    @app.command(
        help=_(
            "Serve a project's dashboard (/dashboard/) and its Segment-compatible"
            " ingest API: POST /v1/batch, /v1/track, /v1/identify and /v1/group with"
            " a write key."
        )
    )
    def serve(
        config: ConfigPath = Path("jalon.toml"),
        host: Annotated[
            str, typer.Option("--host", help=_("Address to listen on."))
        ] = DEFAULT_HOST,
        port: Annotated[
            int, typer.Option("--port", help=_("TCP port to listen on."))
        ] = DEFAULT_PORT,
        rate: Annotated[
            float,
            typer.Option(
                "--rate", help=_("Requests per second allowed per API key."), min=0.001
            ),
        ] = DEFAULTS.rate_per_s,
        burst: Annotated[
            float,
            typer.Option(
                "--burst",
                help=_("Requests an API key may send at once above its rate."),
                min=1,
            ),
        ] = DEFAULTS.burst,
        max_batch_bytes: Annotated[
            int,
            typer.Option(
                "--max-batch-bytes",
                help=_("Largest accepted batch body, in bytes."),
                min=1024,
            ),
        ] = DEFAULTS.max_batch_bytes,
        drain_interval: Annotated[
            float,
            typer.Option(
                "--drain-interval",
                help=_(
                    "Seconds between two moves of received events into the store (0: only on request and at shutdown)."
                ),
                min=0,
            ),
        ] = DEFAULTS.drain_interval_s,
        lang: Lang = None,
    ) -> None:
        language = resolve_language(lang)
        _t = translations(language).gettext
        settings = ServerSettings(
            max_batch_bytes=max_batch_bytes,
            rate_per_s=rate,
            burst=burst,
            drain_interval_s=drain_interval,
        )
        with user_errors(language):
            project = ProjectContext.from_path(config)
            console.print(
                _t(
                    "Serving {project} on http://{host}:{port}: dashboard at"
                    " /dashboard/, OpenAPI at /docs."
                ).format(project=project.root, host=host, port=port)
            )
            run_server(project, host, port, settings, log_level="warning")


def serve_command(
    config: Path = Path("jalon.toml"),
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
) -> None:
    """Run the server on ``config``'s project with default limits (for scripts)."""
    run_server(ProjectContext.from_path(config), host, port)
