"""The translation and formatting bundle that every report view receives."""

from __future__ import annotations

from dataclasses import dataclass

from jalon.i18n import Formatter, translations
from jalon.i18n.labels import exclusion_reason_label

ALL_GROUP = "all"
UNKNOWN_GROUP = "(unknown)"


@dataclass(frozen=True)
class Text:
    """Gettext functions and the Formatter of one report language."""

    lang: str

    @property
    def fmt(self) -> Formatter:
        return Formatter(self.lang)

    def _(self, message: str) -> str:
        """Translate ``message`` (a gettext msgid)."""
        return translations(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """Translate by the plural form of ``count``."""
        return translations(self.lang).ngettext(singular, plural, count)

    def group_label(self, group: str) -> str:
        """Return the display name of a segment value or of the whole population."""
        if group == ALL_GROUP:
            return self._("All accounts")
        if group == UNKNOWN_GROUP:
            return self._("(unknown)")
        return group

    def reason(self, code: str) -> str:
        """Return the display name of an exclusion reason code."""
        return exclusion_reason_label(code, self._)
