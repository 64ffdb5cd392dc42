"""Cohort retention and churn by start period, with median TTV per cohort.

:func:`parse_cohorts` validates the ``[cohorts]`` table of jalon.toml;
:func:`compute_cohorts` returns a :class:`CohortResult`. Periods and the
observability rule are documented in :mod:`jalon.cohorts.periods`, the
matrices and the churn spike in :mod:`jalon.cohorts.matrix`.
"""

from jalon.cohorts.result import CohortResult
from jalon.cohorts.run import compute_cohorts
from jalon.cohorts.spec import CohortSpec, parse_cohorts

__all__ = ["CohortResult", "CohortSpec", "compute_cohorts", "parse_cohorts"]
