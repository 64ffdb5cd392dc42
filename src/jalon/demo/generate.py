"""Write the demo company to a folder: events, accounts, config and known truth.

The output depends only on the seed, the number of accounts and the planted
effects, never on the current date. The same arguments give byte-identical
files, because the gzip header carries no time stamp or file name and JSON
keys keep a fixed order.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jalon.demo import model
from jalon.demo.events import build_events
from jalon.demo.model import DemoEffects
from jalon.demo.observed import behaviour_scores, funnel_reached, monthly_cohorts
from jalon.demo.population import Population, accounts_frame, simulate_population
from jalon.demo.truth import HORIZONS_DAYS, milestone_truth
from jalon.errors import N_

logger = logging.getLogger(__name__)

EVENTS_FILE = "events.csv.gz"
ACCOUNTS_FILE = "accounts.csv"
CONFIG_FILE = "jalon.toml"
TRUTH_FILE = "truth.json"
# Folder of the DuckDB store that jalon.toml points to, relative to out_dir.
STORE_FOLDER = ".jalon"
BILLING_MODULE = "jalon.demo.billing"
GZIP_LEVEL = 6
DEFAULT_EFFECTS = DemoEffects()
PROJECT_NAME = N_("jalon demo (synthetic data)")
TRUTH_FORMAT_VERSION = 1

# A notice for the CLI and the report to show beside demo figures.
SYNTHETIC_NOTICE = N_(
    "These figures come from synthetic data: a company invented by jalon demo "
    "(seed {seed}). They describe no real customer."
)

MILESTONES = (
    ("basic_value", "basic", N_("First report shared"), 'event = "report_shared"'),
    (
        "exceed_value",
        "exceed",
        N_("First automation created"),
        'event = "automation_created"',
    ),
    (
        "full_adoption",
        "full_adoption",
        N_("Three users share reports"),
        f'event = "report_shared"\nusers = {model.FULL_ADOPTION_USERS}',
    ),
)
# The onboarding funnel of the demo: every account that shares a report has
# created a project before, and most took the tour.
FUNNEL_NAME = N_("Onboarding")
FUNNEL_STEPS = ("signed_up", "tour_completed", "project_created", "report_shared")
FUNNEL_WINDOW_DAYS = 30
COHORT_ACTIVITY = ("logged_in", "report_viewed", "feature_used", "report_shared")
COHORT_PERIODS = 12
BILLING_COLUMNS = (
    "account_id",
    "signup_at",
    "plan",
    "company_size",
    "channel",
    "country",
    "seats",
    "churn_at",
    "basic_value_at",
)


@dataclass(frozen=True, eq=False)
class DemoTruth:
    """The known truth of a generated demo, as written to ``truth.json``.

    Attributes
    ----------
    out_dir
        Folder the files were written to.
    seed, n_accounts, effects
        The arguments of :func:`generate_demo`.
    accounts
        Latent per-account data, see :func:`jalon.demo.population.accounts_frame`.
    summary
        The content of ``truth.json``.
    n_events
        Rows of ``events.csv.gz``.
    billing_generated
        Whether ``jalon.demo.billing.generate_billing`` ran.
    files
        Paths of the files under ``out_dir`` after generation, relative and
        sorted. The billing files sit under ``billing/``, and the store
        folder is left out.
    """

    out_dir: Path
    seed: int
    n_accounts: int
    effects: DemoEffects
    accounts: pd.DataFrame = field(repr=False)
    summary: dict[str, object] = field(repr=False)
    n_events: int
    billing_generated: bool
    files: tuple[str, ...]

    def quantile(
        self,
        milestone: str,
        name: str = "p50",
        segment: str | None = None,
        value: str | None = None,
        kind: str = "analytic",
    ) -> float | None:
        """Return a true latent quantile in days, None when too few ever reach.

        ``kind`` is ``"analytic"`` (the model distribution) or
        ``"empirical"`` (the sampled latent times of these accounts).
        """
        truth = self.summary["milestones"][milestone]
        group = (
            truth["overall"] if segment is None else truth["segments"][segment][value]
        )
        return group["quantiles_days"][kind][name]


def billing_accounts(accounts: pd.DataFrame) -> pd.DataFrame:
    """Return the per-account columns the billing generator reads.

    Columns: ``account_id``, ``signup_at`` (UTC), ``plan``, ``company_size``,
    ``channel``, ``country``, ``seats``, ``churn_at`` (UTC, NaT when the
    account has not churned by the observation end) and ``basic_value_at``
    (UTC, NaT when not reached).
    """
    return accounts.loc[:, list(BILLING_COLUMNS)].copy()


def generate_demo(
    out_dir: Path,
    seed: int = 2026,
    n_accounts: int = 3000,
    effects: DemoEffects = DEFAULT_EFFECTS,
    language: str | None = None,
) -> DemoTruth:
    """Generate the synthetic demo company into ``out_dir`` and return its truth.

    Writes ``events.csv.gz``, ``accounts.csv``, ``jalon.toml`` (a config
    that analyses them) and ``truth.json``. When the module
    ``jalon.demo.billing`` exists, also calls its ``generate_billing``,
    appends the ``[revenue]`` section it returns to ``jalon.toml`` and
    stores the rest of its truth under ``billing`` in ``truth.json``.
    Existing files of those names are overwritten and other files are left
    alone.

    Parameters
    ----------
    out_dir
        Folder to write to; created if missing.
    seed
        Seed of every random draw. The same seed gives byte-identical files.
    n_accounts
        Number of accounts; sign-ups spread over 18 months.
    effects
        Effects to plant in the data.
    language
        ``"en"`` or ``"fr"``: language of the project and milestone names in
        ``jalon.toml``. None writes them in English.

    Examples
    --------
    >>> import tempfile
    >>> truth = generate_demo(Path(tempfile.mkdtemp()), n_accounts=50)
    >>> "events.csv.gz" in truth.files and "truth.json" in truth.files
    True
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    population, event_rng = simulate_population(seed, n_accounts, effects)
    accounts = accounts_frame(population)
    events = build_events(population, event_rng)

    write_events(events, out_dir / EVENTS_FILE)
    write_accounts(accounts, out_dir / ACCOUNTS_FILE)
    billing = _generate_billing(accounts, out_dir, seed)
    revenue_section = billing.pop("config_toml", None) if billing is not None else None
    (out_dir / CONFIG_FILE).write_text(
        config_text(seed, revenue_section, language), encoding="utf-8"
    )

    summary = truth_summary(population, accounts, events, effects, seed, billing)
    files = sorted(set(_relative_files(out_dir)) | {TRUTH_FILE})
    summary["files"] = files
    text = json.dumps(
        summary, indent=2, ensure_ascii=False, allow_nan=False, default=str
    )
    (out_dir / TRUTH_FILE).write_text(text + "\n", encoding="utf-8")
    logger.info(
        "wrote demo company to %s: %d accounts, %d events",
        out_dir,
        n_accounts,
        len(events),
    )
    return DemoTruth(
        out_dir=out_dir,
        seed=seed,
        n_accounts=n_accounts,
        effects=effects,
        accounts=accounts,
        summary=summary,
        n_events=len(events),
        billing_generated=billing is not None,
        files=tuple(files),
    )


