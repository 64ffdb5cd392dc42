"""Sample the demo accounts, their latent times to value and their churn.

Everything here is vectorised with numpy. Each sampling step draws from its
own generator, spawned from the seed in a fixed order, so a change in one
step leaves the draws of the others unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jalon.demo import model
from jalon.demo.model import DemoEffects

logger = logging.getLogger(__name__)

# Names of the generator streams, in spawn order. Appending a name keeps the
# earlier streams, and so the earlier outputs, unchanged.
STREAMS = ("signup", "segments", "ttv", "invites", "churn", "events")

# A finite stand-in for "never" inside hazard arithmetic, in days.
NEVER_DAYS = 1e9
# Non-aha accounts send their first invitation after a log-normal delay. Later
# invitations follow at a mean interval of INVITE_SPREAD_DAYS / seats.
FIRST_INVITE_MEDIAN_DAYS = 4.0
FIRST_INVITE_SIGMA = 1.0
INVITE_SPREAD_DAYS = 60.0
# Planted aha accounts send their first two invitations uniformly within
# this interval, in days, so both fall inside the aha window.
AHA_INVITE_INTERVAL = (0.02, 2.95)
# A second user shares a first report after this log-normal delay from basic
# value when the account never reaches full adoption.
SECOND_SHARER_MEDIAN_DAYS = 10.0
SECOND_SHARER_SIGMA = 1.0


@dataclass(frozen=True)
class Population:
    """Latent state of every demo account, one array entry per account.

    Times are float days from sign-up. ``np.inf`` marks a milestone the
    account would never reach, even with no churn and no end of observation.
    Category columns hold indices into the tuples of :mod:`jalon.demo.model`.
    """

    signup_s: np.ndarray
    end_days: np.ndarray
    plan: np.ndarray
    company_size: np.ndarray
    channel: np.ndarray
    country: np.ndarray
    seats: np.ndarray
    aha_planted: np.ndarray
    basic_days: np.ndarray
    exceed_days: np.ndarray
    full_days: np.ndarray
    second_sharer_days: np.ndarray
    invite_days: np.ndarray
    churn_days: np.ndarray

    @property
    def n_accounts(self) -> int:
        """Number of accounts."""
        return int(self.signup_s.size)

    @property
    def stop_days(self) -> np.ndarray:
        """Days from sign-up to churn or observation end, whichever comes first."""
        return np.minimum(self.churn_days, self.end_days)


def spawn_generators(seed: int) -> dict[str, np.random.Generator]:
    """Return one seeded generator per name in :data:`STREAMS`."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children)
    }


def simulate_population(
    seed: int, n_accounts: int, effects: DemoEffects
) -> tuple[Population, np.random.Generator]:
    """Sample the latent population and return it with the event generator.

    The second item is the generator that the event step must use, so that
    the whole demo follows from ``seed``.
    """
    if n_accounts < 1:
        raise ValueError(f"n_accounts must be at least 1, got {n_accounts}")
    rngs = spawn_generators(seed)

    signup_s = _sample_signups(rngs["signup"], n_accounts)
    plan, size, channel, country, seats = _sample_segments(rngs["segments"], n_accounts)
    aha = rngs["segments"].random(n_accounts) < model.AHA_SHARE
    basic, exceed, full, second = _sample_ttv(rngs["ttv"], plan, size, seats, effects)
    invites = _sample_invites(rngs["invites"], seats, aha, second, full)
    churn = _sample_churn(rngs["churn"], plan, channel, basic, aha, effects)

    end_s = int(model.OBSERVATION_END.timestamp())
    population = Population(
        signup_s=signup_s,
        end_days=(end_s - signup_s) / model.SECONDS_PER_DAY,
        plan=plan,
        company_size=size,
        channel=channel,
        country=country,
        seats=seats,
        aha_planted=aha,
        basic_days=basic,
        exceed_days=exceed,
        full_days=full,
        second_sharer_days=second,
        invite_days=invites,
        churn_days=churn,
    )
    logger.info("sampled %d demo accounts from seed %d", n_accounts, seed)
    return population, rngs["events"]


