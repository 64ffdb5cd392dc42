"""The ``jalon`` command: builds the Typer app in the user's language.

Help texts are translated when the app is built, so the language is read
from ``--lang`` in the arguments (or the environment) before Typer parses
them. Command groups live in their own modules and register themselves
through a ``register(app, _)`` function.
"""

import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from jalon.i18n import LANGUAGE_ENV, choose_language, translations

COMMAND_MODULES = (
    "jalon.cli.project",
    "jalon.cli.check",
    "jalon.cli.revenue",
    "jalon.cli.serve",
    "jalon.cli.keys",
    "jalon.cli.alerts",
)
logger = logging.getLogger(__name__)


def language_from_argv(argv: Sequence[str]) -> str:
    """Return the language named by ``--lang`` in ``argv``, else the environment's."""
    explicit = None
    for index, argument in enumerate(argv):
        if argument == "--lang" and index + 1 < len(argv):
            explicit = argv[index + 1]
        elif argument.startswith("--lang="):
            explicit = argument.split("=", 1)[1]
    try:
        return choose_language(explicit)
    except ValueError:
        # Typer reports the invalid choice itself, in English.
        return choose_language(None) if not os.environ.get("JALON_LANG") else "en"


def build_app(lang: str) -> typer.Typer:
    """Return the Typer app with help texts in ``lang``."""
    _ = translations(lang).gettext
    _translate_click(_)
    app = typer.Typer(
        name="jalon",
        help=_(
            "Measure Time to Value: how long new accounts take to reach value, "
            "who is stuck, and what it is worth."
        ),
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
    )
    @app.callback()
    def root(
        lang: Annotated[
            str | None,
            typer.Option(
                "--lang",
                help=_("Language of messages and reports: fr or en (default: JALON_LANG, then the locale)."),
            ),
        ] = None,
    ) -> None:
        # The language was read from the arguments before the app was built.
        pass

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        module.register(app, _)
    return app


TYPER_STRINGS = (
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)
HELP_OPTION_TEXT = "Show this message and exit."


def _translate_click(_) -> None:
    """Route Typer's own words (Options, [default: ...]) through our catalog.

    Typer reads them from module constants and from ``gettext`` of the
    standard library, so both are replaced for this process.
    """
    import typer.core
    import typer.rich_utils as rich_utils

    typer.core._ = _
    for name in TYPER_STRINGS:
        original = getattr(rich_utils, f"_jalon_original_{name}", None) or getattr(rich_utils, name)
        setattr(rich_utils, f"_jalon_original_{name}", original)
        setattr(rich_utils, name, _(original))


def _translate_help_options(command, _) -> None:
    """Translate the help of every ``--help`` option, which Typer hard-codes.

    Typer creates that option on first use and caches it on the command, so
    creating it here with a throw-away context lets us set its text.
    """
    try:
        from typer._click.core import Context
    except ImportError:  # Typer releases that use Click itself
        from click import Context

    option = command.get_help_option(Context(command))
    if option is not None and option.help == HELP_OPTION_TEXT:
        option.help = _(HELP_OPTION_TEXT)
    for sub in getattr(command, "commands", {}).values():
        _translate_help_options(sub, _)


def _without_lang(argv: list[str]) -> list[str]:
    """Return ``argv`` without its ``--lang X`` or ``--lang=X`` arguments."""
    kept: list[str] = []
    skip = False
    for index, argument in enumerate(argv):
        if skip:
            skip = False
            continue
        if argument == "--lang" and index + 1 < len(argv):
            skip = True
            continue
        if argument.startswith("--lang="):
            continue
        kept.append(argument)
    return kept


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``jalon`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=os.environ.get("JALON_LOG_LEVEL", "ERROR").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Statistical caveats are stored on the results and shown translated in
    # the summary and the report. Python's own warning output would repeat
    # them in English, so warnings go to the log instead.
    logging.captureWarnings(True)
    lang = language_from_argv(argv)
    # Every command reads the language from the environment once --lang has
    # been taken out, so sub-commands need not each declare the option.
    previous = os.environ.get(LANGUAGE_ENV)
    os.environ[LANGUAGE_ENV] = lang
    try:
        command = typer.main.get_command(build_app(lang))
        _translate_help_options(command, translations(lang).gettext)
        command.main(args=_without_lang(argv), prog_name="jalon")
    finally:
        if previous is None:
            os.environ.pop(LANGUAGE_ENV, None)
        else:
            os.environ[LANGUAGE_ENV] = previous


if __name__ == "__main__":
    main()
