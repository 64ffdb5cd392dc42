"""Column mappings of analytics-tool exports, so that no mapping is needed.

With ``events.preset`` set, every column field left empty in
``[events.columns]`` takes the preset's default below; a field the user sets
wins. Paths are the dotted names of the flattened JSON (see
:mod:`jalon.ingest.readers`). When a field lists several candidates, the
first one present in the file is used.

``mixpanel`` (raw event export, JSON lines
``{"event": ..., "properties": {"time": ..., "distinct_id": ..., ...}}``):

==========  =====================================================
account_id  ``properties.distinct_id`` (the person)
user_id     ``properties.distinct_id``
event       ``event``
timestamp   ``properties.time``: epoch seconds, or milliseconds when
            exported with ``time_in_ms``; both are read by magnitude
event_id    ``properties.$insert_id``
group       ``properties.<group key>``
==========  =====================================================

NOTE: Mixpanel documents that projects created before 2023 export ``time``
shifted to the project time zone. Such files need their times corrected
before loading; jalon reads ``time`` as true epoch seconds.

``amplitude`` (Export API, gzipped JSON lines with ``event_type``,
``event_time`` "2024-03-01 10:00:00.123000" in UTC, ``user_id``,
``device_id``, ``uuid``, ``$insert_id``, ``event_properties``,
``user_properties``, ``groups``):

==========  =====================================================
account_id  ``user_id`` (the person)
user_id     ``user_id``
event       ``event_type``
timestamp   ``event_time``, read as UTC whatever ``project.timezone`` is
event_id    ``uuid``, else ``$insert_id``, else ``insert_id``
group       ``groups.<group type>`` (the first value when it is a list)
==========  =====================================================

``posthog`` (event export, JSON lines with ``uuid``, ``event``,
``distinct_id``, ``timestamp`` in ISO 8601 with offset, ``properties``):

==========  =====================================================
account_id  ``distinct_id`` (the person)
user_id     ``distinct_id``
event       ``event``
timestamp   ``timestamp``
event_id    ``uuid``
group       ``properties.$groups.<group type>``
==========  =====================================================

To count accounts by group (company, organisation) rather than by person,
write ``account_id = "group:<group type>"``, for example
``account_id = "group:company"``, or build the columns with
:func:`preset_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jalon.errors import N_, ConfigError
from jalon.ingest.spec import EventColumns

GROUP_PREFIX = "group:"


@dataclass(frozen=True)
class Preset:
    """Default paths of one export format; each field lists candidates in order."""

    name: str
    account_id: tuple[str, ...]
    user_id: tuple[str, ...]
    event: tuple[str, ...]
    timestamp: tuple[str, ...]
    event_id: tuple[str, ...]
    group_path: str
    #: Zone of timestamps without an offset, when the export fixes it.
    timestamp_zone: str | None = None


PRESETS: dict[str, Preset] = {
    "mixpanel": Preset(
        name="mixpanel",
        account_id=("properties.distinct_id",),
        user_id=("properties.distinct_id",),
        event=("event",),
        timestamp=("properties.time",),
        event_id=("properties.$insert_id",),
        group_path="properties.{group}",
    ),
    "amplitude": Preset(
        name="amplitude",
        account_id=("user_id",),
        user_id=("user_id",),
        event=("event_type",),
        timestamp=("event_time",),
        event_id=("uuid", "$insert_id", "insert_id"),
        group_path="groups.{group}",
        timestamp_zone="UTC",
    ),
    "posthog": Preset(
        name="posthog",
        account_id=("distinct_id",),
        user_id=("distinct_id",),
        event=("event",),
        timestamp=("timestamp",),
        event_id=("uuid",),
        group_path="properties.$groups.{group}",
    ),
}


def get_preset(name: str) -> Preset | None:
    """Return the preset called ``name``, or ``None`` for ``"generic"``."""
    if name == "generic":
        return None
    if name not in PRESETS:
        raise ConfigError(
            "config.invalid_value",
            N_("Invalid value at {path}: {value}. Expected {allowed}."),
            path="events.preset",
            value=name,
            allowed="generic, " + ", ".join(PRESETS),
        )
    return PRESETS[name]


def preset_columns(
    preset: str, group_type: str | None = None, **overrides: str | None
) -> EventColumns:
    """Return the column mapping of ``preset``, with ``overrides`` applied.

    Parameters
    ----------
    preset
        ``"mixpanel"``, ``"amplitude"`` or ``"posthog"``.
    group_type
        Count accounts by this group type (``"company"``) instead of by person.
    overrides
        Any :class:`EventColumns` field to set explicitly.

    >>> preset_columns("posthog", group_type="company").account_id
    'properties.$groups.company'
    """
    found = get_preset(preset)
    if found is None:
        raise ValueError("preset_columns needs a preset other than 'generic'")
    account_id = (
        found.group_path.format(group=group_type) if group_type else found.account_id[0]
    )
    columns = EventColumns(
        account_id=account_id,
        event=found.event[0],
        timestamp=found.timestamp[0],
        user_id=found.user_id[0],
        event_id=found.event_id[0],
    )
    return replace(
        columns, **{key: value for key, value in overrides.items() if value is not None}
    )


def candidates(preset: Preset, field: str, configured: str | None) -> tuple[str, ...]:
    """Return the paths to try for ``field``: the configured one, else the preset's.

    ``"group:<type>"`` in ``account_id`` expands to the preset's group path.
    """
    if configured:
        if field == "account_id" and configured.startswith(GROUP_PREFIX):
            return (preset.group_path.format(group=configured[len(GROUP_PREFIX) :]),)
        return (configured,)
    return getattr(preset, field)
