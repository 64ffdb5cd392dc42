"""Words and figures of the churn link section, for the report, CLI and dashboard.

The analysis stores findings and caveats as codes with numbers
(:mod:`jalon.churn_link`). This module turns them into sentences in the
reader's language and formats every figure with a
:class:`jalon.i18n.Formatter`, so all outputs word a finding the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from jalon.churn_link import findings as codes
from jalon.errors import N_
from jalon.i18n.format import Formatter
from jalon.report.charts import CurveSeries, share_curves
from jalon.report.text import Text

Gettext = Callable[[str], str]

#: p-values below this print as "< 0.001".
SMALLEST_P = 0.001

CAVEAT_MESSAGES = {
    "association_not_cause": N_(
        "An association in observational data, not proof of cause: accounts "
        "that reach value may differ in ways the data do not show."
    ),
    "landmark_few_churned": N_(
        "Fewer than 10 churned accounts in a group: the interval is wide."
    ),
    "landmark_empty_group": N_(
        "One of the two groups is empty at this landmark, so no ratio is given."
    ),
    "landmark_not_proportional": N_(
        "The proportional-hazards test rejects a constant ratio (p < 0.05): "
        "the ratio is an average over time."
    ),
    "landmark_no_churn_in_group": N_(
        "No account of one group churned after this landmark, so no ratio is given."
    ),
    "landmark_horizon_not_after": N_(
        "The retention horizon is not after the landmark."
    ),
    "cox_not_proportional": N_(
        "The hazard ratio differs before and after the cut day (p < 0.05): "
        "the single ratio is an average over time."
    ),
    "cox_not_converged": N_(
        "The Cox model did not fully converge, so its ratios are uncertain."
    ),
    "cox_rare_levels_pooled": N_(
        "Segment values with fewer than 30 accounts are pooled with the most common value."
    ),
    "cox_failed": N_("The Cox model could not be fitted on these data."),
    "cox_sampled": N_(
        "The time-varying Cox model was fitted on a random sample of accounts "
        "(analysis.cox_max_accounts), so its interval is wider than the data allow."
    ),
    "segment_one_group": N_(
        "This segment has one value only, so there is nothing to compare."
    ),
    "segment_ratio_not_reached": N_(
        "Some groups never reach the compared share within the window, so their ratio is not given."
    ),
    "holm_corrected": N_(
        "Pairwise p-values are adjusted for multiple comparisons (Holm)."
    ),
    "ltv_estimate": N_(
        "An estimate: value per month times the mean months active over the horizon, "
        "assuming value does not change while an account is active."
    ),
    "ltv_too_few_buckets": N_(
        "Fewer than two TTV buckets have accounts, so no value of reaching sooner is given."
    ),
    "aha_few_held_out": N_(
        "Fewer than 30 held-out accounts show the best behaviour: its scores are unstable."
    ),
    "aha_no_candidate": N_(
        "No candidate behaviour separates retained accounts from the others."
    ),
    "churn_link_no_milestone": N_("No milestone is declared."),
    "churn_link_no_churn": N_(
        "No account churned in the window, so retention cannot be compared."
    ),
}


def caveat_text(code: str, _: Gettext) -> str:
    """Return the translated sentence of a churn link caveat code (the code if unknown)."""
    message = CAVEAT_MESSAGES.get(code)
    return _(message) if message else code


def p_value_text(p_value: float | None, fmt: Formatter) -> str:
    """Format a p-value as ``p = 0.012`` or ``p < 0.001``."""
    if p_value is None:
        return f"p = {fmt.number(None)}"
    if p_value < SMALLEST_P:
        return f"p <\u00a0{fmt.number(SMALLEST_P, 3)}"
    return f"p = {fmt.number(p_value, 3)}"


def ratio_text(params: Mapping[str, Any], fmt: Formatter) -> dict[str, str]:
    """Format ``ratio``, ``lower`` and ``upper`` with two decimals."""
    return {
        "ratio": fmt.number(params.get("ratio"), 2),
        "lower": fmt.number(params.get("lower"), 2),
        "upper": fmt.number(params.get("upper"), 2),
    }


def behaviour_text(kind: str, name: str | None, min_count: int, _: Gettext) -> str:
    """Describe a candidate behaviour as a verb phrase ("did X at least 2 times")."""
    if kind == "event":
        return _("did “%(event)s” at least %(count)s times") % {
            "event": name,
            "count": min_count,
        }
    if kind == "distinct_events":
        return _("used at least %(count)s distinct events") % {"count": min_count}
    return _("used at least %(count)s distinct values of “%(property)s”") % {
        "count": min_count,
        "property": name,
    }


def _landmark(params, _, fmt, name) -> str:
    return _(
        "Among the %(accounts)s accounts still active on day %(landmark)s, those that "
        "had reached “%(milestone)s” by then were still active on day %(horizon)s in "
        "%(with)s of cases, against %(without)s for the others: a churn hazard "
        "%(ratio)s times as high [%(lower)s–%(upper)s]."
    ) % {
        "accounts": fmt.integer(params["n_accounts"]),
        "landmark": fmt.number(params["landmark"]),
        "milestone": name(params["milestone"]),
        "horizon": fmt.number(params["horizon"]),
        "with": fmt.percent(params["retention_reached"]),
        "without": fmt.percent(params["retention_not_reached"]),
        **ratio_text(params, fmt),
    }


def _cox(params, _, fmt, name) -> str:
    text = _(
        "Counting each account as not having reached “%(milestone)s” until it does, "
        "having reached it goes with a churn hazard %(ratio)s times as high "
        "[%(lower)s–%(upper)s] (Cox model adjusted for segments, %(accounts)s accounts)."
    ) % {
        "milestone": name(params["milestone"]),
        "accounts": fmt.integer(params["n_accounts"]),
        **ratio_text(params, fmt),
    }
    if not params["proportional"]:
        text += " " + _("The effect changes over time, so this ratio is an average.")
    return text


def _segment(params, _, fmt, name) -> str:
    values = {
        "segment": params["segment"],
        "group": params["group"],
        "reference": params["reference"],
        "share": fmt.percent(params["q"], 0),
        "p": p_value_text(params["p_adjusted"], fmt),
        **ratio_text(params, fmt),
    }
    if params["outcome"] == "churn":
        return (
            _(
                "Accounts with %(segment)s = %(group)s take %(ratio)s times "
                "[%(lower)s–%(upper)s] as long as %(reference)s accounts until "
                "%(share)s of them have churned (Holm-adjusted log-rank %(p)s)."
            )
            % values
        )
    return _(
        "Accounts with %(segment)s = %(group)s take %(ratio)s times "
        "[%(lower)s–%(upper)s] as long as %(reference)s accounts to reach "
        "“%(milestone)s” (time by which %(share)s reach it; Holm-adjusted "
        "log-rank %(p)s)."
    ) % {**values, "milestone": name(params["outcome"])}


def _aha(params, _, fmt, name) -> str:
    return _(
        "Among held-out accounts still active on day %(window)s, those that "
        "%(behaviour)s in the first %(window)s days were still active on day "
        "%(horizon)s in %(with)s of cases, against %(without)s for the others "
        "(lift %(lift)s, phi %(phi)s). This is an association: test it before "
        "treating it as a cause."
    ) % {
        "window": fmt.number(params["window"]),
        "behaviour": behaviour_text(
            params["kind"], params["name"], params["min_count"], _
        ),
        "horizon": fmt.number(params["horizon"]),
        "with": fmt.percent(params["retention_with"]),
        "without": fmt.percent(params["retention_without"]),
        "lift": fmt.number(params["lift"], 2),
        "phi": fmt.number(params["phi"], 2),
    }


def _churned_first(params, _, fmt, name) -> str:
    return _(
        "%(share)s of accounts (%(churned)s of %(accounts)s) churned before reaching "
        "“%(milestone)s”."
    ) % {
        "share": fmt.percent(params["share"]),
        "churned": fmt.integer(params["n_churned"]),
        "accounts": fmt.integer(params["n_accounts"]),
        "milestone": name(params["milestone"]),
    }


def _ltv(params, _, fmt, name) -> str:
    return _(
        "Estimate: among accounts active on day %(landmark)s, reaching “%(milestone)s” "
        "%(days)s days sooner goes with about %(value)s more value per account over "
        "the next %(horizon)s days. This assumes the link between TTV and value is "
        "linear and causal, which these data cannot show."
    ) % {
        "landmark": fmt.number(params["landmark"]),
        "milestone": name(params["milestone"]),
        "days": fmt.number(params["days"]),
        "value": fmt.number(params["value"], 2),
        "horizon": fmt.number(params["horizon"]),
    }


SENTENCES = {
    codes.LANDMARK: _landmark,
    codes.COX: _cox,
    codes.SEGMENT_TTV: _segment,
    codes.SEGMENT_RETENTION: _segment,
    codes.AHA: _aha,
    codes.CHURNED_BEFORE_VALUE: _churned_first,
    codes.LTV_SOONER: _ltv,
}


def finding_text(
    finding: Any, _: Gettext, fmt: Formatter, names: Mapping[str, str] | None = None
) -> str:
    """Return one finding as a sentence.

    ``names`` maps milestone ids to their display names; ids are shown
    when a name is missing.
    """
    known = dict(names or {})

    def name(identifier: str) -> str:
        return known.get(identifier, identifier)

    return SENTENCES[finding.code](finding.params, _, fmt, name)


def findings_text(
    result: Any, _: Gettext, fmt: Formatter, names: Mapping[str, str] | None = None
) -> list[str]:
    """Return the findings of a :class:`jalon.churn_link.ChurnLinkResult` as sentences.

    Examples
    --------
    >>> from jalon.churn_link import Finding
    >>> class Result:
    ...     findings = (Finding("churned_before_value", {"milestone": "a",
    ...         "share": 0.25, "n_churned": 1, "n_accounts": 4}, 0.29),)
    >>> findings_text(Result(), str, Formatter("en"))
    ['25.0% of accounts (1 of 4) churned before reaching “a”.']
    """
    return [finding_text(finding, _, fmt, names) for finding in result.findings]


@dataclass(frozen=True)
class CompetingRow:
    """One milestone's share reached by a horizon: Aalen-Johansen beside 1 - KM."""

    milestone: str
    name: str
    day: str
    aalen_johansen: str
    one_minus_km: str
    churned_first: str


