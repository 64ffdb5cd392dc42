"""End-to-end check of examples/oulad against a pandas computation.

The test runs ``prepare.py`` into a temporary folder, then ``jalon report``.
The expected figures are computed from the raw OULAD tables, not from the
prepared files: day offsets are turned into dates here with their own code
(day 0 is the 1st of February for presentations ending in B and the 1st of
October for those ending in J).
"""

from __future__ import annotations

import subprocess
import sys

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
END = pd.Timestamp("2015-09-15")
KEYS = ["code_module", "code_presentation", "id_student"]
TOLERANCE = 1e-6
PREPARE_TIMEOUT_SECONDS = 300


def day_zero(code: str) -> pd.Timestamp:
    month = {"B": 2, "J": 10}[code[-1]]
    return pd.Timestamp(year=int(code[:4]), month=month, day=1)


def to_date(frame: pd.DataFrame, column: str) -> pd.Series:
    zero = frame["code_presentation"].map(day_zero)
    return zero + pd.to_timedelta(frame[column], unit="D")


def enrolment_key(frame: pd.DataFrame) -> pd.Series:
    return frame[KEYS].astype(str).agg("_".join, axis=1)


@pytest.fixture(scope="module")
def raw():
    """Enrolments indexed by account id, and submissions with their dates."""
    folder = require_data("oulad")
    registrations = pd.read_csv(folder / "studentRegistration.csv")
    registrations["start"] = to_date(registrations, "date_registration")
    registrations["withdrawn"] = to_date(registrations, "date_unregistration")
    registrations = registrations.set_index(enrolment_key(registrations))

    submissions = pd.read_csv(folder / "studentAssessment_noscore.csv")
    assessments = pd.read_csv(folder / "assessments.csv")
    submissions = submissions.merge(assessments, on="id_assessment")
    submissions["timestamp"] = to_date(submissions, "date_submitted")
    submissions["account_id"] = enrolment_key(submissions)
    return registrations, submissions


@pytest.fixture(scope="module")
def run(raw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("oulad")
    prepare = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "oulad" / "prepare.py"),
            "--out",
            str(folder / "prepared"),
        ],
        capture_output=True,
        text=True,
        timeout=PREPARE_TIMEOUT_SECONDS,
    )
    assert prepare.returncode == 0, prepare.stderr[-2000:]
    return run_report(copy_config("oulad", folder), "en")


@pytest.fixture(scope="module")
def included(raw) -> pd.DataFrame:
    """Enrolments with a registration date, the accounts jalon analyses."""
    registrations, _ = raw
    return registrations[registrations["start"].notna()]


@pytest.fixture(scope="module")
def churn_at(included) -> pd.Series:
    """Withdrawal time, moved up to the start when earlier, null after the end."""
    withdrawn = included["withdrawn"]
    at = withdrawn.where(withdrawn >= included["start"], included["start"])
    return at.where(withdrawn.notna() & (at <= END))


def outcomes_for(start: pd.Series, churn_at: pd.Series, submitted: pd.DataFrame) -> pd.DataFrame:
    reached_at = first_time(submitted, start, END)
    return outcome_frame(start, reached_at, churn_at, END)


@pytest.fixture(scope="module")
def first_submission(raw, included, churn_at) -> pd.DataFrame:
    _, submissions = raw
    own = submissions[submissions["is_banked"] == 0]
    return outcomes_for(included["start"], churn_at, own)


def test_report_command_succeeds(run):
    assert run.process.returncode == 0, run.process.stderr[-2000:]
    assert run.report_path.stat().st_size > 0


