"""Recurring-revenue analytics from billing exports: MRR and its movements,
churn and retention, unit economics, revenue recognition, billing checks,
renewals and forecasts, and revenue by Time to Value.

Typical use::

    spec = parse_revenue_config(config["revenue"], base_dir)
    result = run_revenue(spec, store_path)
    export_excel(result, Path("revenue.xlsx"), "fr")
"""

from jalon.revenue.config import RevenueSpec, parse_revenue_config
from jalon.revenue.export import export_excel, export_recognition_csv
from jalon.revenue.load import BillingData, load_billing
from jalon.revenue.result import CAVEAT_MESSAGES, RevenueResult, analyse, run_revenue

__all__ = [
    "CAVEAT_MESSAGES",
    "BillingData",
    "RevenueResult",
    "RevenueSpec",
    "analyse",
    "export_excel",
    "export_recognition_csv",
    "load_billing",
    "parse_revenue_config",
    "run_revenue",
]
