"""The ``[alerts]`` and ``[serve]`` tables of jalon.toml, validated.

``[alerts]`` keys (every one optional):

``rule``
    ``"percentile"`` (default): an account is late past the given percentile
    of its segment's Kaplan-Meier time to the milestone. ``"days"``: late past
    a fixed number of days.
``percentile``
    Share whose Kaplan-Meier time is the expected time: 0.5, 0.75 (default)
    or 0.9, the percentiles the analysis computes.
``days``
    Expected days when ``rule = "days"``: a number, or a table of numbers by
    milestone id (milestones it leaves out are not checked).
``segment``
    Segment column whose values get their own expected time; default the
    first configured segment, or none (the whole population).
``milestones``
    Milestone ids to check; default every milestone.
``state``
    SQLite file of the accounts already alerted, relative to jalon.toml;
    default ``.jalon/alerts.sqlite``.
``retries``, ``backoff_seconds``, ``timeout_seconds``
    Attempts after the first failed one (default 3), the wait before the
    first retry, doubled at each retry (default 2.0 s), and the timeout of
    one attempt (default 10.0 s).
``language``
    ``"en"`` or ``"fr"`` for the email text; default ``"en"``.
``[alerts.webhook]``
    ``url`` (required), ``secret`` (HMAC-SHA256 key of the
    ``X-Jalon-Signature`` header; ``secret_env`` names an environment
    variable holding it instead).
``[alerts.email]``
    ``host`` and ``to`` (required), ``port`` (25), ``from``
    (``jalon@localhost``), ``starttls`` (false), ``username``, ``password``
    or ``password_env``.

``[serve]`` keys: ``refresh_seconds`` (minimum age of the dashboard's
figures before a page request recomputes them, default 60) and
``alerts_interval_minutes`` (period of the server's alert runs; 0, the
default, runs none).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jalon.errors import N_
from jalon.milestones.spec import check_keys, config_error
from jalon.survival.summary import DEFAULT_QUANTILES

RULE_PERCENTILE = "percentile"
RULE_DAYS = "days"
RULES = (RULE_PERCENTILE, RULE_DAYS)
DEFAULT_PERCENTILE = 0.75
DEFAULT_STATE = ".jalon/alerts.sqlite"
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 2.0
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_SMTP_PORT = 25
DEFAULT_SENDER = "jalon@localhost"
DEFAULT_REFRESH_S = 60.0
DEFAULT_ALERTS_INTERVAL_MIN = 0.0
LANGUAGES = ("en", "fr")

ALERT_KEYS = (
    "rule",
    "percentile",
    "days",
    "segment",
    "milestones",
    "state",
    "retries",
    "backoff_seconds",
    "timeout_seconds",
    "language",
    "webhook",
    "email",
)
WEBHOOK_KEYS = ("url", "secret", "secret_env")
EMAIL_KEYS = (
    "host",
    "port",
    "from",
    "to",
    "starttls",
    "username",
    "password",
    "password_env",
)
SERVE_KEYS = ("refresh_seconds", "alerts_interval_minutes")


@dataclass(frozen=True)
class WebhookSettings:
    """Address and signing secret of the JSON webhook."""

    url: str
    secret: str | None


@dataclass(frozen=True)
class EmailSettings:
    """SMTP server, sender and recipients of the alert email."""

    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool
    username: str | None
    password: str | None


@dataclass(frozen=True)
class AlertSettings:
    """The validated ``[alerts]`` table (see the module docstring for each key)."""

    rule: str = RULE_PERCENTILE
    percentile: float = DEFAULT_PERCENTILE
    days: float | dict[str, float] | None = None
    segment: str | None = None
    milestones: tuple[str, ...] | None = None
    state_path: Path = Path(DEFAULT_STATE)
    retries: int = DEFAULT_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    language: str = "en"
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None

    def expected_days_for(self, milestone_id: str) -> float | None:
        """Return the fixed expected days of a milestone under ``rule = "days"``."""
        if isinstance(self.days, dict):
            return self.days.get(milestone_id)
        return self.days


@dataclass(frozen=True)
class ServeSettings:
    """The validated ``[serve]`` table."""

    refresh_s: float = DEFAULT_REFRESH_S
    alerts_interval_min: float = DEFAULT_ALERTS_INTERVAL_MIN


def parse_alert_settings(
    raw: Mapping[str, Any],
    base_dir: Path,
    segments: tuple[str, ...] = (),
    milestone_ids: tuple[str, ...] = (),
) -> AlertSettings:
    """Validate the ``[alerts]`` table of jalon.toml.

    Parameters
    ----------
    raw
        The table as read from TOML (``config.alerts``).
    base_dir
        Folder of jalon.toml; ``state`` is relative to it.
    segments, milestone_ids
        The configured segments and milestones, which ``segment``,
        ``milestones`` and ``days`` must name.

    Raises
    ------
    ConfigError
        With the key path under ``alerts`` and the invalid value.

    Examples
    --------
    >>> parse_alert_settings({"rule": "days", "days": 14}, Path("/p")).days
    14.0
    """
    check_keys(dict(raw), ALERT_KEYS, "alerts")
    rule = raw.get("rule", RULE_PERCENTILE)
    if rule not in RULES:
        raise _invalid("alerts.rule", rule, ", ".join(RULES))
    percentile = _number(raw.get("percentile", DEFAULT_PERCENTILE), "alerts.percentile")
    if percentile not in DEFAULT_QUANTILES:
        allowed = ", ".join(f"{q:g}" for q in DEFAULT_QUANTILES)
        raise _invalid("alerts.percentile", percentile, allowed)
    days = _parse_days(raw.get("days"), milestone_ids)
    if rule == RULE_DAYS and days is None:
        raise _invalid("alerts.days", None, N_('a number of days when rule = "days"'))
    segment = raw.get("segment", segments[0] if segments else None)
    if segment is not None and segment not in segments:
        raise _invalid("alerts.segment", segment, ", ".join(segments) or "-")
    return AlertSettings(
        rule=rule,
        percentile=percentile,
        days=days,
        segment=segment,
        milestones=_parse_milestone_ids(raw.get("milestones"), milestone_ids),
        state_path=(base_dir / _text(raw.get("state", DEFAULT_STATE), "alerts.state")),
        retries=int(
            _non_negative(raw.get("retries", DEFAULT_RETRIES), "alerts.retries")
        ),
        backoff_s=_non_negative(
            raw.get("backoff_seconds", DEFAULT_BACKOFF_S), "alerts.backoff_seconds"
        ),
        timeout_s=_positive(
            raw.get("timeout_seconds", DEFAULT_TIMEOUT_S), "alerts.timeout_seconds"
        ),
        language=_language(raw.get("language", "en")),
        webhook=_parse_webhook(raw.get("webhook")),
        email=_parse_email(raw.get("email")),
    )


def parse_serve_settings(raw: Mapping[str, Any]) -> ServeSettings:
    """Validate the ``[serve]`` table of jalon.toml.

    >>> parse_serve_settings({"alerts_interval_minutes": 30}).alerts_interval_min
    30.0
    """
    check_keys(dict(raw), SERVE_KEYS, "serve")
    return ServeSettings(
        refresh_s=_non_negative(
            raw.get("refresh_seconds", DEFAULT_REFRESH_S), "serve.refresh_seconds"
        ),
        alerts_interval_min=_non_negative(
            raw.get("alerts_interval_minutes", DEFAULT_ALERTS_INTERVAL_MIN),
            "serve.alerts_interval_minutes",
        ),
    )


def settings_from_config(config: Any) -> AlertSettings:
    """Return the alert settings of a loaded :class:`jalon.config.Config`."""
    return parse_alert_settings(
        getattr(config, "alerts", {}) or {},
        config.base_dir,
        tuple(config.segments),
        tuple(m.id for m in config.milestones),
    )


def _invalid(path: str, value: Any, allowed: str):
    return config_error(
        "config.invalid_value",
        N_("Invalid value at {path}: {value}. Expected {allowed}."),
        path,
        value,
        allowed=allowed,
    )


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid(path, value, N_("a number"))
    return float(value)


def _non_negative(value: Any, path: str) -> float:
    number = _number(value, path)
    if number < 0:
        raise _invalid(path, value, N_("a number of at least 0"))
    return number


def _positive(value: Any, path: str) -> float:
    number = _number(value, path)
    if number <= 0:
        raise _invalid(path, value, N_("a number above 0"))
    return number


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid(path, value, N_("a non-empty string"))
    return value


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise _invalid("alerts.language", value, ", ".join(LANGUAGES))
    return value


def _parse_days(
    value: Any, milestone_ids: tuple[str, ...]
) -> float | dict[str, float] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        days = {}
        for key, item in value.items():
            if milestone_ids and key not in milestone_ids:
                raise _invalid(f"alerts.days.{key}", key, ", ".join(milestone_ids))
            days[key] = _positive(item, f"alerts.days.{key}")
        return days
    return _positive(value, "alerts.days")


def _parse_milestone_ids(
    value: Any, milestone_ids: tuple[str, ...]
) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid("alerts.milestones", value, N_("a list of milestone ids"))
    for index, item in enumerate(value):
        if milestone_ids and item not in milestone_ids:
            raise _invalid(
                f"alerts.milestones[{index}]", item, ", ".join(milestone_ids)
            )
    return tuple(value)


def _secret(table: Mapping[str, Any], key: str, path: str) -> str | None:
    if key in table:
        return _text(table[key], f"{path}.{key}")
    env_name = table.get(f"{key}_env")
    if env_name is None:
        return None
    env_name = _text(env_name, f"{path}.{key}_env")
    if env_name not in os.environ:
        raise _invalid(
            f"{path}.{key}_env", env_name, N_("the name of a set environment variable")
        )
    return os.environ[env_name]


def _parse_webhook(value: Any) -> WebhookSettings | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid("alerts.webhook", value, N_("a table"))
    check_keys(value, WEBHOOK_KEYS, "alerts.webhook")
    url = _text(value.get("url"), "alerts.webhook.url")
    if not url.startswith(("http://", "https://")):
        raise _invalid("alerts.webhook.url", url, N_("an http:// or https:// address"))
    return WebhookSettings(url=url, secret=_secret(value, "secret", "alerts.webhook"))


def _parse_email(value: Any) -> EmailSettings | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid("alerts.email", value, N_("a table"))
    check_keys(value, EMAIL_KEYS, "alerts.email")
    to = value.get("to")
    if isinstance(to, str):
        to = [to]
    if (
        not isinstance(to, list)
        or not to
        or not all(isinstance(item, str) for item in to)
    ):
        raise _invalid("alerts.email.to", to, N_("a list of email addresses"))
    port = _positive(value.get("port", DEFAULT_SMTP_PORT), "alerts.email.port")
    starttls = value.get("starttls", False)
    if not isinstance(starttls, bool):
        raise _invalid("alerts.email.starttls", starttls, "true, false")
    username = value.get("username")
    return EmailSettings(
        host=_text(value.get("host"), "alerts.email.host"),
        port=int(port),
        sender=_text(value.get("from", DEFAULT_SENDER), "alerts.email.from"),
        to=tuple(to),
        starttls=starttls,
        username=_text(username, "alerts.email.username")
        if username is not None
        else None,
        password=_secret(value, "password", "alerts.email"),
    )
