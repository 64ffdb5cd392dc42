"""Entry point of the churn link analysis: :func:`analyze_churn_link`."""

from __future__ import annotations

import logging
from typing import Any

import ibis.expr.types as ir

from jalon.churn_link import findings as finding_rules
from jalon.churn_link.aha import discover_aha
from jalon.churn_link.cox import time_varying_cox
from jalon.churn_link.frame import Execute, account_frame
from jalon.churn_link.landmark import landmark_comparison
from jalon.churn_link.ltv import lifetime_value
from jalon.churn_link.results import ChurnLinkResult
from jalon.churn_link.segments import compare_segments
from jalon.churn_link.settings import ChurnLinkSettings, parse_settings

logger = logging.getLogger(__name__)

CAVEAT_NO_MILESTONE = "churn_link_no_milestone"
CAVEAT_NO_CHURN = "churn_link_no_churn"


def _churn_events(config: Any) -> tuple[str, ...]:
    churn = getattr(config, "churn", None)
    condition = getattr(churn, "condition", None)
    return tuple(getattr(condition, "events", None) or ())


def analyze_churn_link(
    config: Any,
    account_table: ir.Table,
    events_used: ir.Table,
    execute: Execute,
    properties: dict[str, str],
) -> ChurnLinkResult:
    """Link time to value with churn: landmarks, Cox, segments, LTV, aha, findings.

    Parameters
    ----------
    config
        :class:`jalon.config.Config`; its ``analysis`` table contains the settings
        (see :func:`jalon.churn_link.settings.parse_settings`).
    account_table
        Per-account Ibis table (``milestones.account_table``).
    events_used
        Usable events (Ibis), each with its account's ``start_at``.
    execute
        Runs an Ibis expression and returns pandas.
    properties
        Property names as written in the config, mapped to store columns.

    Returns
    -------
    ChurnLinkResult

    Raises
    ------
    ConfigError
        On an invalid ``[analysis]`` key.
    """
    milestone_ids = tuple(milestone.id for milestone in config.milestones)
    segments = tuple(config.segments)
    settings = parse_settings(config.analysis, segments, milestone_ids)
    frame = account_frame(
        account_table, milestone_ids, segments, execute, settings.value_column
    )
    caveats = []
    if not milestone_ids:
        caveats.append(CAVEAT_NO_MILESTONE)
    if int(frame["churn_status"].sum()) == 0:
        caveats.append(CAVEAT_NO_CHURN)

    landmarks = tuple(
        landmark_comparison(
            frame,
            milestone,
            day,
            settings.retention_horizon,
            segments,
            settings.cox_max_accounts,
            settings.seed,
        )
        for milestone in milestone_ids
        for day in settings.landmarks
    )
    cox = tuple(
        time_varying_cox(
            frame, milestone, segments, settings.cox_max_accounts, settings.seed
        )
        for milestone in milestone_ids
    )
    comparisons = compare_segments(
        account_table,
        frame,
        milestone_ids,
        segments,
        execute,
        settings.segment_quantiles,
        settings.retention_quantiles,
        settings.n_boot,
        settings.seed,
    )
    ltv_milestone = settings.ltv_milestone or (
        milestone_ids[0] if milestone_ids else None
    )
    ltv = lifetime_value(frame, ltv_milestone, settings) if ltv_milestone else None
    aha = discover_aha(
        frame, events_used, settings, properties, execute, _churn_events(config)
    )
    findings = _findings(
        settings, frame, milestone_ids, landmarks, cox, comparisons, ltv, aha
    )

    result = ChurnLinkResult(
        settings=settings,
        n_accounts=len(frame),
        landmarks=landmarks,
        cox=cox,
        segments=comparisons,
        ltv=ltv,
        aha=aha,
        findings=findings,
        caveats=tuple(caveats),
    )
    logger.info("%r", result)
    return result


def _findings(
    settings: ChurnLinkSettings,
    frame,
    milestone_ids,
    landmarks,
    cox,
    comparisons,
    ltv,
    aha,
):
    found = [
        *finding_rules.landmark_findings(landmarks),
        *finding_rules.cox_findings(cox),
        *finding_rules.segment_findings(comparisons),
        *finding_rules.aha_findings(aha),
        *finding_rules.churned_first_findings(frame, milestone_ids),
    ]
    ranked = finding_rules.rank_findings(found, settings.max_findings)
    # The lifetime-value estimate is appended after the ranked findings,
    # because it rests on stronger assumptions than any of them.
    return (*ranked, *finding_rules.ltv_findings(ltv))
