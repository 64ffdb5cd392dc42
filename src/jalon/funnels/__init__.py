"""Onboarding funnels: ordered steps, conversion windows and friction points.

:func:`parse_funnel` validates a ``[[funnels]]`` table of jalon.toml;
:func:`compute_funnel` runs it on the events table and returns a
:class:`FunnelResult`. The semantics are documented in
:mod:`jalon.funnels.paths` (attempts, orders, windows) and
:mod:`jalon.funnels.stats` (conversion, censoring, friction).
"""

from jalon.funnels.result import FunnelResult
from jalon.funnels.run import compute_funnel
from jalon.funnels.spec import FunnelSpec, StepSpec, parse_funnel

__all__ = ["FunnelResult", "FunnelSpec", "StepSpec", "compute_funnel", "parse_funnel"]
