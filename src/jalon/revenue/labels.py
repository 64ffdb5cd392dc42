"""English labels of revenue columns, movements and checks, marked for gettext.

Presentation code (CLI, report, Excel export) translates them; the analysis
modules only use the keys.
"""

from __future__ import annotations

from jalon.errors import N_

COLUMN_LABELS = {
    "month": N_("Month"),
    "account_id": N_("Account"),
    "mrr_minor": N_("MRR"),
    "arr_minor": N_("ARR"),
    "customers": N_("Paying accounts"),
    "paused": N_("Paused"),
    "new": N_("New business"),
    "expansion": N_("Expansion"),
    "contraction": N_("Contraction"),
    "churn": N_("Churn"),
    "reactivation": N_("Reactivation"),
    "net_change": N_("Net change"),
    "movement": N_("Movement"),
    "reason": N_("Reason"),
    "customers_start": N_("Accounts at start"),
    "mrr_start_minor": N_("MRR at start"),
    "churned_customers": N_("Churned accounts"),
    "logo_churn": N_("Logo churn"),
    "revenue_churn": N_("Revenue churn"),
    "gross_mrr_churn": N_("Gross MRR churn"),
    "net_mrr_churn": N_("Net MRR churn"),
    "horizon_months": N_("Horizon (months)"),
    "accounts": N_("Accounts"),
    "mrr_base_minor": N_("MRR at base month"),
    "mrr_now_minor": N_("MRR now"),
    "nrr": N_("NRR"),
    "grr": N_("GRR"),
    "cohort": N_("Cohort"),
    "months_since": N_("Months since start"),
    "retention": N_("Revenue retention"),
    "arpa_minor": N_("ARPA"),
    "dimension": N_("Dimension"),
    "value": N_("Value"),
    "window_start": N_("Window start"),
    "window_end": N_("Window end"),
    "gross_margin": N_("Gross margin"),
    "ltv_minor": N_("LTV"),
    "new_customers": N_("New customers"),
    "spend_minor": N_("Acquisition spend"),
    "cac_minor": N_("CAC"),
    "ltv_cac": N_("LTV/CAC"),
    "payback_months": N_("Payback (months)"),
    "invoiced_minor": N_("Invoiced"),
    "recognized_minor": N_("Recognised revenue"),
    "deferred_minor": N_("Deferred revenue"),
    "accrued_minor": N_("Accrued revenue"),
    "line_id": N_("Invoice line"),
    "invoice_id": N_("Invoice"),
    "invoice_date": N_("Invoice date"),
    "check": N_("Check"),
    "reference": N_("Reference"),
    "period_start": N_("Period start"),
    "period_end": N_("Period end"),
    "amount_at_stake_minor": N_("Amount at stake"),
    "expected_minor": N_("Expected amount"),
    "actual_minor": N_("Billed amount"),
    "renewals": N_("Renewals due"),
    "mrr_at_stake_minor": N_("MRR at stake"),
    "renewed_mrr_minor": N_("MRR kept"),
    "scenario": N_("Scenario"),
    "forecast_mrr_minor": N_("Forecast MRR"),
    "actual_mrr_minor": N_("Actual MRR"),
    "difference_minor": N_("Actual minus forecast"),
    "new_mrr_minor": N_("New MRR per month"),
    "churn_rate": N_("Monthly churn rate"),
    "expansion_rate": N_("Monthly expansion rate"),
    "new_mrr_source": N_("New MRR from"),
    "churn_rate_source": N_("Churn rate from"),
    "expansion_rate_source": N_("Expansion rate from"),
    "milestone": N_("Milestone"),
    "group": N_("Group"),
    "paying_accounts": N_("Paying accounts now"),
    "nrr_12": N_("NRR after 12 months"),
    "file": N_("File"),
    "row": N_("Row"),
    "column": N_("Column"),
    "code": N_("Code"),
    "message": N_("Message"),
}

VALUE_LABELS = {
    "new": N_("New business"),
    "expansion": N_("Expansion"),
    "contraction": N_("Contraction"),
    "churn": N_("Churn"),
    "reactivation": N_("Reactivation"),
    "voluntary": N_("cancelled or not renewed"),
    "delinquent": N_("unpaid invoice"),
    "paused": N_("paused"),
    "same_month": N_("started and churned the same month"),
    "omission": N_("Billing omission"),
    "overlap": N_("Overlapping or double-billed period"),
    "after_cancellation": N_("Invoice after cancellation"),
    "price_mismatch": N_("Amount differs from the plan price"),
    "base": N_("Base"),
    "optimistic": N_("Optimistic"),
    "pessimistic": N_("Pessimistic"),
    "trailing": N_("trailing actuals"),
    "config": N_("configuration"),
    "all": N_("All accounts"),
    "segment": N_("Segment"),
    "channel": N_("Channel"),
    "country": N_("Country"),
    "reached": N_("Reached (any time)"),
    "not_reached": N_("Not reached"),
}

EXCLUSION_LABELS = {
    "line_void": N_("Void invoice lines"),
    "line_trial": N_("Trial lines"),
    "line_one_off": N_("One-off lines (not recurring)"),
    "line_metered": N_("Metered lines (not recurring)"),
    "same_month_churn": N_("Accounts that started and churned in the same month"),
}

RULE_LABELS = {
    "churn_timing": N_("Churn counted at"),
    "delinquent_days": N_("Unpaid invoices stop counting after (days)"),
    "same_month_churn": N_("Start and churn in the same month"),
    "pause": N_("Pauses counted as"),
    "trailing_months": N_("Trailing window (months)"),
    "gross_margin": N_("Gross margin"),
}

RULE_VALUE_LABELS = {
    "period_end": N_("the end of the paid period"),
    "cancellation": N_("the cancellation date"),
    "count": N_("counted as new and churn"),
    "ignore": N_("left out and counted"),
    "churn": N_("churn, then reactivation"),
    "contraction": N_("contraction, then expansion"),
    None: N_("never"),
}

MONEY_SUFFIX = "_minor"
SHARE_COLUMNS = frozenset({
    "logo_churn", "revenue_churn", "gross_mrr_churn", "net_mrr_churn", "nrr", "grr",
    "retention", "gross_margin", "churn_rate", "expansion_rate", "nrr_12",
})  # fmt: skip
TRANSLATED_VALUE_COLUMNS = frozenset({
    "movement", "reason", "check", "scenario", "dimension", "new_mrr_source",
    "churn_rate_source", "expansion_rate_source", "group",
})  # fmt: skip
