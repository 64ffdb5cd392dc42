"""Report templates show no text outside gettext calls.

Every word a reader sees must go through ``_()`` so that it exists in both
languages. After removing Jinja2 expressions, statements, comments and HTML
tags from a template, only punctuation and spaces may remain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jalon.report.render import TEMPLATES_DIR

JINJA_PARTS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
HTML_PARTS = re.compile(r"<style>.*?</style>|<script>.*?</script>|<[^>]+>", re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")
REPORT_TEMPLATES = sorted(TEMPLATES_DIR.glob("*.html"))


def visible_text(template: str) -> str:
    """Return the literal text of a template outside Jinja2 and HTML markup."""
    without_jinja = JINJA_PARTS.sub(" ", template)
    return HTML_PARTS.sub(" ", without_jinja)


def test_visible_text_helper_keeps_literal_words():
    template = '<p class="x">{{ _("Kept out") }} Literal {% if a %}.{% endif %}</p>'

    assert visible_text(template).split() == ["Literal", "."]


def test_report_templates_found():
    assert {path.name for path in REPORT_TEMPLATES} >= {
        "report.html",
        "_milestone.html",
    }


@pytest.mark.parametrize("path", REPORT_TEMPLATES, ids=lambda path: path.name)
def test_template_has_no_untranslated_text(path: Path):
    words = [
        word
        for word in visible_text(path.read_text(encoding="utf-8")).split()
        if LETTER.search(word)
    ]

    assert words == [], f"{path.name} shows text outside _(): {words}"
