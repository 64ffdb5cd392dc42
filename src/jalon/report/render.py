"""Render the report: Jinja2 templates with gettext, CSS and script inlined.

The output is one HTML file that opens offline: styles and the small script
are copied into it, charts are inline SVG, and nothing is loaded from a
network address.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from jalon.i18n import Formatter, translations
from jalon.report.report_view import report_view

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
MAIN_TEMPLATE = "report.html"
CODE_SPAN = re.compile(r"`([^`]+)`")
# Sections rendered by partials that other areas write, by Analysis field.


def code_spans(text: str) -> Markup:
    """Escape ``text`` and turn each ```name``` into ``<code>name</code>``.

    >>> str(code_spans("first `a<b` event"))
    'first <code>a&lt;b</code> event'
    """
    escaped = str(escape(text))
    return Markup(CODE_SPAN.sub(r"<code>\1</code>", escaped))


@cache
def _static(name: str) -> Markup:
    # The files are ours and contain no "</style>" or "</script>", so they can
    # be inlined as they are.
    return Markup((STATIC_DIR / name).read_text(encoding="utf-8"))


def environment(lang: str) -> jinja2.Environment:
    """Return a Jinja2 environment for the report templates in ``lang``.

    The ``jinja2.ext.i18n`` extension is installed with the merged catalogs
    of ``lang`` in new style, so ``{{ _("text %(name)s", name=value) }}``
    formats and escapes its arguments.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method to the environment at run time.
    install = env.install_gettext_translations  # type: ignore[attr-defined]
    install(translations(lang), newstyle=True)
    env.filters["code"] = code_spans
    env.globals["css"] = _static("report.css")
    env.globals["script"] = _static("report.js")
    return env


def render_report(analysis: Any, lang: str) -> str:
    """Return the report of ``analysis`` as one HTML document in ``lang``.

    Parameters
    ----------
    analysis
        A :class:`jalon.analysis.Analysis`.
    lang
        ``"en"`` or ``"fr"``.
    """
    view = report_view(analysis, lang)
    template = environment(lang).get_template(MAIN_TEMPLATE)
    # Partials written by other areas (the revenue section) format with
    # ``fmt`` themselves, so it is passed beside the view.
    churn_view = None
    if getattr(analysis, "churn_link", None) is not None:
        from jalon.report.churn_link_view import churn_link_view

        churn_view = churn_link_view(analysis, lang)
    return template.render(view=view, fmt=Formatter(lang), churn_link_view=churn_view)


def write_report(analysis: Any, path: Path, lang: str) -> Path:
    """Write the HTML report of ``analysis`` to ``path`` and return the path.

    Parameters
    ----------
    analysis
        A :class:`jalon.analysis.Analysis`.
    path
        Output file; missing parent folders are created.
    lang
        ``"en"`` or ``"fr"``.

    Returns
    -------
    Path
        ``path``, resolved to an absolute path.
    """
    html = render_report(analysis, lang)
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    logger.info("report written to %s (%s, %d bytes)", path, lang, len(html.encode()))
    return path