@dataclass(frozen=True)
class ChurnLinkView:
    """Sentences, charts and the competing-risk table of the churn link section."""

    findings: tuple[str, ...]
    competing: tuple[CompetingRow, ...]
    landmark_charts: tuple[tuple[str, Markup], ...]
    retention_charts: tuple[tuple[str, Markup], ...]
    names: dict[str, str]
    caveats: dict[str, str]


def _competing_rows(analysis: Any, fmt: Formatter) -> tuple[CompetingRow, ...]:
    """Read the shares already computed by jalon.survival; nothing is refitted."""
    rows = []
    for milestone in analysis.milestones:
        summary = milestone.overall
        churned = (
            summary.n_churned_first / summary.n_accounts if summary.n_accounts else None
        )
        for aj, km in zip(summary.horizons, summary.km_horizons, strict=True):
            rows.append(
                CompetingRow(
                    milestone=milestone.id,
                    name=milestone.name,
                    day=fmt.number(aj.days),
                    aalen_johansen=fmt.percent(aj.share),
                    one_minus_km=fmt.percent(km.share),
                    churned_first=fmt.percent(churned),
                )
            )
    return tuple(rows)


def _landmark_charts(result: Any, text: Text, names: Mapping[str, str]) -> tuple:
    """Draw, per milestone, the retention curves at its first usable landmark."""
    charts, seen = [], set()
    labels = {
        "reached": text._("Reached by the landmark"),
        "not_reached": text._("Not reached by the landmark"),
    }
    for landmark in result.landmarks:
        if landmark.milestone in seen or landmark.curves.empty:
            continue
        seen.add(landmark.milestone)
        series = [
            CurveSeries(
                labels[group],
                rows["time"].tolist(),
                rows["retention"].tolist(),
                rows["lower"].tolist(),
                rows["upper"].tolist(),
            )
            for group, rows in landmark.curves.groupby("group", sort=False)
        ]
        title = text._("“%(milestone)s”, accounts active on day %(day)s") % {
            "milestone": names.get(landmark.milestone, landmark.milestone),
            "day": text.fmt.number(landmark.landmark_days),
        }
        svg = share_curves(
            series,
            text._("Days since the start"),
            text._("Share still active"),
            x_max=landmark.horizon_days * 2,
            title=title,
            formatter=text.fmt,
        )
        charts.append((title, Markup(svg)))
    return tuple(charts)


