"""Plain-language descriptions of milestone conditions, starts and churn rules.

The report restates every definition in words so a reader can check what was
measured without reading ``jalon.toml``. Each function takes the raw TOML
table (a ``dict``) and the ``gettext`` function of the report language, and
returns one sentence. Event and property names are wrapped in backticks;
the report turns them into ``<code>`` elements.

>>> describe_condition({"event": "report_shared", "count": 3,
...                     "where": {"plan": "pro"}, "within": "7d"}, lambda s: s)
'3rd `report_shared` event with `plan` = pro, within 7 days of the start'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from babel import Locale
from babel.lists import format_list

from jalon.i18n import DEFAULT_LANGUAGE, LANGUAGES, Formatter, translations
from jalon.i18n.labels import tier_label

__all__ = [
    "describe_churn",
    "describe_condition",
    "describe_duration",
    "describe_start",
    "describe_where",
    "tier_label",
]

Gettext = Callable[[str], str]

DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
# Symbols read the same in both languages, so they need no translation.
COMPARISON_SYMBOLS = {
    "eq": "=",
    "ne": "≠",
    "gt": ">",
    "ge": "≥",
    "lt": "<",
    "le": "≤",
}
# Suffixes by CLDR ordinal plural category ("1st", "2nd"; "1er", "2e").
ORDINAL_SUFFIXES = {
    "en": {"one": "st", "two": "nd", "few": "rd", "other": "th"},
    "fr": {"one": "er", "other": "e"},
}


def language_of(gettext: Gettext) -> str:
    """Return the language of a bound ``gettext``, read from its catalog header.

    Falls back to English for a plain function, such as ``lambda s: s``.
    """
    owner = getattr(gettext, "__self__", None)
    info = owner.info() if hasattr(owner, "info") else {}
    language = str(info.get("language", "")).lower()[:2]
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


class _Describer:
    """Sentence builder bound to one language."""

    def __init__(self, gettext: Gettext, lang: str | None) -> None:
        self._ = gettext
        self.lang = lang or language_of(gettext)
        self._ngettext = translations(self.lang).ngettext
        self.formatter = Formatter(self.lang)
        self.locale = Locale.parse(self.formatter.locale)

    def ngettext(self, singular: str, plural: str, value: float) -> str:
        """Translate by the plural form of ``value``, which may be fractional."""
        # CLDR decides: 1.5 is singular in French ("1,5 jour"), plural in English.
        count = 1 if self.locale.plural_form(value) == "one" else 2
        return self._ngettext(singular, plural, count)

    def number(self, value: float) -> str:
        digits = 0 if float(value).is_integer() else 2
        text = self.formatter.number(value, digits)
        return text.rstrip("0").rstrip(",.") if digits else text

    def ordinal(self, value: int) -> str:
        suffixes = ORDINAL_SUFFIXES[self.lang]
        form = self.locale.ordinal_form(value)
        return f"{value}{suffixes.get(form, suffixes['other'])}"

    def either(self, items: Sequence[str]) -> str:
        return format_list(list(items), style="or", locale=self.locale)

    def every(self, items: Sequence[str]) -> str:
        return format_list(list(items), style="standard", locale=self.locale)


def describe_duration(value: Any, _: Gettext, lang: str | None = None) -> str:
    """Describe a duration such as ``"36h"`` or ``7`` (days) in words.

    >>> describe_duration("36h", lambda s: s)
    '36 hours'
    """
    return _duration(value, _Describer(_, lang))


def _duration(value: Any, words: _Describer) -> str:
    amount, unit = _split_duration(value)
    if unit == "s":
        template = words.ngettext("{count} second", "{count} seconds", amount)
    elif unit == "m":
        template = words.ngettext("{count} minute", "{count} minutes", amount)
    elif unit == "h":
        template = words.ngettext("{count} hour", "{count} hours", amount)
    elif unit == "w":
        template = words.ngettext("{count} week", "{count} weeks", amount)
    else:
        template = words.ngettext("{count} day", "{count} days", amount)
    return template.format(count=words.number(amount))


def _split_duration(value: Any) -> tuple[float, str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), "d"
    match = DURATION_PATTERN.match(str(value))
    if match is None:
        raise ValueError(
            f"invalid duration {value!r}: expected a number of days or '7d'"
        )
    return float(match.group(1)), match.group(2)


def describe_where(
    where: Mapping[str, Any], _: Gettext, lang: str | None = None
) -> str:
    """Describe a ``where`` filter, such as ``plan = pro and score > 0``.

    >>> describe_where({"score": {"gt": 0}, "plan": "pro"}, lambda s: s)
    '`score` > 0 and `plan` = pro'
    """
    return _where(where, _Describer(_, lang), nested=False)


def _where(where: Mapping[str, Any], words: _Describer, nested: bool) -> str:
    parts: list[str] = []
    groups = 0
    for key, value in where.items():
        if key in ("any", "all") and isinstance(value, list):
            items = [_where(item, words, True) for item in value]
            joined = words.either(items) if key == "any" else words.every(items)
            parts.append(joined if len(items) == 1 else f"({joined})")
            groups += len(items) > 1
        elif isinstance(value, Mapping):
            parts += [_compare(key, op, arg, words) for op, arg in value.items()]
        else:
            parts.append(_compare(key, "eq", value, words))
    if len(parts) == 1 and groups == 1:
        # A lone group needs no brackets of its own.
        return parts[0][1:-1] if not nested else parts[0]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    text = words.every(parts)
    return f"({text})" if nested else text


def _compare(prop: str, op: str, value: Any, words: _Describer) -> str:
    _ = words._
    name = f"`{prop}`"
    if op in COMPARISON_SYMBOLS:
        return f"{name} {COMPARISON_SYMBOLS[op]} {_value(value, words)}"
    if op == "in":
        values = words.either([_value(item, words) for item in _as_list(value)])
        return _("{property} is {values}").format(property=name, values=values)
    if op == "not_in":
        values = words.either([_value(item, words) for item in _as_list(value)])
        return _("{property} is not {values}").format(property=name, values=values)
    if op == "contains":
        text = _value(value, words)
        return _("{property} contains {value}").format(property=name, value=text)
    if op == "is_set":
        if value:
            return _("{property} is set").format(property=name)
        return _("{property} is not set").format(property=name)
    return f"{name} {op} {_value(value, words)}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _value(value: Any, words: _Describer) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and math.isfinite(value):
        return words.number(value)
    return str(value)


def describe_condition(
    cond: Mapping[str, Any], _: Gettext, lang: str | None = None
) -> str:
    """Describe a milestone condition (its raw TOML table) in one sentence.

    Parameters
    ----------
    cond
        The milestone table or a sub-condition: keys ``event``, ``where``,
        ``count``, ``within``, ``distinct``, ``active_days``, ``users``,
        ``all_of``, ``any_of``, ``sequence``, ``gap`` and ``start``. Other
        keys (``id``, ``name``, ``tier``) are ignored.
    _
        ``gettext`` of the report language.
    lang
        ``"en"`` or ``"fr"``; sets plural rules, ordinals and list words.
        By default, the language of the catalog behind ``_``, else English.

    Returns
    -------
    str
        A sentence without a final full stop, names in backticks.

    Examples
    --------
    >>> describe_condition({"any_of": [{"event": "a"}, {"event": "b"}]}, lambda s: s)
    'any of: (first `a` event) or (first `b` event)'
    """
    words = _Describer(_, lang)
    text = _condition(cond, words)
    if "within" in cond and "sequence" not in cond:
        text = _("{condition}, within {duration} of the start").format(
            condition=text, duration=_duration(cond["within"], words)
        )
    if cond.get("start"):
        text = _("{condition}, counted from the start `{start}`").format(
            condition=text, start=cond["start"]
        )
    return text


def _condition(cond: Mapping[str, Any], words: _Describer) -> str:
    _ = words._
    if "all_of" in cond:
        parts = [
            f"({describe_condition(item, _, words.lang)})" for item in cond["all_of"]
        ]
        return _("all of: {conditions}").format(conditions=words.every(parts))
    if "any_of" in cond:
        parts = [
            f"({describe_condition(item, _, words.lang)})" for item in cond["any_of"]
        ]
        return _("any of: {conditions}").format(conditions=words.either(parts))
    if "sequence" in cond:
        return _sequence(cond, words)
    if "users" in cond:
        inner = {
            key: value for key, value in cond.items() if key not in ("users", "within")
        }
        users = int(cond["users"])
        template = words.ngettext(
            "at least {count} user of the account reaches: {condition}",
            "at least {count} users of the account each reach: {condition}",
            users,
        )
        return template.format(count=users, condition=_condition(inner, words))
    if "active_days" in cond:
        return _active_days(cond, words)
    if "distinct" in cond:
        return _distinct(cond, words)
    return _nth_event(cond, words)


def _events(cond: Mapping[str, Any], words: _Describer) -> str | None:
    events = cond.get("event")
    if events is None:
        return None
    names = [f"`{name}`" for name in _as_list(events)]
    return words.either(names)


def _with_filters(text: str, cond: Mapping[str, Any], words: _Describer) -> str:
    if not cond.get("where"):
        return text
    filters = _where(cond["where"], words, nested=False)
    return words._("{subject} with {filters}").format(subject=text, filters=filters)


def _nth_event(cond: Mapping[str, Any], words: _Describer) -> str:
    _ = words._
    count = int(cond.get("count", 1))
    events = _events(cond, words)
    if count == 1:
        text = _("first {events} event") if events else _("first event")
    else:
        text = _("{ordinal} {events} event") if events else _("{ordinal} event")
    text = text.format(events=events, ordinal=words.ordinal(count))
    return _with_filters(text, cond, words)


def _distinct(cond: Mapping[str, Any], words: _Describer) -> str:
    _ = words._
    count = int(cond.get("count", 1))
    if cond["distinct"] == "event":
        text = words.ngettext(
            "{count} distinct event", "{count} distinct events", count
        )
        text = text.format(count=count)
    else:
        text = words.ngettext(
            "{count} distinct value of `{property}`",
            "{count} distinct values of `{property}`",
            count,
        ).format(count=count, property=cond["distinct"])
    events = _events(cond, words)
    if events:
        text = _("{subject} among {events} events").format(subject=text, events=events)
    return _with_filters(text, cond, words)


def _active_days(cond: Mapping[str, Any], words: _Describer) -> str:
    _ = words._
    days = int(cond["active_days"])
    text = words.ngettext(
        "activity on at least {count} day",
        "activity on at least {count} distinct days",
        days,
    ).format(count=days)
    events = _events(cond, words)
    if events:
        text = _("{subject}, counting {events} events").format(
            subject=text, events=events
        )
    return _with_filters(text, cond, words)


def _sequence(cond: Mapping[str, Any], words: _Describer) -> str:
    _ = words._
    steps = [
        _with_filters(_step_events(step, words), step, words)
        for step in cond["sequence"]
    ]
    text = _("sequence: {steps}").format(steps=" → ".join(steps))
    if cond.get("gap") is not None:
        text = _("{sequence}, each step within {duration} of the previous one").format(
            sequence=text, duration=_duration(cond["gap"], words)
        )
    if cond.get("within") is not None:
        text = _("{condition}, within {duration} of the start").format(
            condition=text, duration=_duration(cond["within"], words)
        )
    return text


def _step_events(step: Mapping[str, Any], words: _Describer) -> str:
    events = _events(step, words)
    if events is None:
        return words._("any event")
    return words._("{events} event").format(events=events)


def describe_start(
    start: Mapping[str, Any] | str, _: Gettext, lang: str | None = None
) -> str:
    """Describe what starts the clock: an accounts column or a first event.

    ``start`` is the ``[start]`` table, or a plain string shown as given.

    >>> describe_start({"column": "signup_at"}, lambda s: s)
    'the date in the accounts column `signup_at`'
    """
    if isinstance(start, str):
        return start
    if start.get("column"):
        return _("the date in the accounts column `{column}`").format(
            column=start["column"]
        )
    condition = {key: value for key, value in start.items() if key != "column"}
    return _("{condition} of the account").format(
        condition=describe_condition(condition, _, lang)
    )


def describe_churn(
    churn: Mapping[str, Any] | str | None, _: Gettext, lang: str | None = None
) -> str:
    """Describe the churn rule; ``None`` means no churn rule is configured.

    >>> describe_churn({"inactivity_days": 30}, lambda s: s)
    'no event for 30 days'
    """
    if churn is None:
        return _("No churn rule: accounts are observed until the end of the window.")
    if isinstance(churn, str):
        return churn
    words = _Describer(_, lang)
    if churn.get("inactivity_days") is not None:
        duration = _duration(churn["inactivity_days"], words)
        if churn.get("last_seen_column"):
            template = _(
                "no activity for {duration} after the date in the accounts "
                "column `{column}`"
            )
            return template.format(duration=duration, column=churn["last_seen_column"])
        return _("no event for {duration}").format(duration=duration)
    if churn.get("column"):
        return _("the cancellation date in the accounts column `{column}`").format(
            column=churn["column"]
        )
    condition = {key: value for key, value in churn.items() if key != "column"}
    return _("{condition} after the start").format(
        condition=describe_condition(condition, _, lang)
    )
