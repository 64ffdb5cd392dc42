"""End-to-end check of examples/stackexchange against a pandas computation.

The expected figures come straight from the raw files in the shared
``stackexchange_qc`` folder: pandas for the per-account times, lifelines for
Kaplan-Meier and statsmodels for the Aalen-Johansen cumulative incidence.
"""

from __future__ import annotations

import pandas as pd
import pytest

from examples_support import (
    EXAMPLES,
    STATUS_CHURNED,
    STATUS_REACHED,
    copy_config,
    cumulative_incidence_at,
    first_time,
    horizon_share,
    kaplan_meier_median,
    kaplan_meier_share,
    outcome_frame,
    require_data,
    run_report,
)

pytestmark = pytest.mark.slow

#: ``[observation] end`` of the example config.
END = pd.Timestamp("2018-09-02 03:00:00")
INACTIVITY = pd.Timedelta(days=30)
POSTS = ["question_posted", "answer_posted"]
#: ``[cohorts] activity`` of the example config.
ACTIVITY = ["question_posted", "answer_posted", "comment_posted", "tag_wiki_edited"]
FUNNEL_WINDOW = pd.Timedelta(days=90)
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def raw():
    """Accounts indexed by id and events with ``account_id``, read with pandas."""
    folder = require_data("stackexchange_qc")
    accounts = pd.read_csv(folder / "accounts.csv", parse_dates=["signup_at", "last_seen_at"])
    accounts = accounts.set_index(accounts["user_id"].astype(str))
    events = pd.read_csv(folder / "events.csv.gz", parse_dates=["timestamp"])
    events["account_id"] = events["user_id"].astype(str)
    return accounts, events