def iso_utc(epoch_seconds: np.ndarray) -> np.ndarray:
    """Format epoch seconds as ISO 8601 UTC strings ending in ``Z``.

    >>> iso_utc(np.array([0])).tolist()
    ['1970-01-01T00:00:00Z']
    """
    text = np.datetime_as_string(epoch_seconds.astype("datetime64[s]"), unit="s")
    return np.char.add(text, "Z")


def write_events(events: pd.DataFrame, path: Path) -> None:
    """Write the event log as gzip-compressed CSV with ISO UTC timestamps."""
    frame = events.assign(timestamp=iso_utc(events["timestamp"].to_numpy()))
    text = frame.to_csv(index=False, lineterminator="\n")
    # mtime=0 and an empty file name keep the gzip header identical between runs.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(
            filename="", fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
        ) as compressed,
    ):
        compressed.write(text.encode("utf-8"))


def write_accounts(accounts: pd.DataFrame, path: Path) -> None:
    """Write the accounts table: id, sign-up time and segment columns."""
    signup = accounts["signup_at"].dt.tz_convert(None).to_numpy()
    signup_s = signup.astype("datetime64[s]").astype(np.int64)
    frame = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "signup_at": iso_utc(signup_s),
            "plan": accounts["plan"],
            "company_size": accounts["company_size"],
            "channel": accounts["channel"],
            "country": accounts["country"],
        }
    )
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")


