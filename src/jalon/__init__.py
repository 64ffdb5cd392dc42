"""jalon: measure, explain and shorten Time to Value in subscription businesses.

The Python API gives the same figures as the CLI, the report and the
dashboard, because all of them read the :class:`Analysis` that
:func:`analyze` returns::

    import jalon

    analysis = jalon.analyze("jalon.toml")
    basic = analysis.milestones[0].overall
    print(basic.percentiles[0])          # median TTV with its 95% CI
    jalon.write_report(analysis, "report.html", lang="fr")
"""

from __future__ import annotations

from pathlib import Path

from jalon.analysis import Analysis, MilestoneResult, run_analysis
from jalon.config import Config, load_config
from jalon.errors import (
    AnalysisError,
    ConfigError,
    InputError,
    JalonError,
    JalonWarning,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "AnalysisError",
    "Config",
    "ConfigError",
    "InputError",
    "JalonError",
    "JalonWarning",
    "MilestoneResult",
    "StoreError",
    "__version__",
    "analyze",
    "load_config",
    "run_analysis",
    "write_report",
]


def analyze(config: str | Path | Config, *, synthetic: bool = False) -> Analysis:
    """Load the project's new data files and compute every figure.

    Parameters
    ----------
    config
        Path of a jalon.toml (or its folder), or a loaded :class:`Config`.
    synthetic
        Mark the results as computed on generated data.
    """
    from jalon.cli.project import drain_api_events
    from jalon.ingest import load_project
    from jalon.store import Store

    if not isinstance(config, Config):
        config = load_config(config)
    with Store.open(config.store_path, memory_limit=config.memory_limit) as store:
        drain_api_events(config, store)
        ingest = load_project(
            store,
            config.events,
            config.accounts,
            base_dir=config.base_dir,
            timezone=config.timezone,
        )
        return run_analysis(config, store, synthetic=synthetic, ingest=ingest)


def write_report(analysis: Analysis, path: str | Path, lang: str = "en") -> Path:
    """Write the self-contained HTML report of ``analysis`` in ``lang``."""
    from jalon.report import write_report as render

    return render(analysis, Path(path), lang)