def _sample_signups(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return sorted sign-up times in epoch seconds, all before observation end."""
    start_s = int(model.SIGNUP_FROM.timestamp())
    n_days = (model.OBSERVATION_END - model.SIGNUP_FROM).days
    day = np.arange(n_days)

    # 1970-01-01 was a Thursday: (epoch day + 3) % 7 is 0 on Mondays.
    weekday = (start_s // model.SECONDS_PER_DAY + day + 3) % 7
    weight = 1.0 + model.SIGNUP_GROWTH * day / n_days
    weight = np.where(weekday >= 5, weight * model.WEEKEND_SIGNUP_FACTOR, weight)
    chosen_day = rng.choice(n_days, size=n, p=weight / weight.sum())

    hour = rng.normal(model.SIGNUP_HOUR_MEAN, model.SIGNUP_HOUR_SD, size=n)
    second_of_day = np.clip(hour * 3600, 0, model.SECONDS_PER_DAY - 1).astype(np.int64)
    return np.sort(start_s + chosen_day * model.SECONDS_PER_DAY + second_of_day)


def _sample_segments(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    plan = rng.choice(len(model.PLANS), size=n, p=model.PLAN_SHARES).astype(np.int8)

    # Company size given plan: inverse CDF of each account's row of shares.
    cumulative = np.cumsum(np.asarray(model.COMPANY_SIZE_SHARES), axis=1)
    draw = rng.random(n)
    size = (draw[:, None] >= cumulative[plan]).sum(axis=1)
    size = np.minimum(size, len(model.COMPANY_SIZES) - 1).astype(np.int8)

    channel = rng.choice(len(model.CHANNELS), size=n, p=model.CHANNEL_SHARES)
    country = rng.choice(len(model.COUNTRIES), size=n, p=model.COUNTRY_SHARES)
    low, high = np.asarray(model.SEAT_RANGES).T
    seats = rng.integers(low[size], high[size] + 1)
    return plan, size, channel.astype(np.int8), country.astype(np.int8), seats


def _sample_ttv(
    rng: np.random.Generator,
    plan: np.ndarray,
    size: np.ndarray,
    seats: np.ndarray,
    effects: DemoEffects,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return latent days to basic, exceed, full adoption and the second sharer."""
    n = plan.size
    scale = np.where(
        plan == model.PLANS.index("enterprise"), effects.segment_ttv_ratio, 1.0
    )

    never_basic = rng.random(n) < np.asarray(model.NEVER_BASIC_BY_SIZE)[size]
    basic_delay = _lognormal(
        rng, model.BASIC_DELAY_MEDIAN_DAYS, model.BASIC_DELAY_SIGMA, n
    )
    basic = np.where(never_basic, np.inf, scale * basic_delay)

    never_exceed = (
        rng.random(n) < np.asarray(model.NEVER_EXCEED_AFTER_BASIC_BY_PLAN)[plan]
    )
    exceed_delay = _lognormal(
        rng, model.EXCEED_DELAY_MEDIAN_DAYS, model.EXCEED_DELAY_SIGMA, n
    )
    exceed = np.where(never_exceed, np.inf, basic + scale * exceed_delay)

    never_full = rng.random(n) < np.asarray(model.NEVER_FULL_AFTER_BASIC_BY_SIZE)[size]
    never_full |= seats < model.FULL_ADOPTION_USERS
    full_delay = scale * _lognormal(
        rng, model.FULL_DELAY_MEDIAN_DAYS, model.FULL_DELAY_SIGMA, n
    )
    full = np.where(never_full, np.inf, basic + full_delay)

    # The second distinct user to share a report does so between basic value
    # and full adoption, so that full adoption is exactly the third sharer.
    fraction = rng.uniform(0.1, 0.9, size=n)
    alone = scale * _lognormal(rng, SECOND_SHARER_MEDIAN_DAYS, SECOND_SHARER_SIGMA, n)
    second = np.where(never_full, basic + alone, basic + fraction * full_delay)
    return basic, exceed, full, second


def _lognormal(
    rng: np.random.Generator, median: float, sigma: float, n: int
) -> np.ndarray:
    return rng.lognormal(mean=np.log(median), sigma=sigma, size=n)


def _sample_invites(
    rng: np.random.Generator,
    seats: np.ndarray,
    aha: np.ndarray,
    second_sharer: np.ndarray,
    full: np.ndarray,
) -> np.ndarray:
    """Return sorted invitation times, one row per account, padded with inf.

    Invitation k (1-based) brings user k, for k below the number of seats.
    An aha account with two seats sends one extra invitation that brings no
    user, so that it still sends two within the aha window. Every other
    account sends at most one invitation within that window.
    """
    n = seats.size
    n_invites = np.maximum(seats - 1, np.where(aha, model.AHA_MIN_COUNT, 0))
    width = max(int(n_invites.max()), 2)
    column = np.arange(width)
    window = model.AHA_WINDOW_DAYS

    gaps = rng.exponential(1.0, size=(n, width)) * (INVITE_SPREAD_DAYS / seats)[:, None]
    first = _lognormal(rng, FIRST_INVITE_MEDIAN_DAYS, FIRST_INVITE_SIGMA, n)
    aha_pair = np.sort(rng.uniform(*AHA_INVITE_INTERVAL, size=(n, 2)), axis=1)

    # Non-aha: the first invitation at any time, the others after the window.
    after_first = np.maximum(first, window)[:, None] + np.cumsum(gaps[:, 1:], axis=1)
    plain = np.column_stack([first, after_first])
    # Aha: two invitations inside the window, the others after it.
    after_pair = window + np.cumsum(gaps[:, : width - 2], axis=1)
    planted = np.column_stack([aha_pair, after_pair])
    invites = np.where(aha[:, None], planted, plain)

    # Users 1 and 2 join before they first share a report. A non-aha account
    # keeps its second invitation after the window, so user 2 may share a
    # report before being invited when full adoption comes that early.
    invites[:, 0] = np.minimum(invites[:, 0], 0.9 * second_sharer)
    capped = np.minimum(invites[:, 1], 0.95 * full)
    invites[:, 1] = np.where(aha, capped, np.maximum(capped, window))

    invites = np.where(column[None, :] < n_invites[:, None], invites, np.inf)
    return np.sort(invites, axis=1)


def _sample_churn(
    rng: np.random.Generator,
    plan: np.ndarray,
    channel: np.ndarray,
    basic: np.ndarray,
    aha: np.ndarray,
    effects: DemoEffects,
) -> np.ndarray:
    """Return latent churn days from a piecewise-constant hazard.

    The hazard changes by a factor at three moments per account: the end of
    the early period, basic value, and the end of the aha window (aha
    accounts only). The time solves H(t) = E for E ~ Exp(1), where H is the
    cumulative hazard.
    """
    n = plan.size
    rate0 = (
        model.BASE_CHURN_PER_DAY
        * np.asarray(model.CHURN_FACTOR_BY_PLAN)[plan]
        * np.asarray(model.CHURN_FACTOR_BY_CHANNEL)[channel]
        * model.EARLY_CHURN_FACTOR
    )
    switch_at = np.column_stack(
        [
            np.full(n, model.EARLY_CHURN_DAYS),
            np.minimum(basic, NEVER_DAYS),
            np.where(aha, model.AHA_WINDOW_DAYS, NEVER_DAYS),
        ]
    )
    factor = np.column_stack(
        [
            np.full(n, 1.0 / model.EARLY_CHURN_FACTOR),
            np.full(n, effects.churn_hr_after_value),
            np.full(n, effects.aha_churn_ratio),
        ]
    )
    order = np.argsort(switch_at, axis=1, kind="stable")
    switch_at = np.take_along_axis(switch_at, order, axis=1)
    factor = np.take_along_axis(factor, order, axis=1)
    return solve_piecewise_hazard(
        rate0, switch_at, factor, rng.exponential(1.0, size=n)
    )


def solve_piecewise_hazard(
    rate0: np.ndarray, switch_at: np.ndarray, factor: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Return t with cumulative hazard H(t) = target, row by row.

    Parameters
    ----------
    rate0
        Hazard per day from time 0, shape (n,).
    switch_at
        Sorted times in days at which the hazard is multiplied, shape (n, k).
    factor
        The multipliers applied at those times, shape (n, k).
    target
        Cumulative hazard to reach, shape (n,).

    Examples
    --------
    >>> solve_piecewise_hazard(
    ...     np.array([1.0]), np.array([[1.0]]), np.array([[2.0]]), np.array([2.0])
    ... )
    array([1.5])
    """
    rates = rate0[:, None] * np.cumprod(
        np.column_stack([np.ones_like(rate0), factor]), axis=1
    )
    edges = np.column_stack([np.zeros_like(rate0), switch_at])
    lengths = np.diff(edges, axis=1)
    hazard_at_edge = np.column_stack(
        [np.zeros_like(rate0), np.cumsum(rates[:, :-1] * lengths, axis=1)]
    )
    interval = (hazard_at_edge <= target[:, None]).sum(axis=1) - 1
    rows = np.arange(rate0.size)
    return (
        edges[rows, interval]
        + (target - hazard_at_edge[rows, interval]) / rates[rows, interval]
    )


def accounts_frame(population: Population) -> pd.DataFrame:
    """Return one row per account with its segments, latent times and churn.

    Columns
    -------
    account_id : str
        ``acc00001`` and up, in sign-up order.
    signup_at : datetime64[ns, UTC]
    plan, company_size, channel, country : str
    seats : int64
        Users who join the account if it lives long enough (2 to 30).
    churn_at : datetime64[ns, UTC]
        Time of ``subscription_cancelled``, NaT when the latent churn falls
        at or after the observation end.
    churn_latent_days : float64
        Latent days to churn, even past the observation end.
    <milestone>_latent_days : float64
        One column per milestone id (``basic_value``, ``exceed_value``,
        ``full_adoption``): latent days to it, ignoring churn and the end of
        observation. ``inf`` when the account would never reach it.
    <milestone>_at : datetime64[ns, UTC]
        Observed time of each milestone (its first event in the data). NaT
        when the latent time falls after churn or the observation end.
    aha_planted : bool
        The account was drawn to do the aha behaviour.
    """
    stop = population.stop_days
    signup = pd.to_datetime(population.signup_s, unit="s", utc=True)
    frame = pd.DataFrame(
        {
            "account_id": account_ids(population.n_accounts),
            "signup_at": signup,
            "plan": np.asarray(model.PLANS)[population.plan],
            "company_size": np.asarray(model.COMPANY_SIZES)[population.company_size],
            "channel": np.asarray(model.CHANNELS)[population.channel],
            "country": np.asarray(model.COUNTRIES)[population.country],
            "seats": population.seats.astype(np.int64),
            "churn_at": _observed_at(
                population, population.churn_days, population.end_days
            ),
            "churn_latent_days": population.churn_days,
        }
    )
    for name, latent in milestone_latent_days(population).items():
        frame[f"{name}_latent_days"] = latent
        frame[f"{name}_at"] = _observed_at(population, latent, stop)
    frame["aha_planted"] = population.aha_planted
    return frame


def milestone_latent_days(population: Population) -> dict[str, np.ndarray]:
    """Return the latent days of each demo milestone, keyed by milestone id."""
    return {
        "basic_value": population.basic_days,
        "exceed_value": population.exceed_days,
        "full_adoption": population.full_days,
    }


def account_ids(n: int) -> np.ndarray:
    """Return ``acc00001``... for ``n`` accounts."""
    width = max(5, len(str(n)))
    return np.array([f"acc{i:0{width}d}" for i in range(1, n + 1)])


def seconds_after_signup(population: Population, days: np.ndarray) -> np.ndarray:
    """Return epoch seconds of a time in days after sign-up, floored to the second."""
    return population.signup_s + np.floor(days * model.SECONDS_PER_DAY).astype(np.int64)


def _observed_at(
    population: Population, days: np.ndarray, limit: np.ndarray
) -> pd.Series:
    seen = days < limit
    seconds = seconds_after_signup(population, np.where(seen, days, 0.0))
    moments = pd.Series(pd.to_datetime(seconds, unit="s", utc=True))
    return moments.where(seen)
