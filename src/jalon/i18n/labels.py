"""Display names of the stable codes that results carry.

Results store codes (exclusion reasons, milestone tiers, caveats) and never
text. The CLI, the report and the dashboard turn them into words here, so
the three read the same. Each function takes the ``gettext`` function of the
chosen language.
"""

from __future__ import annotations

from collections.abc import Callable

from jalon.errors import N_

Gettext = Callable[[str], str]

TIER_LABELS = {
    "basic": N_("Time to Basic Value"),
    "exceed": N_("Time to Exceed Value"),
    "full_adoption": N_("Time to Full Adoption"),
}

EXCLUSION_REASONS = {
    "missing_account_id": N_("missing account id"),
    "missing_event": N_("missing event name"),
    "duplicate": N_("duplicate row"),
    "before_start": N_("event before the account's start"),
    "no_start": N_("account without a start"),
    "start_after_end": N_("start after the end of observation"),
    "not_in_accounts": N_("account missing from the accounts file"),
    "no_milestone_start": N_("account without the milestone's own start"),
    "missing_user_id": N_("missing user id"),
    "after_end": N_("event after the end of observation"),
    "exclusion_event": N_("exclusion event during the attempt"),
    "missing_timestamp": N_("missing timestamp"),
    "invalid_timestamp": N_("invalid timestamp"),
}

CAVEATS = {
    "few_at_risk": N_(
        "Few accounts were still at risk at a reported percentile, so its "
        "interval is wide."
    ),
    "median_not_reached": N_(
        "Fewer than half of the accounts reached the milestone within the "
        "window, so the median is not defined."
    ),
    "percentile_not_reached": N_(
        "Some percentiles are not reached within the window, so they are not defined."
    ),
    "none_reached": N_("No account reached the milestone within the window."),
    "horizon_beyond_follow_up": N_(
        "Some horizons lie beyond the longest observed time: the share shown "
        "there is the last one observed."
    ),
    "churn_as_censoring": N_(
        "Churned accounts are counted as still observed (Kaplan-Meier), which "
        "overstates the share that reached the milestone."
    ),
}

FILE_STATUSES = {
    "loaded": N_("loaded"),
    "reloaded": N_("reloaded (content changed)"),
    "unchanged": N_("unchanged"),
}

FILE_KINDS = {
    "events": N_("events"),
    "accounts": N_("accounts"),
}

UNKNOWN_CODE = N_("{code} (no description)")


def tier_label(tier: str, _: Gettext) -> str:
    """Return the display name of a milestone tier, such as ``Time to Basic Value``.

    >>> tier_label("basic", lambda text: text)
    'Time to Basic Value'
    """
    return _describe_code(TIER_LABELS, tier, _)


def exclusion_reason_label(reason: str, _: Gettext) -> str:
    """Return the display name of an exclusion reason code."""
    return _describe_code(EXCLUSION_REASONS, reason, _)


def caveat_label(code: str, _: Gettext) -> str:
    """Return the sentence that explains a caveat code."""
    return _describe_code(CAVEATS, code, _)


def file_status_label(status: str, _: Gettext) -> str:
    """Return the display name of a load status (``loaded``, ``unchanged``...)."""
    return _describe_code(FILE_STATUSES, status, _)


def file_kind_label(kind: str, _: Gettext) -> str:
    """Return the display name of a file kind (``events`` or ``accounts``)."""
    return _describe_code(FILE_KINDS, kind, _)


def _describe_code(labels: dict[str, str], code: str, _: Gettext) -> str:
    if code in labels:
        return _(labels[code])
    return _(UNKNOWN_CODE).format(code=code)