@pytest.fixture(scope="module")
def run(raw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stackexchange")
    return run_report(copy_config("stackexchange", folder), "fr")


@pytest.fixture(scope="module")
def churn_at(raw) -> pd.Series:
    """Churned at the last visit when nothing followed for 30 days by the end."""
    accounts, _ = raw
    last = accounts[["last_seen_at", "signup_at"]].max(axis=1)
    return last.where(END - last >= INACTIVITY)


def milestone_outcomes(raw, churn_at, event_names) -> pd.DataFrame:
    accounts, events = raw
    matching = events[events["event"].isin(event_names)]
    reached_at = first_time(matching, accounts["signup_at"], END)
    return outcome_frame(accounts["signup_at"], reached_at, churn_at, END)


def test_report_command_succeeds(run):
    assert run.process.returncode == 0, run.process.stderr[-2000:]
    assert run.report_path.stat().st_size > 0


def test_committed_config_finds_data():
    from jalon.config import load_config

    require_data("stackexchange_qc")
    config = load_config(EXAMPLES / "stackexchange" / "jalon.toml")
    folder = config.base_dir / "../../../shared/data/stackexchange_qc"
    assert (folder / "events.csv.gz").is_file()
    assert (folder / "accounts.csv").is_file()


def test_population(run, raw):
    accounts, events = raw
    before_start = events["timestamp"] < events["account_id"].map(accounts["signup_at"])
    population = run.analysis.population

    # Every sign-up is before the end (the latest is 2018-09-02 01:30:46).
    assert population.n_accounts == len(accounts)
    assert population.excluded_accounts == {}
    assert population.excluded_events == {"before_start": int(before_start.sum())}


@pytest.mark.parametrize(
    ("milestone", "event_names"),
    [("first_post", POSTS), ("first_upvote", ["upvote_received"])],
)
def test_milestone_counts(run, raw, churn_at, milestone, event_names):
    outcomes = milestone_outcomes(raw, churn_at, event_names)
    overall = run.analysis.milestone(milestone).overall

    assert overall.n_reached == int((outcomes.status == STATUS_REACHED).sum())
    assert overall.n_churned_first == int((outcomes.status == STATUS_CHURNED).sum())
    assert overall.n_accounts == len(outcomes)


@pytest.mark.parametrize("day", [7.0, 30.0])
@pytest.mark.parametrize(
    ("milestone", "event_names"),
    [("first_post", POSTS), ("first_upvote", ["upvote_received"])],
)
def test_shares_by_day(run, raw, churn_at, milestone, event_names, day):
    outcomes = milestone_outcomes(raw, churn_at, event_names)
    overall = run.analysis.milestone(milestone).overall

    expected_km = kaplan_meier_share(outcomes.days, outcomes.status, day)
    expected_aj = cumulative_incidence_at(outcomes.days, outcomes.status, day)
    assert horizon_share(overall.km_horizons, day) == pytest.approx(expected_km, abs=TOLERANCE)
    assert horizon_share(overall.horizons, day) == pytest.approx(expected_aj, abs=TOLERANCE)


def test_first_post_median_not_reached(run, raw, churn_at):
    outcomes = milestone_outcomes(raw, churn_at, POSTS)
    median = run.analysis.milestone("first_post").overall.percentiles[0]

    # Fewer than half the accounts ever post, so Kaplan-Meier never reaches 0.5.
    assert kaplan_meier_median(outcomes.days, outcomes.status) == float("inf")
    assert median.days is None


def test_full_adoption_rarely_reached(run, raw, churn_at):
    overall = run.analysis.milestone("regular_poster").overall
    first_post = run.analysis.milestone("first_post").overall

    assert 0 < overall.n_reached < first_post.n_reached


def test_weekly_activity_matrix(run, raw):
    accounts, events = raw
    cohorts = run.analysis.cohorts
    start = accounts["signup_at"]

    activity = events[events["event"].isin(ACTIVITY)].copy()
    activity["start"] = activity["account_id"].map(start)
    activity = activity[(activity["timestamp"] >= activity["start"]) & (activity["timestamp"] <= END)]
    # Calendar weeks from Monday: period k is the k-th week after the sign-up week.
    week_of_start = activity["start"].dt.to_period("W-SUN").dt.start_time
    week_of_event = activity["timestamp"].dt.to_period("W-SUN").dt.start_time
    activity["cohort"] = week_of_start
    activity["period"] = (week_of_event - week_of_start).dt.days // 7
    counts = (
        activity.drop_duplicates(["account_id", "period"])
        .groupby(["cohort", "period"])
        .size()
    )
    sizes = start.dt.to_period("W-SUN").dt.start_time.value_counts()

    cohort = pd.Timestamp("2018-03-12")
    assert cohorts.cohort_sizes[cohort] == sizes[cohort]
    # One retention cell by hand: week 1 of the 2018-03-12 cohort.
    assert cohorts.retention.loc[cohort, 1] == pytest.approx(
        counts[(cohort, 1)] / sizes[cohort]
    )
    for (cohort_start, period), expected in counts.items():
        if period < cohorts.periods:
            assert cohorts.active.loc[cohort_start, period] == expected, (cohort_start, period)


def test_funnel_tour_step(run, raw):
    accounts, events = raw
    funnel = run.analysis.funnels[0]
    steps = funnel.steps.set_index("step")
    start = accounts["signup_at"]

    tour = events[(events["event"] == "badge_earned") & (events["badge"] == "Informed")]
    tour_start = tour["account_id"].map(start)
    in_window = (tour["timestamp"] >= tour_start) & (tour["timestamp"] <= tour_start + FUNNEL_WINDOW)
    first_tour = tour[in_window].groupby("account_id")["timestamp"].min()

    posts = events[events["event"].isin(POSTS)].copy()
    posts["first_tour"] = posts["account_id"].map(first_tour)
    posts["window_end"] = posts["account_id"].map(start) + FUNNEL_WINDOW
    after_tour = (posts["timestamp"] > posts["first_tour"]) & (posts["timestamp"] <= posts["window_end"])

    assert funnel.n_persons == len(first_tour)
    assert steps.loc[1, "n_reached"] == len(first_tour)
    assert steps.loc[2, "n_reached"] == posts[after_tour]["account_id"].nunique()
