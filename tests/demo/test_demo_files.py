"""Demo files: determinism, shape, and consistency of events with the latent truth."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_helpers import DEMO_ACCOUNTS, demo_files

from jalon.demo import DemoEffects, generate_demo
from jalon.demo.model import (
    COMPANY_SIZES,
    COUNTRIES,
    OBSERVATION_END,
    PLANS,
    SEAT_RANGES,
)

EVENT_COLUMNS = [
    "account_id",
    "user_id",
    "event",
    "timestamp",
    "plan",
    "channel",
    "feature",
    "amount",
    "reason",
]
ACCOUNT_COLUMNS = [
    "account_id",
    "signup_at",
    "plan",
    "company_size",
    "channel",
    "country",
]
ACTIVITY_EVENTS = ("logged_in", "report_viewed", "feature_used")


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "a", seed=11, n_accounts=200)
    second = generate_demo(tmp_path / "b", seed=11, n_accounts=200)
    first_files = demo_files(first.out_dir)
    second_files = demo_files(second.out_dir)
    assert sorted(first_files) == sorted(second_files)
    for name, content in first_files.items():
        assert content == second_files[name], name


def test_identical_bytes_across_processes(tmp_path: Path) -> None:
    # Another interpreter with another string hash seed must write the same
    # bytes, so no output may depend on set or hash order.
    script = (
        "import sys; from pathlib import Path; from jalon.demo import generate_demo; "
        "generate_demo(Path(sys.argv[1]), seed=11, n_accounts=200)"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "child")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    here = generate_demo(tmp_path / "parent", seed=11, n_accounts=200)
    child_files = demo_files(tmp_path / "child")
    parent_files = demo_files(here.out_dir)
    assert sorted(child_files) == sorted(parent_files)
    for name, content in parent_files.items():
        assert child_files[name] == content, name


def test_other_seed_gives_other_events(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "a", seed=11, n_accounts=200)
    other = generate_demo(tmp_path / "b", seed=12, n_accounts=200)
    events = "events.csv.gz"
    assert (first.out_dir / events).read_bytes() != (
        other.out_dir / events
    ).read_bytes()


def test_written_files(demo) -> None:
    expected = {"accounts.csv", "events.csv.gz", "jalon.toml", "truth.json"}
    assert expected <= set(demo.files)
    assert not any(name.startswith(".jalon/") for name in demo.files)
    for name in demo.files:
        assert (demo.out_dir / name).is_file(), name


def test_accounts_columns_and_count(demo_accounts) -> None:
    assert list(demo_accounts.columns) == ACCOUNT_COLUMNS
    assert len(demo_accounts) == DEMO_ACCOUNTS
    assert demo_accounts["account_id"].is_unique


def test_accounts_values(demo_accounts) -> None:
    assert set(demo_accounts["plan"]) == set(PLANS)
    assert set(demo_accounts["company_size"]) == set(COMPANY_SIZES)
    assert set(demo_accounts["country"]) <= set(COUNTRIES)
    # France is drawn with probability 0.78: far more than half of 3000 accounts.
    assert (demo_accounts["country"] == "FR").mean() > 0.7
    assert demo_accounts["signup_at"].max() < pd.Timestamp(OBSERVATION_END)


def test_signups_span_eighteen_months(demo_accounts) -> None:
    months = demo_accounts["signup_at"].dt.strftime("%Y-%m")
    per_month = months.value_counts().sort_index()
    assert (
        list(per_month.index)
        == [f"{year}-{month:02d}" for year in (2025, 2026) for month in range(1, 13)][
            :18
        ]
    )
    # Intensity grows from 1 to 2 over the window: the last quarter has more
    # sign-ups than the first.
    assert per_month.iloc[-3:].sum() > per_month.iloc[:3].sum()


def test_seats_by_company_size(demo) -> None:
    accounts = demo.accounts
    for size, (low, high) in zip(COMPANY_SIZES, SEAT_RANGES):
        seats = accounts.loc[accounts["company_size"] == size, "seats"]
        assert seats.min() >= low, size
        assert seats.max() <= high, size


def test_events_columns_and_count(demo, demo_events) -> None:
    assert list(demo_events.columns[:-1]) == EVENT_COLUMNS
    assert len(demo_events) == demo.n_events
    assert demo.summary["n_events"] == demo.n_events
    # A few hundred thousand events for 3000 accounts.
    assert 200_000 < demo.n_events < 1_000_000


def test_events_by_name_match_truth(demo, demo_events) -> None:
    counts = demo_events["event"].value_counts().to_dict()
    assert counts == demo.summary["events_by_name"]


def test_timestamps_are_iso_utc(demo_events) -> None:
    assert (
        demo_events["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    )
    assert demo_events["ts"].is_monotonic_increasing


def test_one_signup_event_per_account(demo_events, demo_accounts) -> None:
    signed_up = demo_events[demo_events["event"] == "signed_up"]
    assert signed_up["account_id"].is_unique
    assert set(signed_up["account_id"]) == set(demo_accounts["account_id"])
    merged = signed_up.merge(demo_accounts, on="account_id", suffixes=("", "_account"))
    assert (merged["ts"] == merged["signup_at"]).all()
    assert (merged["plan"] == merged["plan_account"]).all()


def test_properties_on_their_events(demo_events) -> None:
    features = demo_events.loc[demo_events["event"] == "feature_used", "feature"]
    assert features.notna().all()
    assert features.nunique() == 8
    assert (
        demo_events.loc[demo_events["event"] != "feature_used", "feature"].isna().all()
    )
    cancelled = demo_events[demo_events["event"] == "subscription_cancelled"]
    assert cancelled["amount"].notna().all()
    assert cancelled["reason"].notna().all()


def test_no_event_before_signup(demo_events, demo_accounts) -> None:
    merged = demo_events.merge(
        demo_accounts[["account_id", "signup_at"]], on="account_id"
    )
    assert len(merged) == len(demo_events)
    assert (merged["ts"] >= merged["signup_at"]).all()


def test_no_event_at_or_after_observation_end(demo_events) -> None:
    assert demo_events["ts"].max() < pd.Timestamp(OBSERVATION_END)


def test_no_activity_after_churn(demo, demo_events) -> None:
    churned = demo.accounts.dropna(subset=["churn_at"]).set_index("account_id")[
        "churn_at"
    ]
    cancelled = demo_events[demo_events["event"] == "subscription_cancelled"]
    assert cancelled["account_id"].is_unique
    assert set(cancelled["account_id"]) == set(churned.index)

    last_other = (
        demo_events[demo_events["event"] != "subscription_cancelled"]
        .groupby("account_id")["ts"]
        .max()
    )
    churn_at = cancelled.set_index("account_id")["ts"]
    assert (last_other.reindex(churn_at.index) <= churn_at).all()
    assert (churn_at == churned.reindex(churn_at.index)).all()


def test_churned_accounts_shown_in_truth(demo) -> None:
    churned = int(demo.accounts["churn_at"].notna().sum())
    assert demo.summary["churn"]["churned_accounts"] == churned
    assert 0 < churned < DEMO_ACCOUNTS


def test_first_report_is_basic_value(demo, demo_events) -> None:
    first = _first_time(demo_events, "report_shared")
    expected = demo.accounts.set_index("account_id")["basic_value_at"].dropna()
    assert set(first.index) == set(expected.index)
    assert (first.reindex(expected.index) == expected).all()


def test_first_automation_is_exceed_value(demo, demo_events) -> None:
    first = _first_time(demo_events, "automation_created")
    expected = demo.accounts.set_index("account_id")["exceed_value_at"].dropna()
    assert set(first.index) == set(expected.index)
    assert (first.reindex(expected.index) == expected).all()


def test_third_sharer_is_full_adoption(demo, demo_events) -> None:
    shares = demo_events[demo_events["event"] == "report_shared"]
    first_per_user = shares.groupby(["account_id", "user_id"])["ts"].min().reset_index()
    third = (
        first_per_user.sort_values(["account_id", "ts"])
        .groupby("account_id")["ts"]
        .nth(2)
    )
    third.index = first_per_user.loc[third.index, "account_id"]
    expected = demo.accounts.set_index("account_id")["full_adoption_at"].dropna()
    assert set(third.index) == set(expected.index)
    assert (third.reindex(expected.index) == expected).all()


def test_project_precedes_first_report(demo_events) -> None:
    first_report = _first_time(demo_events, "report_shared")
    first_project = _first_time(demo_events, "project_created")
    assert (first_project.reindex(first_report.index) <= first_report).all()


def test_latent_times_observed_only_before_stop(demo) -> None:
    accounts = demo.accounts
    end = pd.Timestamp(OBSERVATION_END)
    latent = accounts["signup_at"] + pd.to_timedelta(
        accounts["basic_value_latent_days"].replace(np.inf, np.nan), unit="D"
    )
    stop = accounts["churn_at"].fillna(end)
    seen = accounts["basic_value_at"].notna()
    assert (latent[seen] < stop[seen]).all()
    assert not (latent[~seen] < stop[~seen]).any()


def test_config_parses_with_tomllib(demo) -> None:
    with (demo.out_dir / "jalon.toml").open("rb") as handle:
        config = tomllib.load(handle)
    assert config["start"] == {"column": "signup_at"}
    assert config["churn"] == {"event": "subscription_cancelled"}
    assert config["observation"]["horizons"] == [1, 7, 30]
    assert config["accounts"]["columns"]["segments"] == ["plan", "company_size"]
    milestones = {m["id"]: m for m in config["milestones"]}
    assert list(milestones) == ["basic_value", "exceed_value", "full_adoption"]
    assert milestones["basic_value"]["event"] == "report_shared"
    assert milestones["exceed_value"]["event"] == "automation_created"
    assert milestones["full_adoption"]["users"] == 3
    funnel = config["funnels"][0]
    steps = [step["event"] for step in funnel["steps"]]
    assert steps == ["signed_up", "tour_completed", "project_created", "report_shared"]
    assert config["cohorts"]["period"] == "month"


def test_config_passes_jalon_validation(demo) -> None:
    from jalon.config import load_config

    config = load_config(demo.out_dir / "jalon.toml")
    assert [m.id for m in config.milestones] == [
        "basic_value",
        "exceed_value",
        "full_adoption",
    ]
    assert tuple(config.horizons) == (1, 7, 30)
    assert [funnel.id for funnel in config.funnels] == ["onboarding"]


def test_truth_json_matches_returned_truth(demo) -> None:
    written = json.loads((demo.out_dir / "truth.json").read_text(encoding="utf-8"))
    assert written == demo.summary
    assert written["synthetic"] is True
    assert written["seed"] == 2026


def test_billing_generated_when_module_exists(demo) -> None:
    exists = importlib.util.find_spec("jalon.demo.billing") is not None
    assert demo.billing_generated is exists
    assert demo.summary["billing_generated"] is exists


def test_effects_recorded(tmp_path: Path) -> None:
    effects = DemoEffects(
        churn_hr_after_value=1.0, segment_ttv_ratio=2.0, aha_event=None
    )
    truth = generate_demo(tmp_path, seed=3, n_accounts=100, effects=effects)
    assert truth.summary["effects"] == {
        "churn_hr_after_value": 1.0,
        "segment_ttv_ratio": 2.0,
        "aha_event": None,
        "aha_effect": 0.35,
    }
    assert truth.summary["aha"]["churn_hazard_ratio"] == 1.0


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"churn_hr_after_value": 0.0}, ValueError),
        ({"segment_ttv_ratio": -1.5}, ValueError),
        ({"aha_effect": float("nan")}, ValueError),
        ({"aha_event": "data_connected"}, NotImplementedError),
    ],
)
def test_invalid_effects_rejected(arguments: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        DemoEffects(**arguments)


def test_zero_accounts_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_accounts"):
        generate_demo(tmp_path, n_accounts=0)


def _first_time(events: pd.DataFrame, name: str) -> pd.Series:
    return events[events["event"] == name].groupby("account_id")["ts"].min()


def test_french_names_in_config(tmp_path: Path) -> None:
    truth = generate_demo(tmp_path, seed=3, n_accounts=60, language="fr")
    with (truth.out_dir / "jalon.toml").open("rb") as handle:
        config = tomllib.load(handle)
    assert config["project"]["name"] == "démo jalon (données synthétiques)"
    names = [m["name"] for m in config["milestones"]]
    assert names == [
        "Premier rapport partagé",
        "Première automatisation créée",
        "Trois utilisateurs partagent des rapports",
    ]


def test_english_names_by_default(demo) -> None:
    with (demo.out_dir / "jalon.toml").open("rb") as handle:
        config = tomllib.load(handle)
    assert config["project"]["name"] == "jalon demo (synthetic data)"
    assert config["milestones"][0]["name"] == "First report shared"
