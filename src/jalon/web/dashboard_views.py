"""Views of the dashboard pages that the report has no section for.

The late-accounts list and the account page are formatted here with the
report's :class:`jalon.report.text.Text`, so numbers and dates read as in
the report.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from babel.numbers import get_currency_precision

from jalon.alerts import filter_late
from jalon.report.text import Text

DAYS_DIGITS = 1
STATUS_REACHED = 1
STATUS_CHURNED = 2
CSV_COLUMNS = (
    "account_id",
    "milestone",
    "segment",
    "start_at",
    "elapsed_days",
    "expected_days",
    "days_late",
)


@dataclass(frozen=True)
class NavItem:
    """One link of the dashboard navigation."""

    page: str
    href: str
    label: str


def nav_items(analysis: Any, text: Text, prefix: str) -> tuple[NavItem, ...]:
    """Return the links to the pages that have content for this analysis."""
    _ = text._
    items = [
        NavItem("overview", f"{prefix}/", _("Overview")),
        NavItem("milestones", f"{prefix}/milestones", _("Milestones")),
    ]
    if analysis.funnels:
        items.append(NavItem("funnels", f"{prefix}/funnels", _("Funnels")))
    if analysis.cohorts is not None:
        items.append(NavItem("cohorts", f"{prefix}/cohorts", _("Cohorts")))
    if analysis.churn_link is not None:
        items.append(NavItem("churn", f"{prefix}/churn", _("TTV and churn")))
    if analysis.revenue is not None:
        items.append(NavItem("revenue", f"{prefix}/revenue", _("Recurring revenue")))
    items.append(NavItem("late", f"{prefix}/late", _("Late accounts")))
    return tuple(items)


def late_rows(late: pd.DataFrame, text: Text) -> list[dict[str, str]]:
    """Format late (account, milestone) rows for the list and the overview."""
    fmt = text.fmt
    rows = []
    for row in late.itertuples(index=False):
        rows.append(
            {
                "account_id": str(row.account_id),
                "milestone": row.milestone,
                "milestone_name": row.milestone_name,
                "segment": text.group_label(str(row.segment)),
                "start_at": fmt.date(pd.Timestamp(row.start_at).to_pydatetime()),
                "elapsed": fmt.number(row.elapsed_days, DAYS_DIGITS),
                "expected": fmt.number(row.expected_days, DAYS_DIGITS),
                "days_late": fmt.number(row.days_late, DAYS_DIGITS),
                "days_late_value": f"{float(row.days_late):.3f}",
            }
        )
    return rows


def late_view(
    late: pd.DataFrame,
    text: Text,
    milestone: str | None,
    segment: str | None,
    min_days_late: float | None,
) -> dict[str, Any]:
    """Return the filtered late list and the choices of its filters."""
    kept = filter_late(late, milestone, segment, min_days_late)
    milestones = sorted(set(zip(late["milestone"], late["milestone_name"])))
    segments = sorted(set(late["segment"].astype(str)))
    return {
        "rows": late_rows(kept, text),
        "count": text.fmt.integer(len(kept)),
        "milestones": milestones,
        "segments": segments,
        "selected": {
            "milestone": milestone or "",
            "segment": segment or "",
            "min_days": "" if min_days_late is None else f"{min_days_late:g}",
        },
    }


def late_summary(analysis: Any, late: pd.DataFrame, text: Text) -> list[dict[str, str]]:
    """Count the late accounts of each milestone, for the overview."""
    counts = late["milestone"].value_counts().to_dict() if not late.empty else {}
    return [
        {
            "id": result.id,
            "name": result.name,
            "count": text.fmt.integer(int(counts.get(result.id, 0))),
        }
        for result in analysis.milestones
    ]


def late_csv(late: pd.DataFrame) -> str:
    """Return the late rows as CSV, with days as plain decimals (dot separator)."""
    buffer = io.StringIO()
    frame = late.loc[:, list(CSV_COLUMNS)].copy()
    frame["start_at"] = pd.to_datetime(frame["start_at"]).dt.strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    for column in ("elapsed_days", "expected_days", "days_late"):
        frame[column] = frame[column].astype(float).round(3)
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def account_view(
    figures: Any, account_id: str, events: pd.DataFrame, text: Text
) -> dict[str, Any] | None:
    """Return the account page: status, segments, milestones, MRR and events."""
    accounts = figures.snapshot.accounts
    match = accounts[accounts["account_id"].astype(str) == account_id]
    if match.empty:
        return None
    row = match.iloc[0]
    fmt = text.fmt
    analysis = figures.analysis
    late_ids = set(
        figures.late.loc[figures.late["account_id"] == account_id, "milestone"]
    )
    return {
        "account_id": account_id,
        "start_at": fmt.datetime(_time(row["start_at"])),
        "status": _account_status(row, text),
        "segments": [
            (name, text.group_label(str(row[name])))
            for name in analysis.definitions.segments
        ],
        "milestones": [
            _milestone_row(row, result, late_ids, text)
            for result in analysis.milestones
        ],
        "mrr": _account_mrr(analysis.revenue, account_id, text),
        "events": [
            {"event": e.event, "at": fmt.datetime(_time(e.ts))}
            for e in events.itertuples()
        ],
    }


def _time(value: Any):
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _account_status(row: pd.Series, text: Text) -> str:
    if pd.notna(row.get("churn_at")):
        return text._("Churned on {date}").format(
            date=text.fmt.date(_time(row["churn_at"]))
        )
    return text._("Active")


def _milestone_row(
    row: pd.Series, result: Any, late_ids: set, text: Text
) -> dict[str, str]:
    _ = text._
    status = row.get(f"m_{result.id}_status")
    days = text.fmt.days(row.get(f"m_{result.id}_days"), DAYS_DIGITS)
    if pd.isna(status):
        label = _("Excluded (no start for this milestone)")
    elif int(status) == STATUS_REACHED:
        label = _("Reached on {date}").format(
            date=text.fmt.date(_time(row[f"m_{result.id}_at"]))
        )
    elif int(status) == STATUS_CHURNED:
        label = _("Churned before reaching it")
    elif result.id in late_ids:
        label = _("Late: not reached yet")
    else:
        label = _("Not reached yet")
    return {"id": result.id, "name": result.name, "status": label, "days": days}


def _account_mrr(revenue: Any, account_id: str, text: Text) -> str | None:
    if revenue is None or getattr(revenue, "mrr", None) is None or revenue.mrr.empty:
        return None
    rows = revenue.mrr[revenue.mrr["account_id"].astype(str) == account_id]
    if rows.empty:
        return text.fmt.currency(0, revenue.base_currency)
    latest = rows.sort_values("month").iloc[-1]
    minor_digits = get_currency_precision(revenue.base_currency)
    amount = float(latest["mrr_minor"]) / 10**minor_digits
    return text._("{amount} in {month}").format(
        amount=text.fmt.currency(amount, revenue.base_currency),
        month=text.fmt.month(latest["month"]),
    )
