"""Check a configuration against the data in the store.

:func:`check_project` returns findings, each a severity, a stable code, an
English template marked for translation and its parameters. An error means
the analysis cannot run as configured, for example an accounts column that
does not exist. A warning means it runs but probably not as intended, for
example an event name that no loaded event carries.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from jalon.config import Config
from jalon.errors import N_
from jalon.milestones.spec import referenced_events, referenced_properties
from jalon.store.schema import account_column

ERROR, WARNING = "error", "warning"
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """Findings of :func:`check_project`, errors first."""

    findings: tuple[Finding, ...]
    n_events: int
    n_accounts: int

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def __repr__(self) -> str:
        errors = sum(f.severity == ERROR for f in self.findings)
        return f"CheckResult({errors} errors, {len(self.findings) - errors} warnings)"


def check_project(config: Config, store) -> CheckResult:
    """Compare every name the config uses with the loaded data."""
    findings: list[Finding] = []
    event_names = set(store.execute(store.events().select("event").distinct())["event"])
    properties = store.properties()
    accounts = store.accounts()
    account_columns = set(accounts.columns) if accounts is not None else set()

    for path, names in _event_references(config):
        for name in sorted(names - event_names):
            findings.append(_unknown("check.unknown_event", path, name, event_names))
    for path, names in _property_references(config):
        for name in sorted(names - set(properties)):
            findings.append(_unknown("check.unknown_property", path, name, set(properties), ERROR))
    for path, column in _column_references(config):
        if column not in account_columns and account_column(column) not in account_columns:
            findings.append(_unknown("check.unknown_column", path, column, account_columns, ERROR))

    if not any(f.severity == ERROR for f in findings):
        findings.extend(_date_findings(config, store))
    n_events = int(store.execute(store.events().count().as_table()).iloc[0, 0])
    n_accounts = 0
    if not any(f.severity == ERROR for f in findings) and n_events:
        reached, n_accounts = _reached_counts(config, store)
        for milestone in config.milestones:
            if reached[milestone.id] == 0:
                findings.append(
                    Finding(
                        WARNING,
                        "check.never_reached",
                        N_(
                            "No account reaches milestone {milestone} ({path}). Check its "
                            "event names, filters and window."
                        ),
                        {"milestone": milestone.id, "path": f"milestones.{milestone.id}"},
                    )
                )
    findings.sort(key=lambda f: (f.severity != ERROR, f.code, str(f.params)))
    return CheckResult(tuple(findings), n_events, n_accounts)


def _date_findings(config: Config, store) -> list[Finding]:
    from jalon.milestones.accounts import date_column_problems

    findings = []
    for path, column, rows in date_column_problems(config, store.accounts()):
        found = store.execute(rows)
        if len(found):
            findings.append(
                Finding(
                    ERROR,
                    "check.bad_account_date",
                    N_(
                        "{path}: account {account} has \"{value}\" in column {column}, "
                        "which is not a date."
                    ),
                    {
                        "path": path,
                        "account": str(found["account_id"].iloc[0]),
                        "value": str(found["value"].iloc[0]),
                        "column": column,
                    },
                )
            )
    return findings


def _unknown(code: str, path: str, name: str, known: set[str], severity: str = WARNING) -> Finding:
    close = difflib.get_close_matches(name, sorted(known), n=MAX_SUGGESTIONS)
    templates = {
        "check.unknown_event": (
            N_("{path}: no loaded event is named {name}. Did you mean {suggestions}?"),
            N_("{path}: no loaded event is named {name}."),
        ),
        "check.unknown_property": (
            N_("{path}: no loaded event has a property {name}. Did you mean {suggestions}?"),
            N_("{path}: no loaded event has a property {name}."),
        ),
        "check.unknown_column": (
            N_("{path}: the accounts table has no column {name}. Did you mean {suggestions}?"),
            N_("{path}: the accounts table has no column {name}."),
        ),
    }
    with_hint, without = templates[code]
    return Finding(
        severity,
        code,
        with_hint if close else without,
        {"path": path, "name": name, "suggestions": ", ".join(close)},
    )


def _event_references(config: Config) -> list[tuple[str, set[str]]]:
    references = []
    for name, spec in [("start", config.start), *((f"starts.{k}", v) for k, v in config.starts.items())]:
        if spec.condition is not None:
            references.append((name, referenced_events(spec.condition)))
    if config.churn is not None and config.churn.condition is not None:
        references.append(("churn", referenced_events(config.churn.condition)))
    for index, milestone in enumerate(config.milestones):
        references.append((f"milestones[{index}]", referenced_events(milestone.condition)))
    for index, funnel in enumerate(config.funnels):
        steps = tuple(getattr(funnel, "steps", ())) + tuple(getattr(funnel, "exclusions", ()))
        names = set()
        for step in steps:
            event = getattr(step, "event", None)
            names |= {event} if isinstance(event, str) else set(event or ())
        references.append((f"funnels[{index}]", names))
    return references


def _property_references(config: Config) -> list[tuple[str, set[str]]]:
    references = []
    if config.churn is not None and config.churn.condition is not None:
        references.append(("churn", referenced_properties(config.churn.condition)))
    for index, milestone in enumerate(config.milestones):
        references.append((f"milestones[{index}]", referenced_properties(milestone.condition)))
    return references


def _column_references(config: Config) -> list[tuple[str, str]]:
    references = []
    for name, spec in [("start", config.start), *((f"starts.{k}", v) for k, v in config.starts.items())]:
        if spec.column:
            references.append((f"{name}.column", spec.column))
    for segment in config.segments:
        references.append(("accounts.columns.segments", segment))
    churn = config.churn
    if churn is not None and churn.column:
        references.append(("churn.column", churn.column))
    if churn is not None and churn.last_seen_column:
        references.append(("churn.last_seen_column", churn.last_seen_column))
    return references


def _reached_counts(config: Config, store) -> tuple[dict[str, int], int]:
    from jalon.milestones.accounts import build_account_table, observation_end

    events = store.events()
    end = observation_end(config, events, lambda expr: store.execute(expr.as_table()).iloc[0, 0])
    accounts = build_account_table(config, events, store.accounts(), store.properties(), end)
    table = accounts.table
    counts = table.aggregate(
        _n=table.count(),
        **{m.id: (table[f"m_{m.id}_status"] == 1).cast("int64").sum() for m in config.milestones},
    )
    row = store.execute(counts).iloc[0].to_dict()
    n_accounts = int(row.pop("_n"))
    return {key: int(value or 0) for key, value in row.items()}, n_accounts
