"""Build a demo company with planted effects and load it, for the simulation tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pandas as pd

from jalon.churn_link.frame import account_frame
from jalon.demo import DemoEffects, DemoTruth, generate_demo

SEED = 2026
#: Accounts per simulated company: large enough for intervals of about
#: +-20% on the hazard ratios, small enough to generate in about 10 s.
N_ACCOUNTS = 2500
SEGMENTS = ("plan", "company_size", "channel")


@dataclass
class LoadedDemo:
    truth: DemoTruth
    frame: pd.DataFrame
    events: ir.Table
    properties: dict[str, str]
    store: object
    config: object


def load_demo(folder: Path, effects: DemoEffects) -> LoadedDemo:
    """Generate the demo into ``folder``, load it and return its per-account frame.

    The channel is added as a segment: churn depends on it in the generator,
    so the Cox models adjust for it.
    """
    from jalon.config import load_config
    from jalon.ingest import load_project
    from jalon.milestones.accounts import build_account_table, observation_end
    from jalon.store import Store

    truth = generate_demo(folder, seed=SEED, n_accounts=N_ACCOUNTS, effects=effects)
    text = (folder / "jalon.toml").read_text(encoding="utf-8")
    text = text.replace(
        'segments = ["plan", "company_size"]',
        f"segments = {list(SEGMENTS)!r}".replace("'", '"'),
    )
    (folder / "jalon.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "jalon.toml")
    store = Store.open(config.store_path)
    load_project(
        store,
        config.events,
        config.accounts,
        base_dir=config.base_dir,
        timezone=config.timezone,
    )
    events = store.events()
    end = observation_end(config, events, lambda expr: store.execute(expr).iloc[0, 0])
    built = build_account_table(
        config, events, store.accounts(), store.properties(), end
    )
    frame = account_frame(built.table, built.milestone_ids, SEGMENTS, store.execute)
    return LoadedDemo(
        truth, frame, built.events_used, store.properties(), store, config
    )
