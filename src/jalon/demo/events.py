"""Turn the latent demo population into an event log.

Milestone events sit exactly at the latent times of :mod:`population`, and
every event of an account falls before its churn and before the observation
end. The cancellation itself sits at the churn time. All steps are
vectorised: an event block is a set of arrays, one entry per event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jalon.demo import model
from jalon.demo.population import Population, account_ids

logger = logging.getLogger(__name__)

EVENTS = (
    "signed_up",
    "tour_completed",
    "project_created",
    "teammate_invited",
    "data_connected",
    "report_shared",
    "automation_created",
    "logged_in",
    "report_viewed",
    "feature_used",
    "subscription_cancelled",
)
EVENT_CODE = {name: code for code, name in enumerate(EVENTS)}

# Onboarding steps: probability of doing the step for accounts that reach
# basic value and for the others, and a log-normal delay (median days, sigma).
TOUR_PROBABILITY = (0.82, 0.5)
TOUR_DELAY = (0.08, 1.0)
PROJECT_PROBABILITY_WITHOUT_VALUE = 0.45
PROJECT_DELAY_WITHOUT_VALUE = (1.0, 1.0)
# Accounts that reach basic value create their project at a uniform fraction
# of the time to basic value, within this interval.
PROJECT_FRACTION_OF_BASIC = (0.15, 0.85)
DATA_CONNECTED_PROBABILITY = (0.65, 0.2)
DATA_CONNECTED_DELAY = (2.0, 1.2)

# Ongoing activity. Sessions start as a Poisson process at
# SESSION_RATE_PER_DAY * sqrt(seats) per day, times VALUE_ACTIVITY_FACTOR once
# basic value is reached, times ONBOARDING_ACTIVITY_FACTOR during the first
# ONBOARDING_DAYS, thinned by time of day and weekday. Accounts that never
# reach basic value go dormant after an exponential time.
SESSION_RATE_PER_DAY = 0.14
VALUE_ACTIVITY_FACTOR = 1.8
ONBOARDING_ACTIVITY_FACTOR = 4.0
ONBOARDING_DAYS = 7.0
DORMANT_MEAN_DAYS = 30.0
# Acceptance of a candidate session by hour of day (UTC) and on weekends.
WORKING_HOURS = (7, 19)
EVENING_HOURS = (19, 23)
EVENING_ACCEPTANCE = 0.35
NIGHT_ACCEPTANCE = 0.08
WEEKEND_ACCEPTANCE = 0.25
# Events after the login in a session: Poisson count, each a report view with
# REPORT_VIEW_SHARE, else a feature use, spaced 30 s plus an exponential gap.
EXTRA_EVENTS_PER_SESSION = 1.8
REPORT_VIEW_SHARE = 0.45
MIN_GAP_SECONDS = 30.0
MEAN_EXTRA_GAP_SECONDS = 240.0
# Reports shared and automations created after the first one, per day.
SHARE_RATE_PER_DAY = 0.06
AUTOMATION_RATE_PER_DAY = 0.04


@dataclass
class EventBlocks:
    """Event arrays collected block by block, then concatenated."""

    parts: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {
            k: [] for k in ("account", "days", "event", "user", "feature", "reason")
        }
    )

    def add(
        self,
        account: np.ndarray,
        days: np.ndarray,
        event: str,
        user: np.ndarray | int = 0,
        feature: np.ndarray | None = None,
        reason: np.ndarray | None = None,
    ) -> None:
        """Append one block of events of one kind."""
        n = account.size
        self.parts["account"].append(account.astype(np.int64))
        self.parts["days"].append(days.astype(np.float64))
        self.parts["event"].append(np.full(n, EVENT_CODE[event], dtype=np.int8))
        self.parts["user"].append(
            np.broadcast_to(np.asarray(user, dtype=np.int16), (n,))
        )
        self.parts["feature"].append(_codes(feature, n))
        self.parts["reason"].append(_codes(reason, n))

    def concatenate(self) -> dict[str, np.ndarray]:
        """Return each column as one array, in the order blocks were added."""
        return {name: np.concatenate(arrays) for name, arrays in self.parts.items()}


def _codes(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, -1, dtype=np.int8)
    return values.astype(np.int8)


def build_events(population: Population, rng: np.random.Generator) -> pd.DataFrame:
    """Return the event log of the population, sorted by time.

    Columns: ``account_id``, ``user_id``, ``event``, ``timestamp`` (epoch
    seconds, int64), then the properties ``plan`` and ``channel`` (on
    ``signed_up``), ``feature`` (on ``feature_used``), ``amount`` (monthly
    EUR lost) and ``reason`` (on ``subscription_cancelled``). Missing
    properties are null.
    """
    blocks = EventBlocks()
    _add_onboarding(blocks, population, rng)
    _add_invitations(blocks, population)
    _add_value_events(blocks, population, rng)
    _add_sessions(blocks, population, rng)
    columns = _keep_before_stop(blocks.concatenate(), population)
    _add_cancellations_into(columns, population, rng)
    frame = _to_frame(columns, population)
    logger.info(
        "built %d demo events for %d accounts", len(frame), population.n_accounts
    )
    return frame


def _add_onboarding(
    blocks: EventBlocks, population: Population, rng: np.random.Generator
) -> None:
    n = population.n_accounts
    everyone = np.arange(n)
    reaches = np.isfinite(population.basic_days)
    blocks.add(everyone, np.zeros(n), "signed_up")

    tour = rng.random(n) < np.where(reaches, *TOUR_PROBABILITY)
    blocks.add(everyone[tour], _lognormal(rng, TOUR_DELAY, n)[tour], "tour_completed")

    # Every account that shares a report creates a project before its first
    # report, so funnels through project_created to report_shared convert.
    fraction = rng.uniform(*PROJECT_FRACTION_OF_BASIC, size=n)
    other_project = rng.random(n) < PROJECT_PROBABILITY_WITHOUT_VALUE
    other_delay = _lognormal(rng, PROJECT_DELAY_WITHOUT_VALUE, n)
    project_days = np.where(reaches, fraction * population.basic_days, other_delay)
    has_project = reaches | other_project
    blocks.add(everyone[has_project], project_days[has_project], "project_created")

    connected = rng.random(n) < np.where(reaches, *DATA_CONNECTED_PROBABILITY)
    delay = _lognormal(rng, DATA_CONNECTED_DELAY, n)
    blocks.add(everyone[connected], delay[connected], "data_connected")


def _add_invitations(blocks: EventBlocks, population: Population) -> None:
    account, slot = np.nonzero(np.isfinite(population.invite_days))
    blocks.add(account, population.invite_days[account, slot], "teammate_invited")


def _add_value_events(
    blocks: EventBlocks, population: Population, rng: np.random.Generator
) -> None:
    """Add shared reports and created automations, first ones at latent times.

    Before full adoption only users 0 and 1 share reports, so the third
    distinct sharer appears exactly at the latent full adoption time.
    """
    stop = population.stop_days
    for days, user in (
        (population.basic_days, 0),
        (population.second_sharer_days, 1),
        (population.full_days, 2),
    ):
        reached = np.nonzero(np.isfinite(days))[0]
        blocks.add(reached, days[reached], "report_shared", user)

    rate = SHARE_RATE_PER_DAY * np.sqrt(population.seats)
    account, days = poisson_times(rng, population.basic_days, stop, rate)
    sharers = np.where(days >= population.second_sharer_days[account], 2, 1)
    joined = joined_users(population, account, days)
    sharers = np.where(
        days >= population.full_days[account],
        np.maximum(joined, model.FULL_ADOPTION_USERS),
        sharers,
    )
    blocks.add(account, days, "report_shared", _pick_user(rng, sharers))

    reached = np.nonzero(np.isfinite(population.exceed_days))[0]
    blocks.add(reached, population.exceed_days[reached], "automation_created")
    rate = np.full(population.n_accounts, AUTOMATION_RATE_PER_DAY)
    account, days = poisson_times(rng, population.exceed_days, stop, rate)
    users = _pick_user(rng, joined_users(population, account, days))
    blocks.add(account, days, "automation_created", users)


def _add_sessions(
    blocks: EventBlocks, population: Population, rng: np.random.Generator
) -> None:
    n = population.n_accounts
    reaches = np.isfinite(population.basic_days)
    dormant = np.where(reaches, np.inf, rng.exponential(DORMANT_MEAN_DAYS, size=n))
    active_until = np.minimum(population.stop_days, dormant)

    # Candidates at the rate after basic value, thinned before it, with a
    # higher rate during onboarding.
    rate = SESSION_RATE_PER_DAY * np.sqrt(population.seats) * VALUE_ACTIVITY_FACTOR
    onboarding_end = np.minimum(active_until, ONBOARDING_DAYS)
    early = poisson_times(
        rng, np.zeros(n), onboarding_end, rate * ONBOARDING_ACTIVITY_FACTOR
    )
    late = poisson_times(rng, np.full(n, ONBOARDING_DAYS), active_until, rate)
    account = np.concatenate([early[0], late[0]])
    days = np.concatenate([early[1], late[1]])
    acceptance = _session_acceptance(seconds_after_signup_of(population, account, days))
    before_value = days < population.basic_days[account]
    acceptance = np.where(before_value, acceptance / VALUE_ACTIVITY_FACTOR, acceptance)
    keep = rng.random(account.size) < acceptance
    account, days = account[keep], days[keep]
    user = _pick_user(rng, joined_users(population, account, days))
    blocks.add(account, days, "logged_in", user)

    # Extra events of each session, at increasing offsets after the login.
    count = rng.poisson(EXTRA_EVENTS_PER_SESSION, size=account.size)
    session = np.repeat(np.arange(account.size), count)
    gap_s = MIN_GAP_SECONDS + rng.exponential(MEAN_EXTRA_GAP_SECONDS, size=session.size)
    running = np.cumsum(gap_s)
    first_in_session = np.repeat(np.cumsum(count) - count, count)
    offset_s = running - np.concatenate([[0.0], running])[first_in_session]
    extra_days = days[session] + offset_s / model.SECONDS_PER_DAY

    is_view = rng.random(session.size) < REPORT_VIEW_SHARE
    feature = rng.choice(len(model.FEATURES), size=session.size, p=model.FEATURE_SHARES)
    views, uses = session[is_view], session[~is_view]
    blocks.add(account[views], extra_days[is_view], "report_viewed", user[views])
    blocks.add(
        account[uses],
        extra_days[~is_view],
        "feature_used",
        user[uses],
        feature=feature[~is_view],
    )


def _session_acceptance(epoch_seconds: np.ndarray) -> np.ndarray:
    hour = (epoch_seconds % model.SECONDS_PER_DAY) // 3600
    # 1970-01-01 was a Thursday: (epoch day + 3) % 7 is 0 on Mondays.
    weekday = (epoch_seconds // model.SECONDS_PER_DAY + 3) % 7
    acceptance = np.full(hour.shape, NIGHT_ACCEPTANCE)
    acceptance[(hour >= EVENING_HOURS[0]) & (hour < EVENING_HOURS[1])] = (
        EVENING_ACCEPTANCE
    )
    acceptance[(hour >= WORKING_HOURS[0]) & (hour < WORKING_HOURS[1])] = 1.0
    return np.where(weekday >= 5, acceptance * WEEKEND_ACCEPTANCE, acceptance)


def poisson_times(
    rng: np.random.Generator, start: np.ndarray, stop: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sample a homogeneous Poisson process on [start, stop) of each account.

    Returns the account index and the time in days of every point. Accounts
    whose interval is empty or starts at inf get no points.
    """
    length = np.where(np.isfinite(start) & (stop > start), stop - start, 0.0)
    count = rng.poisson(rate * length)
    account = np.repeat(np.arange(start.size), count)
    days = start[account] + rng.random(account.size) * length[account]
    return account, days


