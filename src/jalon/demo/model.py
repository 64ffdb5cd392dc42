"""Parameters of the synthetic demo company and the effects a test can plant.

The numbers that shape segments, latent times to value and churn live here,
so the known truth written to ``truth.json`` can quote the model it came from.
Activity rates, which no truth figure depends on, sit in :mod:`events`. Times
are in days from the account's sign-up unless a name says otherwise.

Independence choices keep the truth exact for Kaplan-Meier. Before an
account reaches basic value, its churn hazard depends on plan, channel and
tenure, but the latent delay to basic value depends only on plan and company
size. Channel, tenure and the planted aha behaviour are drawn independently of
the latent delays. Within one plan, churn before basic value therefore
censors the delay independently.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

# Sign-ups run for 18 months, from SIGNUP_FROM up to OBSERVATION_END, and every
# event falls strictly before OBSERVATION_END. Fixed dates keep the output
# independent of the day the generator runs.
SIGNUP_FROM = datetime(2025, 1, 1, tzinfo=UTC)
OBSERVATION_END = datetime(2026, 7, 1, tzinfo=UTC)
SECONDS_PER_DAY = 86_400

# Daily sign-up intensity grows linearly from 1 to 1 + SIGNUP_GROWTH over the
# window. A weekend day gets WEEKEND_SIGNUP_FACTOR of a weekday's intensity.
SIGNUP_GROWTH = 1.0
WEEKEND_SIGNUP_FACTOR = 0.45
# Time of day of a sign-up, in hours UTC: normal, clipped to the day.
SIGNUP_HOUR_MEAN = 13.5
SIGNUP_HOUR_SD = 3.5

PLANS = ("starter", "team", "enterprise")
PLAN_SHARES = (0.55, 0.33, 0.12)
COMPANY_SIZES = ("1-10", "11-50", "51-200", "200+")
# P(company_size | plan); rows follow PLANS, columns COMPANY_SIZES.
COMPANY_SIZE_SHARES = (
    (0.65, 0.28, 0.06, 0.01),
    (0.25, 0.45, 0.22, 0.08),
    (0.03, 0.17, 0.35, 0.45),
)
# Seats (users who will join the account), uniform integers in [low, high],
# by company size.
SEAT_RANGES = ((2, 6), (3, 10), (5, 20), (10, 30))
CHANNELS = ("organic", "paid_search", "referral", "partner", "outbound")
CHANNEL_SHARES = (0.35, 0.25, 0.15, 0.10, 0.15)
COUNTRIES = ("FR", "BE", "CH", "CA", "US")
COUNTRY_SHARES = (0.78, 0.08, 0.05, 0.05, 0.04)
# Monthly list price per seat in EUR, by plan: the `amount` of a cancellation.
SEAT_PRICE_EUR = (15, 29, 59)

# Basic value (first `report_shared`) is never reached with a probability that
# depends on company size. Otherwise it comes after a log-normal delay with the
# median below for starter and team, times segment_ttv_ratio for enterprise.
NEVER_BASIC_BY_SIZE = (0.22, 0.17, 0.14, 0.12)
BASIC_DELAY_MEDIAN_DAYS = 2.5
BASIC_DELAY_SIGMA = 1.1
# Exceed value (first `automation_created`): only after basic value, never
# reached with a probability by plan, otherwise after a further log-normal
# delay (scaled like the basic delay for enterprise).
NEVER_EXCEED_AFTER_BASIC_BY_PLAN = (0.38, 0.28, 0.22)
EXCEED_DELAY_MEDIAN_DAYS = 9.0
EXCEED_DELAY_SIGMA = 0.9
# Full adoption (a third distinct user shares a report): only after basic
# value and with at least FULL_ADOPTION_USERS seats, never reached with a
# probability by company size, otherwise after a further log-normal delay.
FULL_ADOPTION_USERS = 3
NEVER_FULL_AFTER_BASIC_BY_SIZE = (0.55, 0.40, 0.30, 0.25)
FULL_DELAY_MEDIAN_DAYS = 20.0
FULL_DELAY_SIGMA = 0.7

# Churn hazard per day: BASE_CHURN_PER_DAY times the plan and channel factors,
# times EARLY_CHURN_FACTOR during the first EARLY_CHURN_DAYS, times
# churn_hr_after_value once basic value is reached, times aha_effect from
# AHA_WINDOW_DAYS on for accounts that planted the aha behaviour.
BASE_CHURN_PER_DAY = 0.0035
CHURN_FACTOR_BY_PLAN = (1.35, 1.0, 0.6)
CHURN_FACTOR_BY_CHANNEL = (1.0, 1.4, 0.8, 0.9, 1.1)
EARLY_CHURN_DAYS = 30.0
EARLY_CHURN_FACTOR = 1.6
CANCEL_REASONS = ("price", "missing_feature", "no_usage", "switched_tool", "other")
CANCEL_REASON_SHARES = (0.25, 0.2, 0.3, 0.15, 0.1)

# The aha behaviour: at least AHA_MIN_COUNT aha events within AHA_WINDOW_DAYS
# of sign-up. A share AHA_SHARE of accounts, drawn independently of
# everything else, is planted to do it.
AHA_SHARE = 0.3
AHA_MIN_COUNT = 2
AHA_WINDOW_DAYS = 3.0
SUPPORTED_AHA_EVENTS = ("teammate_invited",)
# truth.json ranks early behaviours against "not churned within this many
# days of sign-up", the retention a discovery of the aha moment would use.
AHA_RETENTION_DAYS = 90.0
AHA_RANKING_LENGTH = 10

FEATURES = (
    "dashboards",
    "filters",
    "exports",
    "alerts",
    "comments",
    "templates",
    "integrations",
    "scheduling",
)
FEATURE_SHARES = (0.24, 0.18, 0.14, 0.12, 0.1, 0.09, 0.08, 0.05)


@dataclass(frozen=True)
class DemoEffects:
    """Effects planted in the demo data, so tests can check that jalon finds them.

    Attributes
    ----------
    churn_hr_after_value
        Hazard ratio of churn once an account has reached basic value, against
        the same account before it (a time-varying effect). 1.0 plants none.
    segment_ttv_ratio
        Factor applied to every latent delay of enterprise accounts, against
        starter and team accounts. 1.0 plants none.
    aha_event
        Event of the aha behaviour ("did it at least twice in the first 3
        days"), or None for no aha effect. Only ``"teammate_invited"`` is
        supported.
    aha_effect
        Hazard ratio of churn, from day 3 on, for accounts planted with the aha
        behaviour against the others. 1.0 plants none.
    """

    churn_hr_after_value: float = 0.5
    segment_ttv_ratio: float = 1.5
    aha_event: str | None = "teammate_invited"
    aha_effect: float = 0.35

    def __post_init__(self) -> None:
        for name in ("churn_hr_after_value", "segment_ttv_ratio", "aha_effect"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(
                    f"DemoEffects.{name} must be a finite number, got {value!r}"
                )
            if value <= 0:
                raise ValueError(f"DemoEffects.{name} must be positive, got {value!r}")
        if self.aha_event is not None and self.aha_event not in SUPPORTED_AHA_EVENTS:
            raise NotImplementedError(
                f"DemoEffects.aha_event={self.aha_event!r} is not supported: "
                f"use one of {SUPPORTED_AHA_EVENTS} or None"
            )

    @property
    def aha_churn_ratio(self) -> float:
        """Churn hazard ratio applied to aha accounts: 1.0 when no aha event is set."""
        return self.aha_effect if self.aha_event is not None else 1.0

    def to_dict(self) -> dict[str, float | str | None]:
        """Return the effects as a JSON-ready dictionary."""
        return asdict(self)


def model_parameters() -> dict[str, object]:
    """Return the fixed model parameters as a JSON-ready dictionary for truth.json."""
    return {
        "signup_from": _iso(SIGNUP_FROM),
        "observation_end": _iso(OBSERVATION_END),
        "plans": dict(zip(PLANS, PLAN_SHARES)),
        "company_size_given_plan": {
            plan: dict(zip(COMPANY_SIZES, shares))
            for plan, shares in zip(PLANS, COMPANY_SIZE_SHARES)
        },
        "seat_ranges": {size: list(r) for size, r in zip(COMPANY_SIZES, SEAT_RANGES)},
        "channels": dict(zip(CHANNELS, CHANNEL_SHARES)),
        "countries": dict(zip(COUNTRIES, COUNTRY_SHARES)),
        "basic_value": {
            "never_by_company_size": dict(zip(COMPANY_SIZES, NEVER_BASIC_BY_SIZE)),
            "delay": _lognormal(BASIC_DELAY_MEDIAN_DAYS, BASIC_DELAY_SIGMA),
        },
        "exceed_value": {
            "after": "basic_value",
            "never_after_basic_by_plan": dict(
                zip(PLANS, NEVER_EXCEED_AFTER_BASIC_BY_PLAN)
            ),
            "extra_delay": _lognormal(EXCEED_DELAY_MEDIAN_DAYS, EXCEED_DELAY_SIGMA),
        },
        "full_adoption": {
            "after": "basic_value",
            "min_seats": FULL_ADOPTION_USERS,
            "never_after_basic_by_company_size": dict(
                zip(COMPANY_SIZES, NEVER_FULL_AFTER_BASIC_BY_SIZE)
            ),
            "extra_delay": _lognormal(FULL_DELAY_MEDIAN_DAYS, FULL_DELAY_SIGMA),
        },
        "churn": {
            "base_hazard_per_day": BASE_CHURN_PER_DAY,
            "factor_by_plan": dict(zip(PLANS, CHURN_FACTOR_BY_PLAN)),
            "factor_by_channel": dict(zip(CHANNELS, CHURN_FACTOR_BY_CHANNEL)),
            "early_days": EARLY_CHURN_DAYS,
            "early_factor": EARLY_CHURN_FACTOR,
        },
        "aha": {
            "planted_share": AHA_SHARE,
            "min_count": AHA_MIN_COUNT,
            "window_days": AHA_WINDOW_DAYS,
        },
    }


def _lognormal(median_days: float, sigma: float) -> dict[str, float]:
    return {"median_days": median_days, "mu": math.log(median_days), "sigma": sigma}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
