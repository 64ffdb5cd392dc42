"""Mixpanel, Amplitude and PostHog exports load with their preset alone.

Fixtures in tests/data follow each vendor's documented export layout; see
the module docstring of jalon.ingest.presets for the mapping.
"""

from __future__ import annotations

import gzip
import shutil

from ingest_helpers import DATA_DIR, column, utc

from jalon.ingest import EventColumns, EventSource, load_project, preset_columns

# The config loader passes "" for every column the user left to the preset.
EMPTY = EventColumns(account_id="", event="", timestamp="")


def preset_spec(preset: str, path: str, columns: EventColumns = EMPTY) -> EventSource:
    return EventSource(paths=(path,), columns=columns, preset=preset)


def copy_fixture(name: str, tmp_path, compress: bool = False):
    target = tmp_path / (name + (".gz" if compress else ""))
    if compress:
        target.write_bytes(gzip.compress((DATA_DIR / name).read_bytes()))
    else:
        shutil.copy(DATA_DIR / name, target)
    return target.name


def test_mixpanel_preset(store, tmp_path):
    name = copy_fixture("mixpanel_export.jsonl", tmp_path)

    summary = load_project(store, preset_spec("mixpanel", name), None, tmp_path)

    # The fourth line repeats $insert_id i2.
    assert summary.files[0].excluded == {"duplicate": 1}
    assert column(store, "account_id") == ["u1", "u1", "u2"]
    assert column(store, "event_id") == ["i1", "i2", "i3"]
    # time 1709283600 is 2024-03-01 09:00 UTC; the next two add 1 h and 2 h.
    assert column(store, "ts") == [
        utc(2024, 3, 1, 9),
        utc(2024, 3, 1, 10),
        utc(2024, 3, 1, 11),
    ]
    assert column(store, "p_properties_plan") == ["pro", "pro", None]
    assert "properties.time" not in store.properties()


def test_mixpanel_group_accounts(store, tmp_path):
    name = copy_fixture("mixpanel_export.jsonl", tmp_path)
    columns = EventColumns(account_id="group:company_id", event="", timestamp="")

    load_project(store, preset_spec("mixpanel", name, columns), None, tmp_path)

    assert column(store, "account_id") == ["acme", "acme", "acme"]
    assert column(store, "user_id") == ["u1", "u1", "u2"]


def test_amplitude_preset_gzip_and_utc(store, tmp_path):
    name = copy_fixture("amplitude_export.jsonl", tmp_path, compress=True)

    # event_time is UTC in Amplitude exports, whatever project.timezone says.
    summary = load_project(
        store, preset_spec("amplitude", name), None, tmp_path, timezone="Europe/Paris"
    )

    assert summary.files[0].excluded == {"missing_account_id": 1}
    assert column(store, "ts") == [
        utc(2024, 3, 1, 9, 0, 0, 123000),
        utc(2024, 3, 1, 10),
        utc(2024, 3, 1, 11),
    ]
    assert column(store, "event") == ["sign_up", "create_project", "sign_up"]
    assert column(store, "event_id") == ["e1", "e2", "e4"]
    assert column(store, "p_event_properties_source") == ["ads", None, "seo"]


def test_amplitude_group_takes_first_value(store, tmp_path):
    name = copy_fixture("amplitude_export.jsonl", tmp_path)
    columns = preset_columns("amplitude", group_type="company")

    load_project(store, preset_spec("amplitude", name, columns), None, tmp_path)

    assert column(store, "account_id") == ["acme", "acme", "beta"]


def test_posthog_preset(store, tmp_path):
    name = copy_fixture("posthog_export.jsonl", tmp_path)

    summary = load_project(store, preset_spec("posthog", name), None, tmp_path)

    assert summary.files[0].excluded == {"duplicate": 1}
    # 10:00+01:00 is 09:00 UTC; 09:30Z and 11:00Z stay.
    assert column(store, "ts") == [
        utc(2024, 3, 1, 9),
        utc(2024, 3, 1, 9, 30),
        utc(2024, 3, 1, 11),
    ]
    assert column(store, "account_id") == ["p1", "p1", "p2"]
    assert store.properties()["properties.$current_url"] == "p_properties__current_url"


def test_posthog_group_and_user_override(store, tmp_path):
    name = copy_fixture("posthog_export.jsonl", tmp_path)
    columns = EventColumns(
        account_id="group:company", event="", timestamp="", user_id="distinct_id"
    )

    load_project(store, preset_spec("posthog", name, columns), None, tmp_path)

    assert column(store, "account_id") == ["acme", "acme", "beta"]
    assert column(store, "user_id") == ["p1", "p1", "p2"]


def test_preset_columns_overrides():
    columns = preset_columns("mixpanel", event="properties.action")

    assert columns.event == "properties.action"
    assert columns.account_id == "properties.distinct_id"
