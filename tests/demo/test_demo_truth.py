"""Known truth: quantiles against the latent times, the model and planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from jalon.demo import DemoEffects, accounts_frame, simulate_population
from jalon.demo.model import COMPANY_SIZES, PLANS
from jalon.demo.population import solve_piecewise_hazard
from jalon.demo.truth import MixtureModel, lognormal_sum_cdf, milestone_truth

MILESTONES = ("basic_value", "exceed_value", "full_adoption")
QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9}
LARGE_POPULATION = 200_000


@pytest.fixture(scope="module")
def large_accounts() -> pd.DataFrame:
    """Latent data of many accounts, so sampling error is small against the model."""
    population, _ = simulate_population(99, LARGE_POPULATION, DemoEffects())
    return accounts_frame(population)


def _sorted_quantile(values: np.ndarray, q: float) -> float | None:
    """The smallest value v with at least a share q of values <= v, by sorting."""
    if values.size == 0:
        return None
    ordered = np.sort(values)
    value = ordered[math.ceil(q * ordered.size) - 1]
    return float(value) if math.isfinite(value) else None


def _groups(accounts: pd.DataFrame):
    yield "overall", None, accounts
    for segment, values in (("plan", PLANS), ("company_size", COMPANY_SIZES)):
        for value in values:
            yield (
                f"{segment}={value}",
                (segment, value),
                accounts[accounts[segment] == value],
            )


def _truth_group(truth: dict, milestone: str, key: tuple[str, str] | None) -> dict:
    entry = truth["milestones"][milestone]
    return entry["overall"] if key is None else entry["segments"][key[0]][key[1]]


@pytest.mark.parametrize("milestone", MILESTONES)
def test_quantiles_equal_latent_recount(demo, milestone: str) -> None:
    for label, key, accounts in _groups(demo.accounts):
        latent = accounts[f"{milestone}_latent_days"].to_numpy()
        group = _truth_group(demo.summary, milestone, key)
        reaching = latent[np.isfinite(latent)]
        for name, q in QUANTILES.items():
            written = group["quantiles_days"]["empirical"][name]
            assert written == _sorted_quantile(latent, q), (label, name)
            written = group["quantiles_days_among_reaching"]["empirical"][name]
            assert written == _sorted_quantile(reaching, q), (label, name)


@pytest.mark.parametrize("milestone", MILESTONES)
def test_never_share_and_horizons_recount(demo, milestone: str) -> None:
    for label, key, accounts in _groups(demo.accounts):
        latent = accounts[f"{milestone}_latent_days"].to_numpy()
        group = _truth_group(demo.summary, milestone, key)
        assert group["n_accounts"] == latent.size, label
        never = np.count_nonzero(np.isinf(latent)) / latent.size
        assert group["never_share"]["empirical"] == pytest.approx(never, abs=1e-12), (
            label
        )
        for horizon in ("1", "7", "30"):
            reached = np.count_nonzero(latent <= int(horizon)) / latent.size
            share = group["reached_by_day"]["empirical"][horizon]
            assert share == pytest.approx(reached, abs=1e-12), (label, horizon)


@pytest.mark.parametrize("milestone", MILESTONES)
def test_analytic_truth_matches_large_sample(large_accounts, milestone: str) -> None:
    truth = milestone_truth(large_accounts, milestone, DemoEffects())
    groups = [("overall", truth["overall"])]
    groups += [(f"plan={v}", g) for v, g in truth["segments"]["plan"].items()]
    for label, group in groups:
        never = group["never_share"]
        assert never["empirical"] == pytest.approx(never["analytic"], abs=0.01), label
        sample = group["quantiles_days_among_reaching"]["empirical"]
        model = group["quantiles_days_among_reaching"]["analytic"]
        for name in QUANTILES:
            assert sample[name] == pytest.approx(model[name], rel=0.04), (label, name)
        for horizon in ("1", "7", "30"):
            sample_share = group["reached_by_day"]["empirical"][horizon]
            model_share = group["reached_by_day"]["analytic"][horizon]
            assert sample_share == pytest.approx(model_share, abs=0.01), (
                label,
                horizon,
            )


@pytest.mark.parametrize("t", [0.5, 3.0, 12.0, 40.0, 300.0])
def test_lognormal_sum_cdf_matches_quad(t: float) -> None:
    # P(A + B <= t) = integral over a in (0, t) of f_A(a) * F_B(t - a).
    a_dist = stats.lognorm(s=1.1, scale=2.5)
    b_dist = stats.lognorm(s=0.9, scale=9.0)
    expected, _ = integrate.quad(
        lambda a: a_dist.pdf(a) * b_dist.cdf(t - a), 0, t, limit=200
    )
    assert lognormal_sum_cdf(t, (2.5, 1.1), (9.0, 0.9)) == pytest.approx(
        expected, abs=1e-9
    )


def test_analytic_quantile_inverts_cdf() -> None:
    mixture = MixtureModel("exceed_value", DemoEffects(), "plan", "team")
    median = mixture.quantile(0.5)
    assert median is not None
    assert mixture.cdf(median) == pytest.approx(0.5, abs=1e-9)
    among = mixture.quantile(0.9, among_reaching=True)
    assert mixture.cdf(among) / mixture.reach == pytest.approx(0.9, abs=1e-9)


def test_quantile_beyond_reach_is_none() -> None:
    mixture = MixtureModel("full_adoption", DemoEffects(), None, None)
    # Under half of all accounts ever reach full adoption in this model.
    assert mixture.reach < 0.5
    assert mixture.quantile(0.5) is None


@pytest.mark.parametrize("ratio", [1.0, 1.5, 2.0])
def test_segment_ratio_in_latent_medians(ratio: float) -> None:
    population, _ = simulate_population(5, 50_000, DemoEffects(segment_ttv_ratio=ratio))
    accounts = accounts_frame(population)
    latent = accounts["basic_value_latent_days"]
    reaching = np.isfinite(latent)
    enterprise = accounts["plan"] == "enterprise"
    measured = (
        latent[reaching & enterprise].median() / latent[reaching & ~enterprise].median()
    )
    assert measured == pytest.approx(ratio, rel=0.05)


def test_segment_ratio_in_analytic_truth() -> None:
    # Starter and team share one delay distribution and enterprise scales
    # it by 1.5, so the conditional medians are in that exact ratio.
    enterprise = MixtureModel("basic_value", DemoEffects(), "plan", "enterprise")
    starter = MixtureModel("basic_value", DemoEffects(), "plan", "starter")
    ratio = enterprise.quantile(0.5, True) / starter.quantile(0.5, True)
    assert ratio == pytest.approx(1.5, rel=1e-9)


def test_piecewise_hazard_by_hand() -> None:
    # Rate 0.1 until day 10 (H = 1), then 0.05 until day 30 (H = 2), then 0.2.
    # H = 0.5 at day 5. H = 1.5 at day 10 + 0.5 / 0.05 = 20. H = 2.4 at day
    # 30 + 0.4 / 0.2 = 32.
    rate0 = np.full(3, 0.1)
    switch_at = np.tile([10.0, 30.0], (3, 1))
    factor = np.tile([0.5, 4.0], (3, 1))
    times = solve_piecewise_hazard(rate0, switch_at, factor, np.array([0.5, 1.5, 2.4]))
    assert times.tolist() == pytest.approx([5.0, 20.0, 32.0])


def test_piecewise_hazard_inverts_cumulative() -> None:
    rng = np.random.default_rng(17)
    n = 1000
    rate0 = rng.uniform(0.01, 0.2, n)
    switch_at = np.sort(rng.uniform(0, 50, (n, 3)), axis=1)
    factor = rng.uniform(0.2, 3.0, (n, 3))
    target = rng.exponential(1.0, n)
    times = solve_piecewise_hazard(rate0, switch_at, factor, target)

    # Integrate the hazard numerically on a fine grid up to each solution.
    for row in range(0, n, 97):
        grid = np.linspace(0.0, times[row], 20_001)
        steps = (grid[:, None] >= switch_at[row][None, :]).astype(int)
        hazard = rate0[row] * np.prod(np.where(steps == 1, factor[row], 1.0), axis=1)
        cumulative = integrate.trapezoid(hazard, grid)
        assert cumulative == pytest.approx(target[row], rel=1e-3, abs=1e-3), row


def _churn_rate(start: np.ndarray, stop: np.ndarray, churn: np.ndarray) -> float:
    """Churns per account-day on [start, stop), given latent churn times."""
    exposure = np.clip(np.minimum(stop, churn) - start, 0.0, None)
    events = (churn >= start) & (churn < stop)
    return events.sum() / exposure.sum()


@pytest.mark.parametrize("hazard_ratio", [0.5, 1.0])
def test_churn_hazard_ratio_after_value(hazard_ratio: float) -> None:
    effects = DemoEffects(churn_hr_after_value=hazard_ratio)
    population, _ = simulate_population(23, LARGE_POPULATION, effects)
    accounts = accounts_frame(population)
    # One plan and channel, no aha, after the early period: only basic value
    # changes the hazard, so rates before and after it compare directly.
    stratum = (
        (accounts["plan"] == "team")
        & (accounts["channel"] == "organic")
        & ~accounts["aha_planted"]
    ).to_numpy()
    basic = accounts["basic_value_latent_days"].to_numpy()[stratum]
    churn = accounts["churn_latent_days"].to_numpy()[stratum]
    early_end = np.full(basic.size, 30.0)
    before = _churn_rate(early_end, np.maximum(basic, early_end), churn)
    after = _churn_rate(
        np.maximum(basic, early_end), np.full(basic.size, np.inf), churn
    )
    assert after / before == pytest.approx(hazard_ratio, rel=0.1)


def test_churn_hazard_ratio_of_aha() -> None:
    population, _ = simulate_population(
        29, LARGE_POPULATION, DemoEffects(aha_effect=0.35)
    )
    accounts = accounts_frame(population)
    stratum = (
        (accounts["plan"] == "team") & (accounts["channel"] == "organic")
    ).to_numpy()
    basic = accounts["basic_value_latent_days"].to_numpy()[stratum]
    churn = accounts["churn_latent_days"].to_numpy()[stratum]
    aha = accounts["aha_planted"].to_numpy()[stratum]
    # After day 30 and after basic value, only the aha factor differs.
    start = np.maximum(basic, 30.0)
    forever = np.full(basic.size, np.inf)
    rate_aha = _churn_rate(start[aha], forever[aha], churn[aha])
    rate_other = _churn_rate(start[~aha], forever[~aha], churn[~aha])
    assert rate_aha / rate_other == pytest.approx(0.35, rel=0.1)


def test_aha_observed_share_in_events(demo, demo_events, demo_accounts) -> None:
    invited = demo_events[demo_events["event"] == "teammate_invited"].merge(
        demo_accounts[["account_id", "signup_at"]], on="account_id"
    )
    within = invited[invited["ts"] - invited["signup_at"] <= pd.Timedelta(days=3)]
    counts = within.groupby("account_id").size()
    share = (counts >= 2).sum() / len(demo_accounts)
    assert demo.summary["aha"]["observed_share"] == pytest.approx(share, abs=1e-12)


def test_aha_behaviour_ranks_first(demo, demo_events, demo_accounts) -> None:
    # Behaviours "did X at least k times in the first 3 days", for every
    # event and k in 1..3, scored by phi against "not churned by day 90",
    # among accounts observed for 90 days.
    end = pd.Timestamp("2026-07-01", tz="UTC")
    horizon = pd.Timedelta(days=90)
    accounts = demo_accounts[demo_accounts["signup_at"] <= end - horizon].set_index(
        "account_id"
    )
    events = demo_events.merge(
        demo_accounts[["account_id", "signup_at"]], on="account_id"
    )
    churn_at = events[events["event"] == "subscription_cancelled"].set_index(
        "account_id"
    )["ts"]
    churned = churn_at.reindex(accounts.index) <= accounts["signup_at"] + horizon
    retained = ~churned.fillna(False).astype(bool)

    early = events[events["ts"] - events["signup_at"] <= pd.Timedelta(days=3)]
    counts = early.groupby(["event", "account_id"]).size()
    scores = {}
    for name in early["event"].unique():
        per_account = counts.loc[name].reindex(accounts.index, fill_value=0)
        for k in (1, 2, 3):
            did = per_account >= k
            if did.all() or not did.any():
                continue
            scores[(name, k)] = np.corrcoef(did.astype(float), retained.astype(float))[
                0, 1
            ]
    best = max(scores, key=scores.get)
    assert best == ("teammate_invited", 2)

    # truth.json ranks the same behaviours with its own code.
    ranking = demo.summary["aha"]["ranking"]
    assert (ranking[0]["event"], ranking[0]["min_count"]) == best
    for entry in ranking:
        key = (entry["event"], entry["min_count"])
        assert entry["phi"] == pytest.approx(scores[key], abs=1e-12), key


def test_value_effect_recovered_from_files(demo_events, demo_accounts) -> None:
    # A time-varying Cox model on the written files: each account is at risk
    # of churn from sign-up, with value = 1 from its first shared report.
    # The planted hazard ratio, 0.5, must lie in the 95% interval.
    from lifelines import CoxTimeVaryingFitter

    end = pd.Timestamp("2026-07-01", tz="UTC")
    accounts = demo_accounts.set_index("account_id")
    first = demo_events.groupby(["event", "account_id"])["ts"].min()
    churn_at = first.loc["subscription_cancelled"].reindex(accounts.index)
    value_at = first.loc["report_shared"].reindex(accounts.index)

    day = pd.Timedelta(days=1)
    stop = (churn_at.fillna(end) - accounts["signup_at"]) / day
    value = (value_at - accounts["signup_at"]) / day
    churned = churn_at.notna()
    rows = []
    for account in accounts.index:
        reached = pd.notna(value[account]) and 0 < value[account] < stop[account]
        if reached:
            rows.append((account, 0.0, value[account], 0, False))
            rows.append((account, value[account], stop[account], 1, churned[account]))
        elif stop[account] > 0:
            rows.append((account, 0.0, stop[account], 0, churned[account]))
    spells = pd.DataFrame(rows, columns=["id", "start", "stop", "value", "churned"])

    fitter = CoxTimeVaryingFitter().fit(
        spells, id_col="id", event_col="churned", start_col="start", stop_col="stop"
    )
    lower = fitter.summary.loc["value", "exp(coef) lower 95%"]
    upper = fitter.summary.loc["value", "exp(coef) upper 95%"]
    assert lower <= 0.5
    assert 0.5 <= upper
