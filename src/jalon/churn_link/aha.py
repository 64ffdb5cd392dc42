"""Aha-moment discovery: early behaviours that go with retention.

Candidates are "at least k occurrences of event E", "at least k distinct
events" and "at least k distinct values of property P" within the first
days after the start. Counting happens in the engine (one grouped
aggregate); only one row per account reaches pandas. Thresholds and the
ranking are chosen on part of the accounts and the scores reported are
those of the other, held-out accounts. The scores measure association: an
account that does E may simply be a more engaged account.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jalon.churn_link.results import AhaCandidate, AhaResult, AhaScores
from jalon.churn_link.settings import SECONDS_PER_DAY, ChurnLinkSettings
from jalon.errors import N_, AnalysisError

logger = logging.getLogger(__name__)

KIND_EVENT = "event"
KIND_DISTINCT_EVENTS = "distinct_events"
KIND_DISTINCT_PROPERTY = "distinct_property"
#: Candidates kept in the result, best first.
MAX_CANDIDATES = 10
#: Below this many held-out accounts with the behaviour, scores get a caveat.
MIN_HELD_OUT_WITH = 30

EXCLUDED_CHURNED = "churned_in_window"
EXCLUDED_SHORT = "observed_less_than_horizon"
CAVEAT_ASSOCIATION = "association_not_cause"
CAVEAT_FEW_HELD_OUT = "aha_few_held_out"
CAVEAT_NO_CANDIDATE = "aha_no_candidate"


def score_behaviour(behaviour: np.ndarray, retained: np.ndarray) -> AhaScores:
    """Score a yes/no behaviour against a yes/no retention outcome.

    Examples
    --------
    >>> s = score_behaviour(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    >>> s.reach, s.precision, s.recall, s.phi
    (0.5, 0.5, 0.5, 0.0)
    """
    behaviour = np.asarray(behaviour, dtype=bool)
    retained = np.asarray(retained, dtype=bool)
    n = len(behaviour)
    n_with = int(behaviour.sum())
    n_retained = int(retained.sum())
    n11 = int((behaviour & retained).sum())
    n10 = n_with - n11
    n01 = n_retained - n11
    n00 = n - n11 - n10 - n01
    without = n - n_with

    def share(numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator else None

    retention_with = share(n11, n_with)
    base = share(n_retained, n)
    product = n_with * without * n_retained * (n - n_retained)
    return AhaScores(
        n_accounts=n,
        n_with=n_with,
        n_retained=n_retained,
        n_with_retained=n11,
        reach=share(n_with, n),
        retention_with=retention_with,
        retention_without=share(n01, without),
        precision=retention_with,
        recall=share(n11, n_retained),
        lift=retention_with / base if retention_with is not None and base else None,
        phi=(n11 * n00 - n10 * n01) / math.sqrt(product) if product else None,
    )


def window_events(events: ir.Table, window_days: float) -> ir.Table:
    """Keep the events at most ``window_days`` after the account's start (inclusive)."""
    elapsed = events.ts.epoch_seconds() - events.start_at.epoch_seconds()
    return events.filter(elapsed <= ibis.literal(window_days * SECONDS_PER_DAY))


def candidate_events(
    events: ir.Table, settings: ChurnLinkSettings, excluded: Sequence[str], execute
) -> list[str]:
    """Return the candidate event names: configured, or the most widespread ones."""
    if settings.aha_events is not None:
        return [name for name in settings.aha_events if name not in excluded]
    early = window_events(events, settings.aha_window)
    if excluded:
        early = early.filter(~early.event.isin(list(excluded)))
    reach = early.group_by("event").aggregate(n_accounts=early.account_id.nunique())
    ranked = execute(
        reach.order_by([ibis.desc("n_accounts"), "event"]).limit(
            settings.aha_max_events
        )
    )
    return [str(name) for name in ranked["event"]]


def behaviour_counts(
    events: ir.Table,
    event_names: Sequence[str],
    property_columns: Sequence[str],
    window_days: float,
    execute,
) -> pd.DataFrame:
    """Count each candidate per account within the window, in the engine.

    Returns one row per account with events in the window: ``account_id``,
    ``e<i>`` (occurrences of ``event_names[i]``), ``distinct_events`` and
    ``p<j>`` (distinct values of ``property_columns[j]``).
    """
    early = window_events(events, window_days)
    aggregates: dict[str, ir.Value] = {
        f"e{index}": early.event.count(where=early.event == name).cast("int64")
        for index, name in enumerate(event_names)
    }
    if event_names:
        named = early.event.isin(list(event_names))
        aggregates["distinct_events"] = early.event.nunique(where=named).cast("int64")
    for index, column in enumerate(property_columns):
        aggregates[f"p{index}"] = early[column].nunique().cast("int64")
    grouped = early.group_by("account_id").aggregate(**aggregates)
    return execute(grouped.order_by("account_id"))


def discovery_population(
    frame: pd.DataFrame, window_days: float, horizon_days: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return accounts active at the window end and observed to the horizon.

    The returned frame has ``account_id`` and ``retained`` (not churned by
    ``horizon_days``). Accounts that churned within the window, or whose
    follow-up ends before the horizon without churn, are counted by reason.
    """
    churned = frame["churn_status"] == 1
    in_window = churned & (frame["churn_days"] <= window_days)
    churned_by_horizon = churned & (frame["churn_days"] <= horizon_days)
    short = ~churned_by_horizon & (frame["observed_days"] < horizon_days)
    keep = ~in_window & ~short
    population = pd.DataFrame(
        {
            "account_id": frame.loc[keep, "account_id"].to_numpy(),
            "retained": (~churned_by_horizon[keep]).to_numpy(),
        }
    )
    excluded = {
        EXCLUDED_CHURNED: int(in_window.sum()),
        EXCLUDED_SHORT: int(short.sum()),
    }
    return population, {reason: count for reason, count in excluded.items() if count}


def held_out_mask(n_accounts: int, share: float, seed: int) -> np.ndarray:
    """Return a boolean mask of ``round(share * n)`` held-out accounts, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(n_accounts, dtype=bool)
    mask[rng.permutation(n_accounts)[: round(share * n_accounts)]] = True
    return mask


def milestone_toml(
    kind: str,
    name: str | None,
    min_count: int,
    window_days: float,
    event_names: Sequence[str] = (),
) -> str:
    """Return a ``[[milestones]]`` table that declares the behaviour.

    ``event_names`` are the events whose distinct names a
    ``distinct_events`` behaviour counts.

    >>> print(milestone_toml("event", "invited", 2, 3.0))
    [[milestones]]
    id = "aha_invited_2"
    name = "invited at least 2 times within 3d"
    tier = "basic"
    event = "invited"
    count = 2
    within = "3d"
    """
    window = f"{window_days:g}d"
    if kind == KIND_EVENT:
        identifier = f"aha_{_slug(name)}_{min_count}"
        label = f"{name} at least {min_count} times within {window}"
        condition = [f'event = "{name}"', f"count = {min_count}"]
    elif kind == KIND_DISTINCT_EVENTS:
        identifier = f"aha_{min_count}_distinct_events"
        label = f"{min_count} distinct events within {window}"
        names = ", ".join(f'"{event}"' for event in event_names)
        condition = [f"event = [{names}]", 'distinct = "event"', f"count = {min_count}"]
    else:
        identifier = f"aha_{min_count}_distinct_{_slug(name)}"
        label = f"{min_count} distinct {name} values within {window}"
        condition = [f'distinct = "{name}"', f"count = {min_count}"]
    lines = [
        "[[milestones]]",
        f'id = "{identifier}"',
        f'name = "{label}"',
        'tier = "basic"',
    ]
    return "\n".join([*lines, *condition, f'within = "{window}"'])


def _slug(name: str | None) -> str:
    text = "".join(char if char.isalnum() else "_" for char in str(name).lower())
    return text.strip("_") or "x"


def _features(
    counts: pd.DataFrame,
    event_names: Sequence[str],
    property_names: Sequence[str],
    thresholds: tuple[tuple[int, ...], tuple[int, ...]],
) -> list[tuple[str, str | None, str, tuple[int, ...]]]:
    """List ``(kind, name, column, thresholds)`` of every candidate feature."""
    event_thresholds, distinct_thresholds = thresholds
    features = [
        (KIND_EVENT, name, f"e{index}", event_thresholds)
        for index, name in enumerate(event_names)
    ]
    if "distinct_events" in counts:
        features.append(
            (KIND_DISTINCT_EVENTS, None, "distinct_events", distinct_thresholds)
        )
    features += [
        (KIND_DISTINCT_PROPERTY, name, f"p{index}", distinct_thresholds)
        for index, name in enumerate(property_names)
    ]
    return features


def _best_threshold(
    values: np.ndarray, retained: np.ndarray, thresholds: Sequence[int]
) -> tuple[int, AhaScores] | None:
    """Return the threshold with the highest phi on the fitting accounts."""
    best = None
    for threshold in thresholds:
        scores = score_behaviour(values >= threshold, retained)
        if scores.phi is None:
            continue
        if best is None or scores.phi > best[1].phi:
            best = (threshold, scores)
    return best


def _property_columns(names: Sequence[str], properties: dict[str, str]) -> list[str]:
    missing = [name for name in names if name not in properties]
    if missing:
        raise AnalysisError(
            "churn_link.unknown_property",
            N_(
                "The property {name} in analysis.aha_distinct_properties is not in "
                "the store. Known properties: {known}. Fix the name or load it."
            ),
            name=missing[0],
            known=", ".join(sorted(properties)),
        )
    return [properties[name] for name in names]


def discover_aha(
    frame: pd.DataFrame,
    events: ir.Table,
    settings: ChurnLinkSettings,
    properties: dict[str, str],
    execute,
    exclude_events: Sequence[str] = (),
) -> AhaResult:
    """Rank early behaviours by how well they separate retained accounts.

    Parameters
    ----------
    frame
        Per-account frame from :func:`jalon.churn_link.frame.account_frame`.
    events
        Usable events (Ibis), with ``account_id``, ``event``, ``ts`` and
        ``start_at``.
    settings
        ``aha_*`` settings, ``held_out_share`` and ``seed`` are used.
    properties
        Property names as written in the config, mapped to store columns.
    execute
        Runs an Ibis expression and returns pandas.
    exclude_events
        Events never proposed, such as the churn event.

    Returns
    -------
    AhaResult
        Candidates sorted by phi on the fitting accounts, best first, with
        their held-out scores. Caveat codes: ``association_not_cause``
        (always), ``aha_few_held_out`` and ``aha_no_candidate``.
    """
    window, horizon = settings.aha_window, settings.aha_horizon
    excluded_events = [*exclude_events, *settings.aha_exclude_events]
    event_names = candidate_events(events, settings, excluded_events, execute)
    property_columns = _property_columns(settings.aha_distinct_properties, properties)
    counts = behaviour_counts(events, event_names, property_columns, window, execute)

    population, excluded = discovery_population(frame, window, horizon)
    table = population.merge(counts, on="account_id", how="left").fillna(0)
    held_out = held_out_mask(len(table), settings.held_out_share, settings.seed)
    retained = table["retained"].to_numpy(bool)

    thresholds = (settings.aha_min_counts, settings.aha_distinct_counts)
    candidates = []
    for kind, name, column, tried in _features(
        counts, event_names, settings.aha_distinct_properties, thresholds
    ):
        values = table[column].to_numpy(float)
        best = _best_threshold(values[~held_out], retained[~held_out], tried)
        if best is None:
            continue
        threshold, fit_scores = best
        candidates.append(
            AhaCandidate(
                kind=kind,
                name=name,
                min_count=threshold,
                window_days=window,
                fit=fit_scores,
                held_out=score_behaviour(
                    values[held_out] >= threshold, retained[held_out]
                ),
                milestone_toml=milestone_toml(
                    kind, name, threshold, window, event_names
                ),
            )
        )
    candidates.sort(key=lambda item: (-item.fit.phi, item.kind, str(item.name)))
    kept = tuple(candidates[:MAX_CANDIDATES])

    caveats = [CAVEAT_ASSOCIATION]
    if not kept:
        caveats.append(CAVEAT_NO_CANDIDATE)
    elif kept[0].held_out.n_with < MIN_HELD_OUT_WITH:
        caveats.append(CAVEAT_FEW_HELD_OUT)
    result = AhaResult(
        window_days=window,
        horizon_days=horizon,
        n_accounts=len(table),
        n_fit=int((~held_out).sum()),
        n_held_out=int(held_out.sum()),
        excluded=excluded,
        candidates=kept,
        caveats=tuple(caveats),
    )
    logger.info("%r", result)
    return result
