"""Plain-language descriptions of conditions, durations, starts and churn rules."""

from __future__ import annotations

import pytest

from jalon.i18n import translations
from jalon.i18n.labels import (
    caveat_label,
    exclusion_reason_label,
    file_kind_label,
    file_status_label,
    tier_label,
)
from jalon.report.describe import (
    describe_churn,
    describe_condition,
    describe_duration,
    describe_start,
    describe_where,
    language_of,
)

NBSP = "\u00a0"

CONDITION_CASES = [
    # (condition table, English, French)
    ({"event": "login"}, "first `login` event", "premier événement `login`"),
    (
        {
            "event": "report_shared",
            "count": 3,
            "where": {"plan": "pro"},
            "within": "7d",
        },
        "3rd `report_shared` event with `plan` = pro, within 7 days of the start",
        "3e événement `report_shared` avec `plan` = pro, "
        "au plus 7 jours après le point de départ",
    ),
    ({"event": "x", "count": 21}, "21st `x` event", "21e événement `x`"),
    ({"event": "x", "count": 12}, "12th `x` event", "12e événement `x`"),
    ({"count": 2}, "2nd event", "2e événement"),
    (
        {"event": ["question_posted", "answer_posted"], "start": "trial"},
        "first `question_posted` or `answer_posted` event, counted from the start "
        "`trial`",
        "premier événement `question_posted` ou `answer_posted`, compté à partir du "
        "point de départ `trial`",
    ),
    (
        {"distinct": "event", "count": 3, "event": ["a", "b"]},
        "3 distinct events among `a` or `b` events",
        "3 événements distincts parmi les événements `a` ou `b`",
    ),
    (
        {"distinct": "page", "count": 1},
        "1 distinct value of `page`",
        "1 valeur distincte de `page`",
    ),
    (
        {"active_days": 3, "event": "login", "within": "14d"},
        "activity on at least 3 distinct days, counting `login` events, within 14 "
        "days of the start",
        "activité sur au moins 3 jours distincts, en comptant les événements "
        "`login`, au plus 14 jours après le point de départ",
    ),
    (
        {"users": 3, "event": "login"},
        "at least 3 users of the account each reach: first `login` event",
        f"au moins 3 utilisateurs du compte atteignent chacun{NBSP}: "
        "premier événement `login`",
    ),
    (
        {"users": 1, "event": "login"},
        "at least 1 user of the account reaches: first `login` event",
        f"au moins 1 utilisateur du compte atteint{NBSP}: premier événement `login`",
    ),
    (
        {"all_of": [{"event": "a"}, {"event": "b", "count": 2}]},
        "all of: (first `a` event) and (2nd `b` event)",
        f"toutes ces conditions{NBSP}: (premier événement `a`) et (2e événement `b`)",
    ),
    (
        {"any_of": [{"event": "a"}, {"active_days": 2}]},
        "any of: (first `a` event) or (activity on at least 2 distinct days)",
        f"l'une de ces conditions{NBSP}: (premier événement `a`) ou "
        "(activité sur au moins 2 jours distincts)",
    ),
    (
        {
            "sequence": [
                {"event": "open"},
                {"event": "share", "where": {"plan": {"in": ["pro", "team"]}}},
            ],
            "gap": "36h",
            "within": 1.5,
        },
        "sequence: `open` event → `share` event with `plan` is pro or team, each "
        "step within 36 hours of the previous one, within 1.5 days of the start",
        f"séquence{NBSP}: événement `open` → événement `share` avec `plan` vaut pro "
        "ou team, chaque étape au plus 36 heures après la précédente, au plus "
        "1,5 jour après le point de départ",
    ),
]


@pytest.mark.parametrize(("condition", "english", "french"), CONDITION_CASES)
def test_describe_condition_english(condition, english, french):
    assert describe_condition(condition, translations("en").gettext, "en") == english


@pytest.mark.parametrize(("condition", "english", "french"), CONDITION_CASES)
def test_describe_condition_french(condition, english, french):
    assert describe_condition(condition, translations("fr").gettext, "fr") == french


def test_describe_condition_ignores_milestone_identity():
    gettext = translations("en").gettext
    table = {"id": "first_login", "name": "First login", "tier": "basic", "event": "x"}

    assert describe_condition(table, gettext, "en") == "first `x` event"


WHERE_CASES = [
    (
        {"score": {"gt": 0, "lt": 5}},
        "`score` > 0 and `score` < 5",
        "`score` > 0 et `score` < 5",
    ),
    (
        {"seats": {"ge": 10}, "plan": {"ne": "free"}},
        "`seats` ≥ 10 and `plan` ≠ free",
        None,
    ),
    ({"ratio": {"le": 0.25}}, "`ratio` ≤ 0.25", "`ratio` ≤ 0,25"),
    ({"p": {"is_set": True}}, "`p` is set", "`p` est renseigné"),
    ({"p": {"is_set": False}}, "`p` is not set", "`p` n'est pas renseigné"),
    ({"q": {"not_in": [1, 2.5]}}, "`q` is not 1 or 2.5", "`q` ne vaut pas 1 ou 2,5"),
    ({"r": {"contains": "abc"}}, "`r` contains abc", "`r` contient abc"),
    ({"flag": True}, "`flag` = true", "`flag` = true"),
    (
        {"r": {"contains": "abc"}, "any": [{"s": {"ge": 10}}, {"t": {"ne": "free"}}]},
        "`r` contains abc and (`s` ≥ 10 or `t` ≠ free)",
        "`r` contient abc et (`s` ≥ 10 ou `t` ≠ free)",
    ),
    (
        {"any": [{"a": 1, "b": 2}, {"c": 3}]},
        "(`a` = 1 and `b` = 2) or `c` = 3",
        "(`a` = 1 et `b` = 2) ou `c` = 3",
    ),
    ({"all": [{"a": 1}]}, "`a` = 1", "`a` = 1"),
]


