"""Every [analysis] key and caveat code of the churn link is documented and translated."""

from __future__ import annotations

from pathlib import Path

import pytest

from jalon.churn_link import aha as aha_module
from jalon.churn_link import cox, landmark, ltv, segments
from jalon.churn_link.analyze import CAVEAT_NO_CHURN, CAVEAT_NO_MILESTONE
from jalon.churn_link.settings import ALLOWED_KEYS
from jalon.i18n import translations
from jalon.report.churn_link_view import CAVEAT_MESSAGES

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("page", ["en/churn-link.md", "fr/lien-churn.md"])
def test_every_analysis_key_documented(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    missing = [key for key in ALLOWED_KEYS if f"`{key}`" not in text]
    assert missing == []


def test_every_caveat_code_has_a_sentence():
    modules = (cox, landmark, ltv, segments, aha_module)
    codes = {
        value
        for module in modules
        for name, value in vars(module).items()
        if name.startswith("CAVEAT_")
    } | {CAVEAT_NO_CHURN, CAVEAT_NO_MILESTONE}
    assert sorted(codes - set(CAVEAT_MESSAGES)) == []


def test_caveat_sentences_translated_to_french():
    french = translations("fr")
    untranslated = [
        message
        for message in CAVEAT_MESSAGES.values()
        if french.gettext(message) == message
    ]
    assert untranslated == []
