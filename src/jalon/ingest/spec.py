"""Input specifications of the event and account files.

The config loader builds these frozen dataclasses from ``[events]`` and
``[accounts]`` in jalon.toml; :func:`jalon.ingest.load_project` reads them.
Paths are relative to the folder of jalon.toml, and each may name a file, a
folder (every data file inside it, sorted by name) or a glob.

With a preset other than ``"generic"``, an empty column name (``""``) means
"use the preset's default"; see :mod:`jalon.ingest.presets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jalon.errors import N_, ConfigError

FORMATS = ("auto", "csv", "parquet", "jsonl", "excel")
PRESETS = ("generic", "mixpanel", "amplitude", "posthog")
TIMESTAMP_FORMATS = ("auto", "iso", "epoch_s", "epoch_ms")


@dataclass(frozen=True)
class EventColumns:
    """Mapping from the event fields jalon needs to columns of the files.

    ``properties`` is ``"*"`` (every column not mapped to a field) or a tuple
    of column names; nested JSON fields are written as dotted paths
    (``"properties.plan"``).
    """

    account_id: str
    event: str
    timestamp: str
    user_id: str | None = None
    event_id: str | None = None
    properties: str | tuple[str, ...] = "*"

    def __post_init__(self) -> None:
        if isinstance(self.properties, str) and self.properties != "*":
            _invalid("events.columns.properties", self.properties, '"*" or a list')


@dataclass(frozen=True)
class EventSource:
    """Event files and how to read them.

    ``timestamp_format`` is ``"auto"``, ``"iso"``, ``"epoch_s"``,
    ``"epoch_ms"`` or a strftime pattern such as ``"%d/%m/%Y %H:%M"``.
    With ``deduplicate = False`` identical rows are all kept; a repeated
    ``event_id`` (when one is mapped) is still excluded as a duplicate.
    """

    paths: tuple[str, ...]
    columns: EventColumns
    format: str = "auto"
    preset: str = "generic"
    delimiter: str | None = None
    encoding: str = "utf-8"
    timestamp_format: str = "auto"
    deduplicate: bool = True

    def __post_init__(self) -> None:
        _check_choice("events.format", self.format, FORMATS)
        _check_choice("events.preset", self.preset, PRESETS)
        _check_delimiter("events.delimiter", self.delimiter)
        is_pattern = "%" in self.timestamp_format
        if not is_pattern and self.timestamp_format not in TIMESTAMP_FORMATS:
            allowed = ", ".join(TIMESTAMP_FORMATS) + ", or a strftime pattern"
            _invalid("events.timestamp_format", self.timestamp_format, allowed)


@dataclass(frozen=True)
class AccountColumns:
    """Mapping of the accounts table: its id column and the segment columns."""

    account_id: str
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountSource:
    """The accounts file (CSV, Parquet, JSON lines or Excel) and how to read it."""

    path: str
    columns: AccountColumns
    format: str = "auto"
    delimiter: str | None = None
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        _check_choice("accounts.format", self.format, FORMATS)
        _check_delimiter("accounts.delimiter", self.delimiter)


def _check_choice(path: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        _invalid(path, value, ", ".join(allowed))


def _check_delimiter(path: str, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or len(value) != 1):
        _invalid(path, value, 'a single character such as "," or ";"')


def _invalid(path: str, value: object, allowed: str) -> None:
    raise ConfigError(
        "config.invalid_value",
        N_("Invalid value at {path}: {value}. Expected {allowed}."),
        path=path,
        value=value,
        allowed=allowed,
    )
