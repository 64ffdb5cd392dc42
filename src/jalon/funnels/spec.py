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

import re
from dataclasses import dataclass
from typing import Any

from jalon.config import parse_duration
from jalon.errors import N_
from jalon.milestones.spec import Filter, check_choice, check_keys, config_error, parse_where

ORDERS = ("ordered", "strict", "any")
LEVELS = ("account", "user")
START_ANCHORS = ("first_step", "account_start")
FUNNEL_KEYS = (
    "id",
    "name",
    "steps",
    "window",
    "order",
    "exclude",
    "level",
    "start_anchor",
)
STEP_KEYS = ("name", "event", "where")
EXCLUSION_KEYS = ("event", "where")
IDENTIFIER_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MIN_STEPS = 2


@dataclass(frozen=True)
class StepSpec:
    """One funnel step or exclusion: matching events and a property filter.

    ``event`` is one event name or a tuple of names; ``where`` is the parsed
    property filter (grammar in docs/DESIGN.md), or None.
    """

    name: str
    event: str | tuple[str, ...]
    where: Filter | None = None


@dataclass(frozen=True)
class FunnelSpec:
    """A validated funnel.

    ``window_seconds`` is the conversion window in seconds. It is measured
    from the first step (``start_anchor = "first_step"``) or from the
    account's start (``"account_start"``). An event exactly at the window's
    end counts.
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
    check_keys(table, FUNNEL_KEYS, path)
    identifier = _parse_identifier(table.get("id"), f"{path}.id")
    steps = _parse_steps(table.get("steps"), f"{path}.steps")
    if "window" not in table:
        raise config_error(
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
        window_seconds=_parse_window(table["window"], f"{path}.window"),
        order=check_choice(table.get("order", "ordered"), ORDERS, f"{path}.order"),
        exclusions=exclusions,
        level=check_choice(table.get("level", "account"), LEVELS, f"{path}.level"),
        start_anchor=check_choice(
            table.get("start_anchor", "first_step"),
            START_ANCHORS,
            f"{path}.start_anchor",
        ),
    )


def _parse_steps(value: Any, path: str) -> tuple[StepSpec, ...]:
    if not isinstance(value, list) or len(value) < MIN_STEPS:
        raise config_error(
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
        check_keys(table, STEP_KEYS, step_path)
        steps.append(_parse_condition(table, step_path, default_name=None))
    return tuple(steps)


def _parse_exclusions(value: Any, path: str) -> tuple[StepSpec, ...]:
    if not isinstance(value, list):
        raise config_error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a list of tables."),
            path,
            value,
        )
    exclusions = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        table = _require_dict(item, item_path)
        check_keys(table, EXCLUSION_KEYS, item_path)
        exclusions.append(_parse_condition(table, item_path, default_name=None))
    return tuple(exclusions)


def _parse_condition(table: dict, path: str, default_name: str | None) -> StepSpec:
    if "event" not in table:
        raise config_error(
            "config.missing_key",
            N_('Missing key {path}. Add the event name, such as event = "signed_up".'),
            f"{path}.event",
            None,
        )
    event = _parse_event(table["event"], f"{path}.event")
    where = table.get("where")
    parsed = None if where is None else parse_where(where, f"{path}.where")
    name = table.get("name", default_name)
    if name is None:
        name = event if isinstance(event, str) else " | ".join(event)
    return StepSpec(name=_text(name, f"{path}.name"), event=event, where=parsed)


def _parse_event(value: Any, path: str) -> str | tuple[str, ...]:
    if isinstance(value, str) and value:
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item for item in value)
    ):
        return value[0] if len(value) == 1 else tuple(value)
    raise config_error(
        "config.bad_event",
        N_(
            "Invalid value at {path}: {value}. Expected an event name or a list of names."
        ),
        path,
        value,
    )


def _parse_window(value: Any, path: str) -> float:
    seconds = parse_duration(value, path)
    if seconds > 0:
        return seconds
    raise config_error(
        "config.bad_duration",
        N_(
            "Invalid duration at {path}: {value}. A conversion window must be "
            'longer than zero, such as "14d".'
        ),
        path,
        value,
    )


def _parse_identifier(value: Any, path: str) -> str:
    if isinstance(value, str) and IDENTIFIER_PATTERN.match(value):
        return value
    raise config_error(
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
    raise config_error(
        "config.bad_text",
        N_("Invalid value at {path}: {value}. Expected text."),
        path,
        value,
    )


def _require_dict(value: Any, path: str) -> dict:
    if isinstance(value, dict):
        return value
    raise config_error(
        "config.bad_section",
        N_("Invalid value at {path}: {value}. Expected a table."),
        path,
        value,
    )
