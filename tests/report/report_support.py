"""Analyses and an HTML tree for the report tests.

The analyses are built from real survival summaries.

The life tables are small and written by hand. Twelve accounts on two plans:

=====  =============================================================
plan   accounts (day of the outcome)
=====  =============================================================
pro    reached on days 1, 2, 2 and 4; churned on day 3; observed to 10
free   reached on day 5; churned on days 1 and 6; three observed to 10
=====  =============================================================

Overall, Kaplan-Meier (churn as censoring) gives S(1) = 11/12,
S(2) = 11/12 * 8/10 = 0.733, S(4) = 0.733 * 6/7 = 0.629 and
S(5) = 0.629 * 5/6 = 0.524, so the overall median is not reached. For pro,
S(2) = 5/6 * 3/5 = 0.5, so its median is 2 days.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pandas as pd

from jalon.analysis import (
    Analysis,
    Definitions,
    MilestoneDefinition,
    MilestoneResult,
    Population,
    Window,
)
from jalon.cohorts.result import CohortResult
from jalon.errors import FewAtRiskWarning
from jalon.funnels.result import FunnelResult
from jalon.survival import summarize, summarize_groups

HORIZONS_DAYS = (1.0, 7.0, 30.0)
GROUPED_LIFE_TABLE = pd.DataFrame(
    {
        "group": ["free", "free", "free", "free", "pro", "pro", "pro", "pro", "pro"],
        "time": [1.0, 5.0, 6.0, 10.0, 1.0, 2.0, 3.0, 4.0, 10.0],
        "n_event": [0, 1, 0, 0, 1, 2, 0, 1, 0],
        "n_competing": [1, 0, 1, 0, 0, 0, 1, 0, 0],
        "n_censored": [0, 0, 0, 3, 0, 0, 0, 0, 1],
    }
)
OVERALL_LIFE_TABLE = pd.DataFrame(
    {
        "group": "all",
        "time": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0],
        "n_event": [1, 2, 0, 1, 1, 0, 0],
        "n_competing": [1, 0, 1, 0, 0, 1, 0],
        "n_censored": [0, 0, 0, 0, 0, 0, 4],
    }
)
CONDITION = {
    "event": "report_shared",
    "count": 3,
    "where": {"plan": "pro"},
    "within": "7d",
}


def build_funnel() -> FunnelResult:
    """Return a three-step funnel: 200 sign up, 50 invite, 25 share.

    Conversions from the previous step are 50/200 = 25% and 25/50 = 50%;
    from the first step 25% and 25/200 = 12.5%.
    """
    steps = pd.DataFrame(
        {
            "segment": "all",
            "segment_value": "all",
            "step": [1, 2, 3],
            "step_name": ["Sign-up", "Invite", "Share"],
            "n_reached": [200, 50, 25],
            "n_still_in_window": [0, 10, 5],
            "n_dropped": [0, 140, 20],
            "conversion_from_previous": [math.nan, 0.25, 0.5],
            "conversion_from_first": [1.0, 0.25, 0.125],
            "conversion_decided": [math.nan, 50 / 190, 25 / 45],
            "drop_off": [math.nan, 0.7, 0.4],
            "still_in_window": [math.nan, 0.05, 0.1],
            "n_timed": [0, 50, 25],
            "n_censored": [0, 10, 5],
            "median_days": [math.nan, 1.5, 4.0],
            "median_lower": [math.nan, 1.0, 2.5],
            "median_upper": [math.nan, 2.0, math.nan],
            "p90_days": [math.nan, 6.0, math.nan],
            "p90_lower": [math.nan, 4.0, math.nan],
            "p90_upper": [math.nan, 9.0, math.nan],
            "largest_drop_off": [False, True, False],
            "slowest": [False, False, True],
        }
    )
    by_plan = steps.assign(segment="plan", segment_value="pro")
    return FunnelResult(
        funnel_id="activation",
        name="Activation",
        order="ordered",
        level="account",
        start_anchor="first_step",
        window_seconds=14 * 86_400,
        observation_end=dt.datetime(2026, 12, 4),
        steps=steps,
        by_segment=by_plan,
        friction=pd.DataFrame(),
        n_persons=200,
        excluded={"exclusion_event": 3},
        excluded_events={},
        caveats=(),
    )


def build_cohorts() -> CohortResult:
    """Return two weekly cohorts over three periods; one cell not observable yet.

    The cohort of 12 January has 8 accounts and its period 2 has not ended.
    """
    cohorts = pd.Index(pd.to_datetime(["2026-01-05", "2026-01-12"]), name="cohort")
    grid = lambda rows: pd.DataFrame(rows, index=cohorts, columns=[0, 1, 2])  # noqa: E731
    observable = grid([[True, True, True], [True, True, False]])
    return CohortResult(
        period="week",
        anchor="start",
        activity=None,
        periods=3,
        observation_end=dt.datetime(2026, 1, 25),
        cohort_sizes=pd.Series([10, 8], index=cohorts),
        retention=grid([[1.0, 0.5, 0.3], [1.0, 0.25, math.nan]]),
        retention_or_later=grid([[1.0, 0.6, 0.3], [1.0, 0.25, math.nan]]),
        active=grid([[10, 5, 3], [8, 2, 0]]),
        active_or_later=grid([[10, 6, 3], [8, 2, 0]]),
        churn=grid([[0.0, 0.1, 0.1], [0.0, 0.125, math.nan]]),
        churn_hazard=grid([[0.0, 0.1, 1 / 9], [0.0, 0.125, math.nan]]),
        churned=grid([[0, 1, 1], [0, 1, 0]]),
        at_risk=grid([[10, 10, 9], [8, 8, 7]]),
        observable=observable,
        churn_observable=observable,
        churn_spike=pd.DataFrame(),
        median_ttv=pd.DataFrame(
            {
                "milestone": ["shared_report", "shared_report"],
                "cohort": cohorts,
                "n_accounts": [10, 8],
                "n_reached": [6, 2],
                "n_churned_first": [1, 1],
                "n_censored": [3, 5],
                "median_days": [2.0, math.nan],
                "median_lower": [1.0, math.nan],
                "median_upper": [4.0, math.nan],
            }
        ),
        ttv_trend=pd.DataFrame(
            {
                "milestone": ["shared_report"],
                "n_cohorts": [2],
                "z": [2.5],
                "p_value": [0.0124],
            }
        ),
        n_accounts=18,
        caveats=(),
    )


def build_analysis(
    *, synthetic: bool = True, funnels: bool = False, cohorts: bool = False
) -> Analysis:
    """Return an analysis of one milestone over the hand-made life tables.

    ``funnels`` and ``cohorts`` add the results of :func:`build_funnel` and
    :func:`build_cohorts`.
    """
    overall = summarize(OVERALL_LIFE_TABLE, horizons=HORIZONS_DAYS)
    with warnings.catch_warnings():
        # Six accounts per plan are few at risk by design; the caveat is stored.
        warnings.simplefilter("ignore", FewAtRiskWarning)
        by_plan = summarize_groups(GROUPED_LIFE_TABLE, horizons=HORIZONS_DAYS)
    milestone = MilestoneResult(
        id="shared_report",
        name="Shared a report",
        tier="basic",
        overall=overall,
        by_segment={"plan": by_plan},
        excluded={},
    )
    definitions = Definitions(
        start={"column": "signup_at"},
        churn={"event": ["subscription_cancelled"]},
        milestones=(
            MilestoneDefinition(
                "shared_report", "Shared a report", "basic", None, CONDITION
            ),
        ),
        horizons=HORIZONS_DAYS,
        segments=("plan",),
        timezone="Europe/Paris",
        end_configured=True,
    )
    return Analysis(
        project_name="Acme <Analytics>",
        synthetic=synthetic,
        generated_at=dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.timezone.utc),
        window=Window(
            first_start=dt.datetime(2026, 1, 5),
            last_start=dt.datetime(2026, 11, 20),
            end=dt.datetime(2026, 12, 4),
        ),
        population=Population(
            n_accounts=12,
            excluded_accounts={"no_start": 1234},
            n_events_used=5678,
            excluded_events={"before_start": 3, "duplicate": 2},
        ),
        definitions=definitions,
        milestones=(milestone,),
        funnels=(build_funnel(),) if funnels else (),
        cohorts=build_cohorts() if cohorts else None,
    )


ASCII_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
VOID_ELEMENTS = {
    "area",
    "br",
    "col",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


@dataclass
class Node:
    """One element of a parsed HTML document."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """Return the text of the element and its descendants.

        Runs of ASCII whitespace collapse to one space; no-break spaces stay,
        because French formatting depends on them.
        """
        parts = [
            child if isinstance(child, str) else child.text() for child in self.children
        ]
        return ASCII_WHITESPACE.sub(" ", "".join(parts)).strip()

    def iter(self):
        """Yield this element and every descendant element, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Return descendants with ``tag`` whose attributes equal ``attrs``.

        Attribute names use ``_`` for ``-``: ``data_field="n_reached"``.
        """
        expected = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and all(node.attrs.get(name) == value for name, value in expected.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        """Return the only descendant that :meth:`find_all` matches."""
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag}> with {attrs}, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]
        self.mismatched: list[str] = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID_ELEMENTS:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(
            Node(tag, {name: value or "" for name, value in attrs})
        )

    def handle_endtag(self, tag):
        if self.stack[-1].tag != tag:
            self.mismatched.append(f"</{tag}> closes <{self.stack[-1].tag}>")
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    """Parse ``text`` with :mod:`html.parser` into a tree of :class:`Node`."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def unbalanced_tags(text: str) -> list[str]:
    """Return the end tags of ``text`` that do not close the innermost open element.

    Elements still open at the end are listed too.
    """
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    unclosed = [f"<{node.tag}> not closed" for node in builder.stack[1:]]
    return builder.mismatched + unclosed