@pytest.mark.parametrize(("where", "english", "french"), WHERE_CASES)
def test_describe_where(where, english, french):
    assert describe_where(where, translations("en").gettext, "en") == english
    if french is not None:
        assert describe_where(where, translations("fr").gettext, "fr") == french


DURATION_CASES = [
    ("90m", "90 minutes", "90 minutes"),
    ("1h", "1 hour", "1 heure"),
    ("36h", "36 hours", "36 heures"),
    ("1d", "1 day", "1 jour"),
    ("2w", "2 weeks", "2 semaines"),
    ("30s", "30 seconds", "30 secondes"),
    (7, "7 days", "7 jours"),
    # CLDR: French keeps the singular below 2, English only for exactly 1.
    (1.5, "1.5 days", "1,5 jour"),
    (0, "0 days", "0 jour"),
]


@pytest.mark.parametrize(("duration", "english", "french"), DURATION_CASES)
def test_describe_duration(duration, english, french):
    assert describe_duration(duration, translations("en").gettext, "en") == english
    assert describe_duration(duration, translations("fr").gettext, "fr") == french


def test_describe_duration_rejects_invalid_text():
    with pytest.raises(ValueError, match="invalid duration '7 days'"):
        describe_duration("7 days", translations("en").gettext, "en")


@pytest.mark.parametrize(
    ("start", "english", "french"),
    [
        (
            {"column": "signup_at"},
            "the date in the accounts column `signup_at`",
            "la date de la colonne `signup_at` du fichier des comptes",
        ),
        (
            {"event": ["signed_up"]},
            "first `signed_up` event of the account",
            "premier événement `signed_up` du compte",
        ),
    ],
)
def test_describe_start(start, english, french):
    assert describe_start(start, translations("en").gettext, "en") == english
    assert describe_start(start, translations("fr").gettext, "fr") == french


@pytest.mark.parametrize(
    ("churn", "english", "french"),
    [
        (
            None,
            "No churn rule: accounts are observed until the end of the window.",
            f"Aucune règle de churn{NBSP}: les comptes sont observés jusqu'à la fin "
            "de la fenêtre.",
        ),
        (
            {"event": ["subscription_cancelled"]},
            "first `subscription_cancelled` event after the start",
            "premier événement `subscription_cancelled` après le point de départ",
        ),
        (
            {"inactivity_days": 30, "last_seen_column": None},
            "no event for 30 days",
            "aucun événement pendant 30 jours",
        ),
        (
            {"inactivity_days": 30, "last_seen_column": "last_seen_at"},
            "no activity for 30 days after the date in the accounts column "
            "`last_seen_at`",
            "aucune activité pendant 30 jours après la date de la colonne "
            "`last_seen_at` du fichier des comptes",
        ),
        (
            {"column": "cancelled_at"},
            "the cancellation date in the accounts column `cancelled_at`",
            "la date de résiliation de la colonne `cancelled_at` du fichier des "
            "comptes",
        ),
    ],
)
def test_describe_churn(churn, english, french):
    assert describe_churn(churn, translations("en").gettext, "en") == english
    assert describe_churn(churn, translations("fr").gettext, "fr") == french


@pytest.mark.parametrize(
    ("tier", "english", "french"),
    [
        ("basic", "Time to Basic Value", "Time to Basic Value (valeur de base)"),
        ("exceed", "Time to Exceed Value", "Time to Exceed Value (valeur dépassée)"),
        (
            "full_adoption",
            "Time to Full Adoption",
            "Time to Full Adoption (adoption complète)",
        ),
    ],
)
def test_tier_label(tier, english, french):
    assert tier_label(tier, translations("en").gettext) == english
    assert tier_label(tier, translations("fr").gettext) == french


def test_labels_unknown_code_stays_visible():
    gettext = translations("fr").gettext

    assert (
        exclusion_reason_label("new_reason", gettext) == "new_reason (sans description)"
    )
    assert caveat_label("new_caveat", gettext) == "new_caveat (sans description)"


def test_exclusion_reason_label_french():
    gettext = translations("fr").gettext

    assert exclusion_reason_label("before_start", gettext) == (
        "événement antérieur au point de départ du compte"
    )


def test_describe_condition_reads_language_of_gettext():
    condition = {"event": "report_shared", "count": 3}

    # No lang argument: the French catalog behind gettext sets the ordinal.
    assert describe_condition(condition, translations("fr").gettext) == (
        "3e événement `report_shared`"
    )


def test_language_of_plain_function_is_english():
    assert language_of(lambda text: text) == "en"


@pytest.mark.parametrize(
    ("function", "code", "french"),
    [
        (file_status_label, "reloaded", "rechargé (contenu modifié)"),
        (file_status_label, "unchanged", "inchangé"),
        (file_kind_label, "accounts", "comptes"),
        (
            exclusion_reason_label,
            "after_end",
            "événement postérieur à la fin de l'observation",
        ),
        (
            caveat_label,
            "none_reached",
            "Aucun compte n'a atteint le jalon dans la fenêtre d'observation.",
        ),
    ],
)
def test_code_labels_french(function, code, french):
    assert function(code, translations("fr").gettext) == french
