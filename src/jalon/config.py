"""Read and validate ``jalon.toml``.

:func:`load_config` returns a frozen :class:`Config`. Each check is a small
named rule that raises :class:`jalon.errors.ConfigError` with a stable code,
the key path (``milestones[2].tier``), the value and what is allowed. Paths in
the file are relative to the folder of the file.

Sections: ``project``, ``events``, ``accounts``, ``start``, ``starts``,
``observation``, ``churn``, ``milestones``, ``funnels``, ``cohorts``,
``analysis``, ``revenue``, ``alerts``, ``serve``. Every key is documented in
``docs/en/configuration.md``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jalon.errors import N_, ConfigError
from jalon.ingest.spec import AccountColumns, AccountSource, EventColumns, EventSource
from jalon.milestones.spec import (
    EventCondition,
    MilestoneSpec,
    check_bool,
    check_choice,
    check_keys,
    config_error,
    parse_condition,
    parse_duration,
    parse_milestone,
    positive_int,
    uses_users,
)

__all__ = [
    "ChurnSpec",
    "Config",
    "StartSpec",
    "load_config",
    "parse_config",
    "parse_duration",
]

CONFIG_FILE_NAME = "jalon.toml"
DEFAULT_STORE = ".jalon/store.duckdb"
DEFAULT_HORIZONS_DAYS = (1.0, 7.0, 30.0)
ENGINES = ("duckdb", "spark")
FORMATS = ("auto", "csv", "parquet", "jsonl", "excel")
PRESETS = ("generic", "mixpanel", "amplitude", "posthog")
TOP_LEVEL_KEYS = (
    "project",
    "events",
    "accounts",
    "start",
    "starts",
    "observation",
    "churn",
    "milestones",
    "funnels",
    "cohorts",
    "analysis",
    "revenue",
    "alerts",
    "serve",
)


@dataclass(frozen=True)
class StartSpec:
    """Clock start of an account: an accounts column or a first event."""

    column: str | None = None
    condition: EventCondition | None = None

    def describe(self) -> dict[str, Any]:
        if self.column:
            return {"column": self.column}
        assert self.condition is not None
        return {"event": list(self.condition.events or ())}


@dataclass(frozen=True)
class ChurnSpec:
    """Churn rule: exactly one of an event, inactivity or a cancellation column."""

    condition: EventCondition | None = None
    inactivity_days: float | None = None
    last_seen_column: str | None = None
    column: str | None = None

    @property
    def kind(self) -> str:
        if self.condition is not None:
            return "event"
        if self.inactivity_days is not None:
            return "inactivity"
        return "column"


@dataclass(frozen=True)
class Config:
    """A validated jalon.toml. Paths are absolute."""

    path: Path
    base_dir: Path
    name: str
    store_path: Path
    engine: str
    engine_options: dict[str, Any]
    timezone: str
    events: EventSource
    accounts: AccountSource | None
    start: StartSpec
    starts: dict[str, StartSpec]
    observation_end: dt.datetime | None
    horizons: tuple[float, ...]
    churn: ChurnSpec | None
    milestones: tuple[MilestoneSpec, ...]
    funnels: tuple[Any, ...] = ()
    cohorts: Any = None
    analysis: dict[str, Any] = field(default_factory=dict)
    revenue: Any = None
    alerts: dict[str, Any] = field(default_factory=dict)
    serve: dict[str, Any] = field(default_factory=dict)
    memory_limit: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def segments(self) -> tuple[str, ...]:
        return self.accounts.columns.segments if self.accounts else ()

    def milestone(self, identifier: str) -> MilestoneSpec:
        for milestone in self.milestones:
            if milestone.id == identifier:
                return milestone
        raise KeyError(identifier)


def load_config(path: str | Path) -> Config:
    """Read and validate a jalon.toml file (or the one inside a folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_FILE_NAME
    if not path.exists():
        raise ConfigError(
            "config.not_found",
            N_(
                "Configuration file not found: {file}. Pass --config with the path "
                "of your jalon.toml, or run the command from its folder."
            ),
            file=str(path),
            path="",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            "config.bad_toml",
            N_("{file} is not valid TOML: {detail}. Fix the syntax at that place."),
            file=str(path),
            detail=str(error),
            path="",
        ) from error
    return parse_config(raw, path.resolve())


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate the parsed TOML ``raw`` of the file at ``path``."""
    check_keys(raw, TOP_LEVEL_KEYS, "")
    base_dir = path.parent
    project = _table(raw, "project")
    check_keys(
        project, ("name", "store", "engine", "timezone", "memory_limit", "spark"), "project"
    )
    timezone = _timezone(project.get("timezone", "UTC"), "project.timezone")
    engine = check_choice(project.get("engine", "duckdb"), ENGINES, "project.engine")

    events = _parse_events_section(raw, base_dir)
    accounts = _parse_accounts_section(raw)
    start = _parse_start(_require_table(raw, "start"), "start")
    starts = {
        name: _parse_start(table, f"starts.{name}")
        for name, table in _table(raw, "starts").items()
    }
    _check_start_columns(start, starts, accounts)
    observation = _table(raw, "observation")
    check_keys(observation, ("end", "horizons"), "observation")
    milestones = _parse_milestones(raw, tuple(starts))
    _check_user_column(milestones, events)
    analysis = dict(_table(raw, "analysis"))
    _check_analysis(analysis, accounts, milestones)
    alerts, serve = dict(_table(raw, "alerts")), dict(_table(raw, "serve"))
    _check_alerts(alerts, serve, base_dir, accounts, milestones)
    store = project.get("store", DEFAULT_STORE)
    return Config(
        path=path,
        base_dir=base_dir,
        name=_text(project.get("name", base_dir.name), "project.name"),
        store_path=(base_dir / _text(store, "project.store")).resolve(),
        engine=engine,
        engine_options=dict(_table(project, "spark", "project")),
        memory_limit=_memory_limit(project.get("memory_limit"), "project.memory_limit"),
        timezone=timezone,
        events=events,
        accounts=accounts,
        start=start,
        starts=starts,
        observation_end=_parse_end(observation.get("end"), timezone),
        horizons=_parse_horizons(observation.get("horizons")),
        churn=_parse_churn(raw.get("churn"), accounts),
        milestones=milestones,
        funnels=_parse_funnels(raw.get("funnels")),
        cohorts=_parse_cohorts(raw.get("cohorts")),
        analysis=analysis,
        revenue=_parse_revenue(raw.get("revenue"), base_dir),
        alerts=alerts,
        serve=serve,
        raw=raw,
    )


def _table(raw: dict, key: str, parent: str = "") -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise config_error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a table [{path}]."),
            f"{parent}.{key}" if parent else key,
            value,
        )
    return value


def _require_table(raw: dict, key: str) -> dict:
    if key not in raw:
        raise config_error(
            "config.missing_section",
            N_("Missing section [{path}] in jalon.toml. {hint}"),
            key,
            None,
            hint=SECTION_HINTS.get(key, ""),
        )
    return _table(raw, key)


SECTION_HINTS = {
    "events": N_('Add [events] with paths = ["events.csv"] and [events.columns].'),
    "start": N_('Add [start] with column = "signup_at" or event = "signed_up".'),
}


_MEMORY_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*", re.IGNORECASE)
_MEMORY_UNITS = {
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
#: Smallest limit accepted. Larger logs need more: in a test, 128 MB was too
#: little for 900,000 events and 256 MB was enough.
MIN_MEMORY_LIMIT_BYTES = 100 * 1000**2


def _memory_limit(value: Any, path: str) -> str | None:
    """Return ``value`` when DuckDB accepts it as a memory limit, such as "4GB"."""
    if value is None:
        return None
    match = _MEMORY_SIZE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise config_error(
            "config.bad_memory_limit",
            N_(
                "Invalid value at {path}: {value}. Write a size such as \"4GB\" or "
                "\"512MB\" (KB, MB, GB, TB, or KiB, MiB, GiB, TiB)."
            ),
            path,
            value,
        )
    size = float(match.group(1)) * _MEMORY_UNITS[match.group(2).upper()]
    if size < MIN_MEMORY_LIMIT_BYTES:
        raise config_error(
            "config.small_memory_limit",
            N_(
                "Invalid value at {path}: {value}. DuckDB needs at least 100MB to "
                "run; write a larger size such as \"2GB\", or remove the key."
            ),
            path,
            value,
        )
    return value.strip()


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise config_error(
            "config.bad_text",
            N_("Invalid value at {path}: {value}. Expected text."),
            path,
            value,
        )
    return value


def _timezone(value: Any, path: str) -> str:
    try:
        zoneinfo.ZoneInfo(_text(value, path))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise config_error(
            "config.bad_timezone",
            N_(
                'Unknown time zone at {path}: {value}. Use an IANA name such as '
                '"UTC" or "Europe/Paris".'
            ),
            path,
            value,
        ) from error
    return value


EVENT_SECTION_KEYS = (
    "paths",
    "path",
    "columns",
    "format",
    "preset",
    "delimiter",
    "encoding",
    "timestamp_format",
    "deduplicate",
)
EVENT_COLUMN_KEYS = ("account_id", "user_id", "event", "timestamp", "event_id", "properties")


def _parse_events_section(raw: dict, base_dir: Path) -> EventSource:
    section = _require_table(raw, "events")
    check_keys(section, EVENT_SECTION_KEYS, "events")
    paths = _paths(section, "events")
    preset = check_choice(section.get("preset", "generic"), PRESETS, "events.preset")
    columns = _table(section, "columns", "events")
    check_keys(columns, EVENT_COLUMN_KEYS, "events.columns")
    if preset == "generic":
        for key in ("account_id", "event", "timestamp"):
            if key not in columns:
                raise config_error(
                    "config.missing_key",
                    N_(
                        "Missing key {path}: name the column of your events file that "
                        "holds it, or set events.preset."
                    ),
                    f"events.columns.{key}",
                    None,
                )
    optional = {
        key: _text(columns[key], f"events.columns.{key}")
        for key in ("account_id", "event", "timestamp", "user_id", "event_id")
        if key in columns
    }
    properties = columns.get("properties", "*")
    if properties != "*":
        if not isinstance(properties, list) or not all(isinstance(p, str) for p in properties):
            raise config_error(
                "config.bad_properties",
                N_('Invalid value at {path}: {value}. Expected "*" or a list of names.'),
                "events.columns.properties",
                properties,
            )
        properties = tuple(properties)
    event_columns = EventColumns(
        account_id=optional.get("account_id", ""),
        event=optional.get("event", ""),
        timestamp=optional.get("timestamp", ""),
        user_id=optional.get("user_id"),
        event_id=optional.get("event_id"),
        properties=properties,
    )
    return EventSource(
        paths=paths,
        columns=event_columns,
        format=check_choice(section.get("format", "auto"), FORMATS, "events.format"),
        preset=preset,
        delimiter=section.get("delimiter"),
        encoding=_text(section.get("encoding", "utf-8"), "events.encoding"),
        timestamp_format=_text(section.get("timestamp_format", "auto"), "events.timestamp_format"),
        deduplicate=check_bool(section.get("deduplicate", True), "events.deduplicate"),
    )


def _paths(section: dict, name: str) -> tuple[str, ...]:
    value = section.get("paths", section.get("path"))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise config_error(
            "config.bad_paths",
            N_(
                "Invalid value at {path}: {value}. Expected a file, folder or glob, "
                "or a list of them, relative to jalon.toml."
            ),
            f"{name}.paths",
            value,
        )
    return tuple(value)


def _parse_accounts_section(raw: dict) -> AccountSource | None:
    if "accounts" not in raw:
        return None
    section = _table(raw, "accounts")
    check_keys(section, ("path", "columns", "format", "delimiter", "encoding"), "accounts")
    path = _text(section.get("path"), "accounts.path")
    columns = _table(section, "columns", "accounts")
    check_keys(columns, ("account_id", "segments"), "accounts.columns")
    segments = columns.get("segments", [])
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise config_error(
            "config.bad_segments",
            N_("Invalid value at {path}: {value}. Expected a list of column names."),
            "accounts.columns.segments",
            segments,
        )
    return AccountSource(
        path=path,
        columns=AccountColumns(
            account_id=_text(columns.get("account_id", "account_id"), "accounts.columns.account_id"),
            segments=tuple(segments),
        ),
        format=check_choice(section.get("format", "auto"), FORMATS, "accounts.format"),
        delimiter=section.get("delimiter"),
        encoding=_text(section.get("encoding", "utf-8"), "accounts.encoding"),
    )


def _parse_start(table: Any, path: str) -> StartSpec:
    if not isinstance(table, dict):
        raise config_error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a table [{path}]."),
            path,
            table,
        )
    check_keys(table, ("column", "event", "where"), path)
    if ("column" in table) == ("event" in table):
        raise config_error(
            "config.start_rule",
            N_(
                "[{path}] needs exactly one of column (a timestamp column of the "
                "accounts table) or event (the first occurrence of an event); got {value}."
            ),
            path,
            sorted(table),
        )
    if "column" in table:
        if "where" in table:
            raise config_error(
                "config.start_rule",
                N_("{path}.where applies to event starts only (value {value})."),
                path,
                table["where"],
            )
        return StartSpec(column=_text(table["column"], f"{path}.column"))
    condition = parse_condition(table, path)
    assert isinstance(condition, EventCondition)
    return StartSpec(condition=condition)


def _check_start_columns(start: StartSpec, starts: dict, accounts: AccountSource | None) -> None:
    for name, spec in [("start", start)] + [(f"starts.{k}", v) for k, v in starts.items()]:
        if spec.column and accounts is None:
            raise config_error(
                "config.column_needs_accounts",
                N_(
                    "{path}.column = {value} reads the accounts table, but there is no "
                    "[accounts] section. Add one, or start the clock on an event."
                ),
                name,
                spec.column,
            )


def _parse_end(value: Any, timezone: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise config_error(
                "config.bad_datetime",
                N_(
                    'Invalid date at {path}: {value}. Write an ISO date such as '
                    '"2018-09-02" or "2018-09-02T23:59:59Z".'
                ),
                "observation.end",
                value,
            ) from error
    else:
        raise config_error(
            "config.bad_datetime",
            N_(
                'Invalid date at {path}: {value}. Write an ISO date such as '
                '"2018-09-02" or "2018-09-02T23:59:59Z".'
            ),
            "observation.end",
            value,
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _parse_horizons(value: Any) -> tuple[float, ...]:
    if value is None:
        return DEFAULT_HORIZONS_DAYS
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise config_error(
            "config.bad_horizons",
            N_("Invalid value at {path}: {value}. Expected a list of positive numbers of days."),
            "observation.horizons",
            value,
        )
    return tuple(sorted(float(v) for v in value))


CHURN_KEYS = ("event", "where", "inactivity_days", "last_seen_column", "column")


def _parse_churn(value: Any, accounts: AccountSource | None) -> ChurnSpec | None:
    if value is None:
        return None
    table = _table({"churn": value}, "churn")
    check_keys(table, CHURN_KEYS, "churn")
    rules = [key for key in ("event", "inactivity_days", "column") if key in table]
    if len(rules) != 1:
        raise config_error(
            "config.churn_rule",
            N_(
                "[churn] needs exactly one of event, inactivity_days or column; got {value}."
            ),
            "churn",
            sorted(table),
        )
    if ("column" in table or "last_seen_column" in table) and accounts is None:
        raise config_error(
            "config.column_needs_accounts",
            N_(
                "{path} = {value} reads the accounts table, but there is no [accounts] "
                "section. Add one."
            ),
            "churn.column" if "column" in table else "churn.last_seen_column",
            table.get("column", table.get("last_seen_column")),
        )
    if "event" in table:
        condition = parse_condition(
            {key: table[key] for key in ("event", "where") if key in table}, "churn"
        )
        assert isinstance(condition, EventCondition)
        return ChurnSpec(condition=condition)
    if "where" in table:
        raise config_error(
            "config.churn_rule",
            N_("churn.where applies to event churn only (value {value})."),
            "churn.where",
            table["where"],
        )
    if "inactivity_days" in table:
        days = table["inactivity_days"]
        if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
            raise config_error(
                "config.bad_number",
                N_("Invalid value at {path}: {value}. Expected a positive number of days."),
                "churn.inactivity_days",
                days,
            )
        last_seen = table.get("last_seen_column")
        return ChurnSpec(
            inactivity_days=float(days),
            last_seen_column=_text(last_seen, "churn.last_seen_column") if last_seen else None,
        )
    if "last_seen_column" in table:
        raise config_error(
            "config.churn_rule",
            N_("churn.last_seen_column goes with inactivity_days (value {value})."),
            "churn.last_seen_column",
            table["last_seen_column"],
        )
    return ChurnSpec(column=_text(table["column"], "churn.column"))


def _parse_milestones(raw: dict, starts: tuple[str, ...]) -> tuple[MilestoneSpec, ...]:
    items = raw.get("milestones")
    if not isinstance(items, list) or not items:
        raise config_error(
            "config.no_milestones",
            N_(
                "No milestones declared (value {value}). Add at least one [[milestones]] "
                'table with id, tier and event, for example event = "report_shared".'
            ),
            "milestones",
            items,
        )
    milestones = tuple(
        parse_milestone(item, f"milestones[{index}]", starts) for index, item in enumerate(items)
    )
    seen: set[str] = set()
    for index, milestone in enumerate(milestones):
        if milestone.id in seen:
            raise config_error(
                "config.duplicate_id",
                N_("Duplicate milestone id at {path}: {value}. Each id must be unique."),
                f"milestones[{index}].id",
                milestone.id,
            )
        seen.add(milestone.id)
    return milestones


def _check_user_column(milestones: tuple[MilestoneSpec, ...], events: EventSource) -> None:
    if events.columns.user_id or events.preset != "generic":
        return
    for index, milestone in enumerate(milestones):
        if uses_users(milestone.condition):
            raise config_error(
                "config.users_need_user_id",
                N_(
                    "{path} counts distinct users (value {value}), but events.columns.user_id "
                    "is not set. Name the column of your events file that holds the user id."
                ),
                f"milestones[{index}].users",
                milestone.id,
            )


def _check_analysis(
    analysis: dict[str, Any], accounts: AccountSource | None, milestones: tuple[MilestoneSpec, ...]
) -> None:
    """Validate ``[analysis]`` now, so a typo fails before any data is read."""
    from jalon.churn_link import parse_settings

    segments = accounts.columns.segments if accounts else ()
    parse_settings(analysis, segments, tuple(m.id for m in milestones))


def _check_alerts(
    alerts: dict[str, Any],
    serve: dict[str, Any],
    base_dir: Path,
    accounts: AccountSource | None,
    milestones: tuple[MilestoneSpec, ...],
) -> None:
    """Validate ``[alerts]`` and ``[serve]`` now rather than at the first alert run."""
    from jalon.alerts.settings import parse_alert_settings, parse_serve_settings

    segments = accounts.columns.segments if accounts else ()
    parse_alert_settings(alerts, base_dir, segments, tuple(m.id for m in milestones))
    parse_serve_settings(serve)


def _parse_funnels(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise config_error(
            "config.bad_section",
            N_("Invalid value at {path}: {value}. Expected a list of [[{path}]] tables."),
            "funnels",
            value,
        )
    from jalon.funnels import parse_funnel

    return tuple(parse_funnel(item, f"funnels[{index}]") for index, item in enumerate(value))


def _parse_cohorts(value: Any) -> Any:
    if value is None:
        return None
    from jalon.cohorts import parse_cohorts

    return parse_cohorts(_table({"cohorts": value}, "cohorts"), "cohorts")


def _parse_revenue(value: Any, base_dir: Path) -> Any:
    if value is None:
        return None
    from jalon.revenue import parse_revenue_config

    return parse_revenue_config(_table({"revenue": value}, "revenue"), base_dir, "revenue")
