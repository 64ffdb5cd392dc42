"""A deterministic synthetic subscription company for ``jalon demo`` and tests.

:func:`generate_demo` writes events, accounts, a ``jalon.toml`` and the known
truth (``truth.json``) to a folder, so a run of jalon on that folder can be
checked against the latent times the data came from.
"""

from jalon.demo.generate import (
    SYNTHETIC_NOTICE,
    DemoTruth,
    billing_accounts,
    generate_demo,
)
from jalon.demo.model import DemoEffects
from jalon.demo.population import accounts_frame, simulate_population

__all__ = [
    "SYNTHETIC_NOTICE",
    "DemoEffects",
    "DemoTruth",
    "accounts_frame",
    "billing_accounts",
    "generate_demo",
    "simulate_population",
]