def joined_users(
    population: Population, account: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Return how many users had joined each account at each time.

    User 0 signs up the account. User k joins at invitation k, for k below
    the seat count, so the extra invitation of a two-seat aha account brings
    no user.
    """
    invites = population.invite_days
    brings_user = np.arange(invites.shape[1])[None, :] < (population.seats - 1)[:, None]
    joins = np.where(brings_user, invites, np.inf)
    return 1 + (joins[account] < days[:, None]).sum(axis=1)


def _pick_user(rng: np.random.Generator, n_users: np.ndarray) -> np.ndarray:
    return np.floor(rng.random(n_users.size) * n_users).astype(np.int16)


def _lognormal(
    rng: np.random.Generator, median_sigma: tuple[float, float], n: int
) -> np.ndarray:
    median, sigma = median_sigma
    return rng.lognormal(mean=np.log(median), sigma=sigma, size=n)


def _keep_before_stop(
    columns: dict[str, np.ndarray], population: Population
) -> dict[str, np.ndarray]:
    keep = columns["days"] < population.stop_days[columns["account"]]
    return {name: values[keep] for name, values in columns.items()}


def _add_cancellations_into(
    columns: dict[str, np.ndarray], population: Population, rng: np.random.Generator
) -> None:
    churned = np.nonzero(population.churn_days < population.end_days)[0]
    reason = rng.choice(
        len(model.CANCEL_REASONS), size=churned.size, p=model.CANCEL_REASON_SHARES
    )
    blocks = EventBlocks()
    blocks.add(
        churned, population.churn_days[churned], "subscription_cancelled", reason=reason
    )
    extra = blocks.concatenate()
    for name, values in columns.items():
        columns[name] = np.concatenate([values, extra[name]])


def _to_frame(columns: dict[str, np.ndarray], population: Population) -> pd.DataFrame:
    account = columns["account"]
    event = columns["event"]
    timestamp = seconds_after_signup_of(population, account, columns["days"])
    order = np.lexsort((np.arange(account.size), account, timestamp))
    account, event, timestamp = account[order], event[order], timestamp[order]
    user = columns["user"][order].astype(np.int64)

    ids = account_ids(population.n_accounts)
    first_user = np.concatenate([[0], np.cumsum(population.seats)[:-1]])
    user_names = np.concatenate(
        [
            [f"{ids[a]}-u{k:02d}" for k in range(population.seats[a])]
            for a in range(ids.size)
        ]
    )
    signed_up = event == EVENT_CODE["signed_up"]
    cancelled = event == EVENT_CODE["subscription_cancelled"]
    amount = population.seats * np.asarray(model.SEAT_PRICE_EUR)[population.plan]

    return pd.DataFrame(
        {
            "account_id": pd.Categorical.from_codes(account, ids),
            "user_id": pd.Categorical.from_codes(
                first_user[account] + user, user_names
            ),
            "event": pd.Categorical.from_codes(event, EVENTS),
            "timestamp": timestamp,
            "plan": _labels(
                np.where(signed_up, population.plan[account], -1), model.PLANS
            ),
            "channel": _labels(
                np.where(signed_up, population.channel[account], -1), model.CHANNELS
            ),
            "feature": _labels(columns["feature"][order], model.FEATURES),
            "amount": pd.Series(amount[account], dtype="Int64").where(cancelled),
            "reason": _labels(columns["reason"][order], model.CANCEL_REASONS),
        }
    )


def seconds_after_signup_of(
    population: Population, account: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Return epoch seconds of times given in days after each account's sign-up."""
    return population.signup_s[account] + np.floor(days * model.SECONDS_PER_DAY).astype(
        np.int64
    )


def _labels(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories)