def config_text(
    seed: int, revenue_section: str | None = None, language: str | None = None
) -> str:
    """Return the ``jalon.toml`` that analyses the demo files.

    ``revenue_section`` is the ``[revenue]`` table of the billing files,
    appended as given. The project and milestone names are in ``language``
    (``"en"`` or ``"fr"``), English when it is None.
    """
    translate = _translator(language)
    end = model.OBSERVATION_END.strftime("%Y-%m-%d")
    horizons = ", ".join(str(h) for h in HORIZONS_DAYS)
    lines = [
        f"# Synthetic demo company generated by jalon.demo with seed {seed}.",
        "# Every account, user and event in this folder is invented.",
        "",
        "[project]",
        f"name = {_toml_string(translate(PROJECT_NAME))}",
        f'store = "{STORE_FOLDER}/store.duckdb"',
        'engine = "duckdb"',
        'timezone = "UTC"',
        "",
        "[events]",
        f'paths = ["{EVENTS_FILE}"]',
        "[events.columns]",
        'account_id = "account_id"',
        'user_id = "user_id"',
        'event = "event"',
        'timestamp = "timestamp"',
        'properties = "*"',
        "",
        "[accounts]",
        f'path = "{ACCOUNTS_FILE}"',
        "[accounts.columns]",
        'account_id = "account_id"',
        'segments = ["plan", "company_size"]',
        "",
        "[start]",
        'column = "signup_at"',
        "",
        "[observation]",
        f'end = "{end}"',
        f"horizons = [{horizons}]",
        "",
        "[churn]",
        'event = "subscription_cancelled"',
    ]
    for milestone_id, tier, name, condition in MILESTONES:
        lines += ["", "[[milestones]]", f'id = "{milestone_id}"']
        lines += [f"name = {_toml_string(translate(name))}"]
        lines += [f'tier = "{tier}"', condition]
    lines += _funnel_and_cohort_lines(translate)
    text = "\n".join(lines) + "\n"
    if revenue_section:
        text += "\n" + revenue_section.rstrip("\n") + "\n"
    return text


def _funnel_and_cohort_lines(translate) -> list[str]:
    """Return the onboarding funnel and monthly cohort tables of the demo config."""
    steps = ", ".join(f'{{ event = "{event}" }}' for event in FUNNEL_STEPS)
    activity = ", ".join(f'"{event}"' for event in COHORT_ACTIVITY)
    return [
        "",
        "[[funnels]]",
        'id = "onboarding"',
        f"name = {_toml_string(translate(FUNNEL_NAME))}",
        f'window = "{FUNNEL_WINDOW_DAYS}d"',
        f"steps = [{steps}]",
        "",
        "[cohorts]",
        'period = "month"',
        f"activity = [{activity}]",
        f"periods = {COHORT_PERIODS}",
    ]


def _translator(language: str | None):
    """Return a function translating a msgid into ``language``, or keeping it."""
    if language is None:
        return lambda message: message
    from jalon.i18n import translations

    return translations(language).gettext


def _toml_string(text: str) -> str:
    """Quote ``text`` as a TOML basic string.

    Every escape ``json.dumps`` writes (``\\"``, ``\\\\``, ``\\n``,
    ``\\uXXXX``...) is also valid in a TOML basic string.

    >>> _toml_string('Démo "A"')
    '"Démo \\\\"A\\\\""'
    """
    return json.dumps(text, ensure_ascii=False)