def _retention_charts(result: Any, text: Text) -> tuple:
    charts = []
    for comparison in result.segments:
        if comparison.outcome != "churn" or comparison.curves is None:
            continue
        series = [
            CurveSeries(
                text.group_label(str(group)),
                rows["time"].tolist(),
                rows["retention"].tolist(),
                rows["lower"].tolist(),
                rows["upper"].tolist(),
            )
            for group, rows in comparison.curves.groupby("group", sort=True)
        ]
        title = text._("Retention by %(segment)s") % {"segment": comparison.segment}
        svg = share_curves(
            series,
            text._("Days since the start"),
            text._("Share still active"),
            title=title,
            formatter=text.fmt,
        )
        charts.append((title, Markup(svg)))
    return tuple(charts)


def churn_link_view(analysis: Any, lang: str) -> ChurnLinkView:
    """Build the view of ``analysis.churn_link`` in ``lang`` ("en" or "fr").

    The report passes it to ``_churn_link.html.j2`` as ``churn_link_view``.
    """
    text = Text(lang)
    result = analysis.churn_link
    names = {milestone.id: milestone.name for milestone in analysis.milestones}
    view = ChurnLinkView(
        findings=tuple(findings_text(result, text._, text.fmt, names)),
        competing=_competing_rows(analysis, text.fmt),
        landmark_charts=_landmark_charts(result, text, names),
        retention_charts=_retention_charts(result, text),
        names=names,
        caveats={code: caveat_text(code, text._) for code in CAVEAT_MESSAGES},
    )
    return view