def test_prepare_default_data_folder():
    import importlib.util

    require_data("oulad")
    spec = importlib.util.spec_from_file_location("prepare_oulad", EXAMPLES / "oulad" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert (module.DEFAULT_DATA / "studentRegistration.csv").is_file()
    assert module.DEFAULT_OUT == EXAMPLES / "oulad" / "prepared"


def test_population(run, raw, included):
    registrations, submissions = raw
    population = run.analysis.population
    missing_start = int(registrations["start"].isna().sum())
    starts = submissions["account_id"].map(registrations["start"])
    before_start = int((submissions["timestamp"] < starts).sum())
    without_start = int(starts.isna().sum())

    # 32,593 enrolments, 45 without a registration date.
    assert population.n_accounts == len(included)
    assert population.excluded_accounts == {"no_start": missing_start}
    assert population.excluded_events == {
        "before_start": before_start,
        "no_start": without_start,
    }


def test_first_submission_counts(run, first_submission):
    overall = run.analysis.milestone("first_submission").overall
    status = first_submission["status"]

    assert overall.n_reached == int((status == STATUS_REACHED).sum())
    assert overall.n_churned_first == int((status == STATUS_CHURNED).sum())


@pytest.mark.parametrize("day", [7.0, 30.0, 90.0])
def test_first_submission_shares(run, first_submission, day):
    overall = run.analysis.milestone("first_submission").overall
    days, status = first_submission["days"], first_submission["status"]

    expected_km = kaplan_meier_share(days, status, day)
    expected_aj = cumulative_incidence_at(days, status, day)
    assert horizon_share(overall.km_horizons, day) == pytest.approx(expected_km, abs=TOLERANCE)
    assert horizon_share(overall.horizons, day) == pytest.approx(expected_aj, abs=TOLERANCE)


def test_first_submission_median(run, first_submission):
    median = run.analysis.milestone("first_submission").overall.percentiles[0]
    expected = kaplan_meier_median(first_submission["days"], first_submission["status"])

    assert median.q == 0.5
    assert median.days == pytest.approx(expected)


def test_first_submission_from_day_0(run, raw, included, churn_at):
    _, submissions = raw
    own = submissions[submissions["is_banked"] == 0]
    # The milestone's own start is day 0 of the presentation; churn stays
    # the withdrawal, moved up to the registration when earlier.
    day_0 = included["code_presentation"].map(day_zero)
    outcomes = outcomes_for(day_0, churn_at, own)
    overall = run.analysis.milestone("first_submission_from_day_0").overall

    assert overall.n_reached == int((outcomes["status"] == STATUS_REACHED).sum())
    assert overall.n_churned_first == int((outcomes["status"] == STATUS_CHURNED).sum())
    assert horizon_share(overall.km_horizons, 30.0) == pytest.approx(
        kaplan_meier_share(outcomes["days"], outcomes["status"], 30.0), abs=TOLERANCE
    )


def test_monthly_activity_matrix(run, raw, included):
    _, submissions = raw
    cohorts = run.analysis.cohorts
    start = included["start"]

    activity = submissions[submissions["account_id"].isin(start.index)].copy()
    activity["start"] = activity["account_id"].map(start)
    activity = activity[(activity["timestamp"] >= activity["start"]) & (activity["timestamp"] <= END)]
    # Calendar months: period k is the k-th month after the registration month.
    activity["cohort"] = activity["start"].dt.to_period("M").dt.start_time
    activity["period"] = (
        (activity["timestamp"].dt.year - activity["start"].dt.year) * 12
        + activity["timestamp"].dt.month
        - activity["start"].dt.month
    )
    counts = (
        activity.drop_duplicates(["account_id", "period"]).groupby(["cohort", "period"]).size()
    )
    sizes = start.dt.to_period("M").dt.start_time.value_counts()

    # One cell by hand: enrolments registered in September 2013, active in
    # their third calendar month (November 2013).
    cohort = pd.Timestamp("2013-09-01")
    assert cohorts.cohort_sizes[cohort] == sizes[cohort]
    assert cohorts.retention.loc[cohort, 2] == pytest.approx(counts[(cohort, 2)] / sizes[cohort])
    for (cohort_start, period), expected in counts.items():
        if period < cohorts.periods:
            assert cohorts.active.loc[cohort_start, period] == expected, (cohort_start, period)