def _generate_billing(accounts: pd.DataFrame, out_dir: Path, seed: int) -> dict | None:
    """Run the billing generator when its module exists and return its truth."""
    if importlib.util.find_spec(BILLING_MODULE) is None:
        logger.info("no %s module: the demo has no billing history", BILLING_MODULE)
        return None
    billing = importlib.import_module(BILLING_MODULE)
    return dict(billing.generate_billing(billing_accounts(accounts), out_dir, seed))


def _relative_files(folder: Path) -> list[str]:
    """Return the files under ``folder`` as POSIX paths, except the store's."""
    return [
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and STORE_FOLDER not in path.relative_to(folder).parts
    ]


def truth_summary(
    population: Population,
    accounts: pd.DataFrame,
    events: pd.DataFrame,
    effects: DemoEffects,
    seed: int,
    billing: dict | None,
) -> dict[str, object]:
    """Return the content of ``truth.json`` except its file list.

    ``billing`` is the truth returned by the billing generator, without its
    config section, or None when it did not run.
    """
    counts = events["event"].value_counts().sort_index()
    churned = accounts["churn_at"].notna()
    return {
        "synthetic": True,
        "generator": {"module": "jalon.demo", "format_version": TRUTH_FORMAT_VERSION},
        "seed": seed,
        "n_accounts": population.n_accounts,
        "n_events": len(events),
        "events_by_name": {str(name): int(n) for name, n in counts.items()},
        "effects": effects.to_dict(),
        "model": model.model_parameters(),
        "churn": {
            "event": "subscription_cancelled",
            "churned_accounts": int(churned.sum()),
            "churned_before_basic_value": int(
                (churned & accounts["basic_value_at"].isna()).sum()
            ),
        },
        "aha": _aha_truth(population, effects, events, accounts),
        "milestones": {
            milestone_id: {
                "tier": tier,
                **milestone_truth(accounts, milestone_id, effects),
            }
            for milestone_id, tier, _, _ in MILESTONES
        },
        "funnels": {
            "onboarding": {
                "steps": list(FUNNEL_STEPS),
                "window_days": FUNNEL_WINDOW_DAYS,
                "reached": funnel_reached(events, FUNNEL_STEPS, FUNNEL_WINDOW_DAYS),
            }
        },
        "cohorts": {
            "period": "month",
            "activity": list(COHORT_ACTIVITY),
            "by_cohort": monthly_cohorts(
                events, accounts, COHORT_ACTIVITY, COHORT_PERIODS
            ),
        },
        "billing_generated": billing is not None,
        "billing": billing,
    }


def _aha_truth(
    population: Population,
    effects: DemoEffects,
    events: pd.DataFrame,
    accounts: pd.DataFrame,
) -> dict[str, object]:
    """Return the planted aha behaviour, its share in the data and the ranking.

    The ranking lists the best early behaviours by phi against retention
    (see :func:`jalon.demo.observed.behaviour_scores`). With the default
    effects and seed the planted behaviour ranks first. A weaker aha effect
    may let other behaviours outrank it.
    """
    invites = population.invite_days
    # The written times are floored to the second, and the window is inclusive.
    invite_s = np.floor(invites * model.SECONDS_PER_DAY)
    in_window = invite_s <= model.AHA_WINDOW_DAYS * model.SECONDS_PER_DAY
    in_window &= invites < population.stop_days[:, None]
    observed = in_window.sum(axis=1) >= model.AHA_MIN_COUNT
    ranking = behaviour_scores(
        events, accounts, model.AHA_WINDOW_DAYS, model.AHA_RETENTION_DAYS
    )
    return {
        # Early invitations are in the data even when aha_event is None,
        # which only removes their effect on churn.
        "event": model.SUPPORTED_AHA_EVENTS[0],
        "min_count": model.AHA_MIN_COUNT,
        "window_days": model.AHA_WINDOW_DAYS,
        "churn_hazard_ratio": effects.aha_churn_ratio,
        "planted_share": float(population.aha_planted.mean()),
        "observed_share": float(observed.mean()),
        "retention_days": model.AHA_RETENTION_DAYS,
        "ranking": ranking[: model.AHA_RANKING_LENGTH],
    }
