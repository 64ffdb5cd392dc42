"""Excel workbook and CSV exports of a RevenueResult, with translated headers.

This module formats results for people, so unlike the analysis modules it
reads the gettext catalogs (imported when an export runs).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd

from jalon.revenue.labels import (
    COLUMN_LABELS,
    EXCLUSION_LABELS,
    MONEY_SUFFIX,
    RULE_LABELS,
    RULE_VALUE_LABELS,
    SHARE_COLUMNS,
    TRANSLATED_VALUE_COLUMNS,
    VALUE_LABELS,
)  # fmt: skip
from jalon.revenue.result import CAVEAT_MESSAGES, RevenueResult

logger = logging.getLogger(__name__)

MAX_SHEET_NAME = 31
MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "yyyy-mm"
HEADER_WIDTH_PADDING = 2
EXCEL_MAX_ROWS = 1_048_576
TRUNCATED_NOTE = (
    "Too many rows for one Excel sheet: only the first ones are here. "
    "The CSV exports of jalon revenue export have every row."
)
CSV_SEPARATORS = {"en": ",", "fr": ";"}


def _gettext(lang: str) -> Callable[[str], str]:
    from jalon.i18n import translations

    return translations(lang).gettext


# Sheet titles (English msgids) and the result attribute each one shows.
SHEETS = (
    ("MRR and movements", "totals"), ("Movements by account", "movements"),
    ("MRR by account", "mrr"), ("Churn rates", "churn"), ("NRR and GRR", "retention"),
    ("Cohort retention", "cohorts"), ("ARPA", "arpa"), ("Unit economics", "unit_economics"),
    ("Revenue recognition", "recognition"), ("Recognition by line", "recognition_schedule"),
    ("Billing checks", "checks"), ("Renewals", "renewals"), ("Forecast", "forecast"),
    ("Forecast assumptions", "forecast_assumptions"),
)  # fmt: skip
SUMMARY_TITLE = "Summary"
REJECTED_TITLE = "Rejected rows"
TTV_TITLE = "Revenue by TTV"
HEATMAP_TITLE = "Cohort heatmap"
HEADLINE_TITLE = "Key figures of the last month"
HEADLINE_KEYS = ("mrr_minor", "arr_minor", "customers", "arpa_minor", "logo_churn", "revenue_churn",
                 "gross_mrr_churn", "net_mrr_churn", "nrr_1", "grr_1", "nrr_12", "grr_12")  # fmt: skip
# Heatmap colours: white at 0 % retention, green at 100 % and above.
HEATMAP_LOW_COLOUR = "FFFFFF"
HEATMAP_HIGH_COLOUR = "63BE7B"


def sheets(
    result: RevenueResult, _: Callable[[str], str] = str
) -> list[tuple[str, pd.DataFrame]]:
    """Return the (English sheet title, table) pairs of the workbook."""
    pairs = [(title, getattr(result, attribute)) for title, attribute in SHEETS]
    pairs.append((REJECTED_TITLE, rejected_rows(result, _)))
    if result.ttv is not None:
        pairs.append((TTV_TITLE, result.ttv))
    return pairs


def rejected_rows(result: RevenueResult, _: Callable[[str], str] = str) -> pd.DataFrame:
    """Return the rejected input rows as a table (file, row, column, value,
    code, message), messages translated by ``_``."""
    rows = [{"file": e.params.get("file"), "row": e.params.get("row"),
             "column": e.params.get("column"), "value": e.params.get("value"),
             "code": e.code, "message": _(e.template).format(**e.params)}
            for e in result.rejections]  # fmt: skip
    return pd.DataFrame(
        rows, columns=["file", "row", "column", "value", "code", "message"]
    )


def export_excel(result: RevenueResult, path: Path, lang: str) -> Path:
    """Write every revenue table to an Excel workbook in ``lang``.

    Money is in major units of the base currency, shares as percentages,
    months as dates. The first sheet states population, window, rules,
    formulas and caveats.

    Returns
    -------
    Path
        ``path``, once written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = _gettext(lang)
    book = Workbook()
    summary = book.active
    summary.title = _safe_title(_(SUMMARY_TITLE))
    for row in summary_rows(result, _):
        summary.append(row)
    _write_headline(summary, result, _)
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 40
    used = {summary.title}
    for title, frame in sheets(result, _):
        sheet = book.create_sheet(_unique(_safe_title(_(title)), used))
        _write_frame(sheet, frame, result, _)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    _write_heatmap(
        book.create_sheet(_unique(_safe_title(_(HEATMAP_TITLE)), used)), result, _
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    logger.info("wrote the revenue workbook %s", path)
    return path


def _write_headline(sheet, result: RevenueResult, _) -> None:
    """Append the last month's key figures to the summary sheet, formatted."""
    figures = result.headline()
    if not figures:
        return
    sheet.append([])
    sheet.append([_(HEADLINE_TITLE), figures["month"]])
    sheet.cell(row=sheet.max_row, column=2).number_format = MONTH_FORMAT
    for key in HEADLINE_KEYS:
        sheet.append(
            [_(COLUMN_LABELS[key]), cell_value(key, figures.get(key), result, _)]
        )
        number_format = _format_of(key)
        if number_format:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format


def _write_heatmap(sheet, result: RevenueResult, _) -> None:
    """Write cohort revenue retention as a grid: cohorts down, months since start across."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    cohorts = result.cohorts
    width = int(cohorts["months_since"].max()) + 1 if not cohorts.empty else 0
    sheet.append([_(COLUMN_LABELS["cohort"]), *range(width)])
    for cohort, cells in cohorts.groupby("cohort"):
        by_since = dict(zip(cells["months_since"], cells["retention"]))
        sheet.append([cohort, *(by_since.get(since) for since in range(width))])
        sheet.cell(row=sheet.max_row, column=1).number_format = MONTH_FORMAT
    if width == 0:
        return
    area = f"B2:{get_column_letter(width + 1)}{sheet.max_row}"
    for row in sheet[area]:
        for cell in row:
            cell.number_format = SHARE_FORMAT
    sheet.conditional_formatting.add(area, ColorScaleRule(
        start_type="num", start_value=0, start_color=HEATMAP_LOW_COLOUR,
        end_type="num", end_value=1, end_color=HEATMAP_HIGH_COLOUR))  # fmt: skip
    sheet.freeze_panes = "B2"


def summary_rows(result: RevenueResult, _) -> list[list[object]]:
    """Return the rows of the summary sheet: labels and values."""
    rows: list[list[object]] = []
    if result.synthetic:
        rows.append([_(CAVEAT_MESSAGES["revenue.synthetic"])])
    first, last = (
        (result.months[0], result.months[-1]) if result.months else (None, None)
    )
    rows += [
        [_("Base currency"), result.base_currency],
        [_("Observed until"), result.as_of],
        [_("First month"), first], [_("Last month"), last],
        [_("Paying accounts over the period"), result.n_accounts],
        [_("Rejected rows"), len(result.rejections)],
    ]  # fmt: skip
    for key, label in RULE_LABELS.items():
        value = result.rules.get(key)
        display = (
            _(RULE_VALUE_LABELS[value])
            if _hashable(value) and value in RULE_VALUE_LABELS
            else value
        )
        rows.append(
            [_(label), float(display) if isinstance(display, Decimal) else display]
        )
    for reason, count in result.excluded.items():
        rows.append([_(EXCLUSION_LABELS.get(reason, reason)), count])
    rows += [[_("Formulas")], [_(result.formulas.get("ltv", ""))], [_(result.formulas.get("cac", ""))],
             [_(result.formulas.get("payback", ""))]]  # fmt: skip
    if result.caveats:
        rows.append([_("Caveats")])
        rows += [[_(CAVEAT_MESSAGES[code])] for code in result.caveats]
    return rows


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _safe_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:MAX_SHEET_NAME]


def _unique(title: str, used: set[str]) -> str:
    candidate, number = title, 2
    while candidate in used:
        suffix = f" {number}"
        candidate = title[: MAX_SHEET_NAME - len(suffix)] + suffix
        number += 1
    used.add(candidate)
    return candidate


def cell_value(column: str, value: object, result: RevenueResult, _) -> object:
    """Convert one table value for a spreadsheet or CSV cell."""
    if (
        value is None
        or value is pd.NA
        or (isinstance(value, float) and math.isnan(value))
    ):
        return None
    if column.endswith(MONEY_SUFFIX):
        return float(Decimal(str(value)).scaleb(-result.minor_digits))
    if column in TRANSLATED_VALUE_COLUMNS or (column == "value" and value == "all"):
        return _(VALUE_LABELS[value]) if value in VALUE_LABELS else value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_frame(sheet, frame: pd.DataFrame, result: RevenueResult, _) -> None:
    columns = list(frame.columns)
    sheet.append([_(COLUMN_LABELS.get(c, c)) for c in columns])
    # An Excel sheet has at most EXCEL_MAX_ROWS rows, header and note included.
    if len(frame) > EXCEL_MAX_ROWS - 2:
        logger.warning(
            "%s rows do not fit in one Excel sheet; writing the first ones", len(frame)
        )
        frame = frame.head(EXCEL_MAX_ROWS - 2)
        sheet.append([_(TRUNCATED_NOTE)])
    for record in frame.itertuples(index=False):
        sheet.append([cell_value(c, v, result, _) for c, v in zip(columns, record)])
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = (
            len(str(sheet.cell(row=1, column=index).value)) + HEADER_WIDTH_PADDING + 6
        )
        number_format = _format_of(column)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format


def _format_of(column: str) -> str | None:
    if column.endswith(MONEY_SUFFIX):
        return MONEY_FORMAT
    if column in SHARE_COLUMNS:
        return SHARE_FORMAT
    if column in ("month", "cohort", "window_start", "window_end"):
        return MONTH_FORMAT
    if column in ("invoice_date", "period_start", "period_end"):
        return DATE_FORMAT
    return None


def export_recognition_csv(
    result: RevenueResult, path: Path, lang: str, detail: bool = False
) -> Path:
    """Write recognised, deferred (PCA) and accrued (FAE) revenue by month to CSV.

    Parameters
    ----------
    detail
        Write one row per invoice line and month instead of monthly totals.
    lang
        ``"fr"`` writes ``;``-separated cells with decimal commas, as French
        spreadsheet software reads them; ``"en"`` writes ``,`` and points.
    """
    _ = _gettext(lang)
    frame = result.recognition_schedule if detail else result.recognition
    columns = list(frame.columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The byte-order mark lets spreadsheet software detect UTF-8 (accents in headers).
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=CSV_SEPARATORS[lang])
        writer.writerow([_(COLUMN_LABELS.get(c, c)) for c in columns])
        for record in frame.itertuples(index=False):
            writer.writerow(
                [_csv_cell(c, v, result, lang) for c, v in zip(columns, record)]
            )
    logger.info("wrote revenue recognition to %s", path)
    return path


def _csv_cell(column: str, value: object, result: RevenueResult, lang: str) -> str:
    if column.endswith(MONEY_SUFFIX):
        text = str(Decimal(int(value)).scaleb(-result.minor_digits))
        return text.replace(".", ",") if lang == "fr" else text
    if isinstance(value, dt.date) and column == "month":
        return value.strftime("%Y-%m")
    return str(value)
