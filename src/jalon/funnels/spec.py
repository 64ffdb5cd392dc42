"""Funnel configuration: the ``[[funnels]]`` tables of jalon.toml.

A funnel is a list of ordered steps with a conversion window::

    [[funnels]]
    id = "onboarding"
    name = "Onboarding"
    steps = [
      { name = "Signed up", event = "signed_up" },
      { name = "Asked", event = ["question_posted", "answer_posted"] },
      { name = "Scored", event = "answer_posted", where = { score = { gt = 0 } } },
    ]
    window = "14d"          # measured from the first step, inclusive
    order = "ordered"       # ordered | strict | any
    exclude = [{ event = "account_deleted" }]
    level = "account"       # account | user
    start_anchor = "first_step"   # first_step | account_start

:func:`parse_funnel` turns one table into a :class:`FunnelSpec` and raises
:class:`jalon.errors.ConfigError` naming the key path, the value and what is
allowed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from jalon.errors import N_, ConfigError

ORDERS = ("ordered", "strict", "any")
LEVELS = ("account", "user")
START_ANCHORS = ("first_step", "account_start")
FUNNEL_KEYS = ("id", "name", "steps", "window", "order", "exclude", "level", "start_anchor")
STEP_KEYS = ("name", "event", "where")
EXCLUSION_KEYS = ("event", "where")
IDENTIFIER_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_STEPS = 2

SECONDS_PER_UNIT = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")


@dataclass(frozen=True)
class StepSpec:
    """One funnel step or exclusion: matching events and a property filter.

    ``event`` is one event name or a tuple of names; ``where`` is the raw
    ``where`` table of the config (grammar in docs/DESIGN.md), or None.
    """

    name: str
    event: str | tuple[str, ...]
    where: dict[str, Any] | None = field(default=None, hash=False, compare=True)


@dataclass(frozen=True)
class FunnelSpec:
    """A validated funnel.

    ``window_seconds`` is the conversion window in seconds, measured from
    the first step (``start_anchor = "first_step"``) or from the account's
    start (``"account_start"``); an event exactly at the window's end counts.
    """

    id: str
    name: str
    steps: tuple[StepSpec, ...]
    window_seconds: float
    order: str = "ordered"
    exclusions: tuple[StepSpec, ...] = ()
    level: str = "account"
    start_anchor: str = "first_step"


def parse_funnel(raw: Any, path: str) -> FunnelSpec:
    """Validate one ``[[funnels]]`` table and return its :class:`FunnelSpec`.

    Parameters
    ----------
    raw
        The TOML table as a dict.
    path
        Key path of the table, such as ``"funnels[0]"``; error messages use it.

    Raises
    ------
    ConfigError
        On an unknown or missing key, or an invalid value; ``params`` carries
        ``path``, ``value`` and, where there is a closed list, ``allowed``.

    Examples
    --------
    >>> spec = parse_funnel(
    ...     {"id": "onboarding", "window": "2d",
    ...      "steps": [{"event": "signed_up"}, {"event": "invited"}]},
    ...     "funnels[0]")
    >>> spec.window_seconds, [step.name for step in spec.steps]
    (172800.0, ['signed_up', 'invited'])
    """
    table = _require_dict(raw, path)
    _check_keys(table, FUNNEL_KEYS, path)
    identifier = _parse_identifier(table.get("id"), f"{path}.id")
    steps = _parse_steps(table.get("steps"), f"{path}.steps")
    if "window" not in table:
        raise _error(
            "config.missing_key",
            N_('Missing key {path}. Add a conversion window such as window = "14d".'),
            f"{path}.window",
            None,
        )
    exclusions = _parse_exclusions(table.get("exclude", []), f"{path}.exclude")
    return FunnelSpec(
        id=identifier,
        name=_text(table.get("name", identifier), f"{path}.name"),
        steps=steps,
        window_seconds=_parse_duration(table["window"], f"{path}.window"),
        order=_choice(table.get("order", "ordered"), ORDERS, f"{path}.order"),
        exclusions=exclusions,
        level=_choice(table.get("level", "account"), LEVELS, f"{path}.level"),
        start_anchor=_choice(
            table.get("start_anchor", "first_step"), START_ANCHORS, f"{path}.start_anchor"
        ),
    )


def _parse_steps(value: Any, path: str) -> tuple[StepSpec, ...]:
    if not isinstance(value, list) or len(value) < MIN_STEPS:
        raise _error(
            "config.funnel_steps",
            N_(
                "Invalid value at {path}: {value}. Expected a list of at least "
                '2 steps such as [{{ event = "signed_up" }}, {{ event = "invited" }}].'
            ),
            path,
            value,
        )
    steps = []
    for index, item in enumerate(value):
        step_path = f"{path}[{index}]"
        table = _require_dict(item, step_path)
        _check_keys(table, STEP_KEYS, step_path)
        steps.append(_parse_condition(table, step_path, default_name=None))
    return tuple(steps)


def _parse_exclusions(value: Any, path: str) -> tuple[StepSpec, ...]:
    if not isinstance(value, list):
        raise _error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a list of tables."),
            path,
            value,
        )
    exclusions = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        table = _require_dict(item, item_path)
        _check_keys(table, EXCLUSION_KEYS, item_path)
        exclusions.append(_parse_condition(table, item_path, default_name=None))
    return tuple(exclusions)


def _parse_condition(table: dict, path: str, default_name: str | None) -> StepSpec:
    if "event" not in table:
        raise _error(
            "config.missing_key",
            N_('Missing key {path}. Add the event name, such as event = "signed_up".'),
            f"{path}.event",
            None,
        )
    event = _parse_event(table["event"], f"{path}.event")
    where = table.get("where")
    if where is not None and (not isinstance(where, dict) or not where):
        raise _error(
            "config.bad_where",
            N_(
                "Invalid filter at {path}: {value}. Expected a table such as "
                '{{ plan = "pro" }} or {{ score = {{ gt = 0 }} }}.'
            ),
            f"{path}.where",
            where,
        )
    name = table.get("name", default_name)
    if name is None:
        name = event if isinstance(event, str) else " | ".join(event)
    return StepSpec(name=_text(name, f"{path}.name"), event=event, where=where)


def _parse_event(value: Any, path: str) -> str | tuple[str, ...]:
    if isinstance(value, str) and value:
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item for item in value)
    ):
        return value[0] if len(value) == 1 else tuple(value)
    raise _error(
        "config.bad_event",
        N_("Invalid value at {path}: {value}. Expected an event name or a list of names."),
        path,
        value,
    )


def _parse_duration(value: Any, path: str) -> float:
    # NOTE: private copy until jalon.config offers a shared duration parser.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value) * SECONDS_PER_UNIT["d"]
    if isinstance(value, str):
        match = DURATION_PATTERN.match(value)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]
    raise _error(
        "config.bad_duration",
        N_(
            "Invalid duration at {path}: {value}. Write a number of days or a "
            'text such as "90m", "36h", "7d" or "2w".'
        ),
        path,
        value,
    )


def _parse_identifier(value: Any, path: str) -> str:
    if isinstance(value, str) and IDENTIFIER_PATTERN.match(value):
        return value
    raise _error(
        "config.bad_id",
        N_(
            "Invalid id at {path}: {value}. Use lower-case letters, digits and "
            'underscores, starting with a letter, such as "onboarding".'
        ),
        path,
        value,
    )


def _text(value: Any, path: str) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise _error(
        "config.bad_text",
        N_("Invalid value at {path}: {value}. Expected text."),
        path,
        value,
    )


def _choice(value: Any, allowed: tuple[str, ...], path: str) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    close = difflib.get_close_matches(str(value), allowed, n=1)
    raise _error(
        "config.bad_choice",
        N_("Invalid value at {path}: {value}. Allowed values: {allowed}.{hint}"),
        path,
        value,
        allowed=", ".join(allowed),
        hint=f" ({close[0]}?)" if close else "",
    )


def _require_dict(value: Any, path: str) -> dict:
    if isinstance(value, dict):
        return value
    raise _error(
        "config.bad_section",
        N_("Invalid value at {path}: {value}. Expected a table."),
        path,
        value,
    )


def _check_keys(table: dict, allowed: tuple[str, ...], path: str) -> None:
    for key in table:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        raise _error(
            "config.unknown_key",
            N_(
                "Unknown key {path} (value {value}). "
                "Did you mean {suggestion}? Allowed keys: {allowed}."
            )
            if close
            else N_("Unknown key {path} (value {value}). Allowed keys: {allowed}."),
            f"{path}.{key}",
            table[key],
            suggestion=close[0] if close else "",
            allowed=", ".join(allowed),
        )


def _error(code: str, template: str, path: str, value: Any, **extra: Any) -> ConfigError:
    text = repr(value)
    shown = text if len(text) <= 80 else text[:77] + "..."
    return ConfigError(code, template, path=path, value=shown, **extra)
