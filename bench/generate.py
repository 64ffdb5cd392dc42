"""Generate a synthetic event log with known true time-to-value distributions.

DuckDB SQL writes the log straight to Parquet, so 100M events take minutes,
not hours. Random draws come from ``hash(account, draw number, seed)``, so a
log depends only on its size and seed, whatever the thread count.

The model, per account (times in days from the sign-up):

* sign-up uniform over :data:`SIGNUP_SPAN_DAYS`; plan free, pro or team
  with :data:`PLAN_SHARES`;
* ``project_created`` (milestone ``activated``) at an exponential time whose
  median depends on the plan (:data:`PROJECT_MEDIAN_DAYS`);
* ``report_viewed`` as a Poisson process of :data:`REPORT_RATE_PER_DAY`, so
  the 3rd report (milestone ``engaged``) follows Gamma(3, rate);
* ``invite_sent`` at an exponential time of median
  :data:`INVITE_MEDIAN_DAYS` (milestone ``invited``, counted within 14 days);
* ``subscription_cancelled`` (churn) at an exponential time of median
  :data:`CHURN_MEDIAN_DAYS`, independent of the rest, so Kaplan-Meier with
  churn as censoring estimates the latent medians above;
* ``page_viewed`` filler events, uniform over the observed life, to reach
  the requested number of events.

Events after churn or after the observation end are not written.

Usage::

    python bench/generate.py 1000000 /tmp/bench-1m
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path

import duckdb
from scipy import stats

logger = logging.getLogger(__name__)

EVENTS_PER_ACCOUNT = 100
SIGNUP_SPAN_DAYS = 180
OBSERVATION_DAYS = 200
FIRST_DAY = "2025-01-01"
PLAN_SHARES = {"free": 0.6, "pro": 0.3, "team": 0.1}
PROJECT_MEDIAN_DAYS = {"free": 6.0, "pro": 3.0, "team": 2.0}
REPORT_RATE_PER_DAY = 0.5
REPORTS_PER_ACCOUNT = 12
ENGAGED_REPORTS = 3
INVITE_MEDIAN_DAYS = 10.0
INVITE_WINDOW_DAYS = 14
CHURN_MEDIAN_DAYS = 60.0
SECONDS_PER_DAY = 86400
#: DuckDB starts a new Parquet file past this size, so a large log is many files.
FILE_SIZE = "64MB"

LN2 = math.log(2)


def uniform(account: str, draw: int, seed: int) -> str:
    """SQL for a uniform draw in (0, 1) from the account, draw number and seed."""
    return (
        f"((hash({account}, {draw}, {seed}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"
    )


def exponential(account: str, draw: int, seed: int, median: str) -> str:
    """SQL for an exponential draw with the given median, in days."""
    return f"(-ln({uniform(account, draw, seed)}) * ({median}) / {LN2!r})"


def accounts_sql(n_accounts: int, seed: int) -> str:
    """SQL of the accounts, one row each, with their latent times in days."""
    free, pro = PLAN_SHARES["free"], PLAN_SHARES["free"] + PLAN_SHARES["pro"]
    plan_draw = uniform("i", 1, seed)
    medians = PROJECT_MEDIAN_DAYS
    return f"""
        SELECT i,
               printf('acc%08d', i) AS account_id,
               TIMESTAMP '{FIRST_DAY}'
                 + to_seconds(({uniform("i", 2, seed)} * {SIGNUP_SPAN_DAYS * SECONDS_PER_DAY})::BIGINT)
                 AS signup_at,
               CASE WHEN {plan_draw} < {free} THEN 'free'
                    WHEN {plan_draw} < {pro} THEN 'pro' ELSE 'team' END AS plan,
               {exponential("i", 3, seed, "CASE WHEN plan = 'free' THEN " + str(medians["free"]) + " WHEN plan = 'pro' THEN " + str(medians["pro"]) + " ELSE " + str(medians["team"]) + " END")} AS t_project,
               {exponential("i", 4, seed, str(INVITE_MEDIAN_DAYS))} AS t_invite,
               {exponential("i", 5, seed, str(CHURN_MEDIAN_DAYS))} AS t_churn
        FROM range({n_accounts}) AS r(i)
    """


def generate(
    n_events: int, folder: Path, seed: int = 7, threads: int | None = None
) -> dict:
    """Write ``events/`` and ``accounts.parquet`` to ``folder``; return the truth.

    Returns
    -------
    dict
        Sizes and the true medians in days, also written to ``truth.json``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_accounts = max(n_events // EVENTS_PER_ACCOUNT, 1)
    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute(f"CREATE TEMP TABLE acc AS {accounts_sql(n_accounts, seed)}")
    end = f"TIMESTAMP '{FIRST_DAY}' + INTERVAL {OBSERVATION_DAYS} DAY"
    # Observed life in days: until churn or the observation end.
    con.execute(
        f"""CREATE TEMP TABLE life AS
            SELECT *, least(t_churn, epoch({end}) / {SECONDS_PER_DAY}
                          - epoch(signup_at) / {SECONDS_PER_DAY}) AS t_obs
            FROM acc"""
    )
    fixed = _fixed_events_sql(seed)
    per_account_fixed = 4 + REPORTS_PER_ACCOUNT
    filler = max(EVENTS_PER_ACCOUNT - per_account_fixed, 0)
    events = f"""
        WITH fixed AS ({fixed}),
        filler AS (
            SELECT account_id, i, 'page_viewed' AS event, k,
                   t_obs * {uniform("i * 1000 + k", 200, seed)} AS t
            FROM life, range({filler}) AS f(k)
        ),
        all_events AS (
            SELECT account_id, i, event, t, k FROM fixed
            UNION ALL SELECT account_id, i, event, t, k FROM filler
        )
        SELECT account_id,
               account_id || '-u' || (k % 3)::VARCHAR AS user_id,
               event,
               signup_at + to_microseconds((t * {SECONDS_PER_DAY} * 1e6)::BIGINT)
                 AS timestamp
        FROM all_events JOIN life USING (account_id, i)
        WHERE t >= 0 AND t <= t_obs
    """
    events_dir = folder / "events"
    con.execute(
        f"""COPY (SELECT account_id, user_id, event, timestamp FROM ({events}))
            TO '{events_dir}' (FORMAT parquet, OVERWRITE_OR_IGNORE true,
            FILE_SIZE_BYTES '{FILE_SIZE}', ROW_GROUP_SIZE 122880)"""
    )
    con.execute(
        f"COPY (SELECT account_id, signup_at, plan FROM acc ORDER BY i) "
        f"TO '{folder / 'accounts.parquet'}' (FORMAT parquet)"
    )
    written = con.execute(
        f"SELECT count(*) FROM read_parquet('{events_dir}/*.parquet')"
    ).fetchone()[0]
    truth = {
        "n_events": int(written),
        "n_accounts": n_accounts,
        "seed": seed,
        "generate_seconds": round(time.perf_counter() - started, 2),
        "medians_days": true_medians(),
    }
    (folder / "truth.json").write_text(
        json.dumps(truth, indent=2) + "\n", encoding="utf-8"
    )
    con.close()
    return truth


def _fixed_events_sql(seed: int) -> str:
    """Sign-up, project, invite, churn and the report arrivals of every account."""
    gaps = f"-ln({uniform('i * 100 + k', 300, seed)}) / {REPORT_RATE_PER_DAY}"
    return f"""
        SELECT account_id, i, 'signed_up' AS event, 0.0 AS t, 0 AS k FROM life
        UNION ALL SELECT account_id, i, 'project_created', t_project, 1 FROM life
        UNION ALL SELECT account_id, i, 'invite_sent', t_invite, 2 FROM life
        UNION ALL SELECT account_id, i, 'subscription_cancelled', t_churn, 0 FROM life
        UNION ALL
        SELECT account_id, i, 'report_viewed',
               sum({gaps}) OVER (PARTITION BY i ORDER BY k ROWS UNBOUNDED PRECEDING), k
        FROM life, range({REPORTS_PER_ACCOUNT}) AS r(k)
    """


def true_medians() -> dict[str, float]:
    """Latent medians in days: overall (a mixture over plans) and per plan."""
    project = {plan: median for plan, median in PROJECT_MEDIAN_DAYS.items()}
    project["all"] = _mixture_median(PLAN_SHARES, PROJECT_MEDIAN_DAYS)
    engaged = float(
        stats.gamma.ppf(0.5, ENGAGED_REPORTS, scale=1 / REPORT_RATE_PER_DAY)
    )
    return {
        "activated": project,
        "engaged": {"all": engaged},
        "invited": {"all": INVITE_MEDIAN_DAYS},
    }


def _mixture_median(shares: dict[str, float], medians: dict[str, float]) -> float:
    """Solve sum of share * (1 - 2^(-t / median)) = 1/2 by bisection."""
    low, high = 0.0, max(medians.values()) * 4
    for _ in range(200):
        middle = (low + high) / 2
        reached = sum(s * (1 - 2 ** (-middle / medians[p])) for p, s in shares.items())
        low, high = (middle, high) if reached < 0.5 else (low, middle)
    return (low + high) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, help="approximate number of events")
    parser.add_argument("folder", type=Path, help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    truth = generate(arguments.events, arguments.folder, arguments.seed)
    print(json.dumps(truth, indent=2))


if __name__ == "__main__":
    main()
