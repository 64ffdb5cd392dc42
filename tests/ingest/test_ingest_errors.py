"""Bad input stops the load with an InputError naming file, row, column and value."""

from __future__ import annotations

import json

import pytest
from babel.messages.pofile import read_po
from ingest_helpers import column, events_spec, write

from jalon.errors import InputError
from jalon.i18n import LOCALES_DIR
from jalon.ingest import AccountColumns, AccountSource, load_project

GOOD = "account_id,event,timestamp\na1,login,2024-03-01 10:00:00\n"


def load_error(store, tmp_path, spec=None, accounts=None) -> InputError:
    with pytest.raises(InputError) as caught:
        load_project(store, spec or events_spec(), accounts, tmp_path)
    return caught.value


def test_missing_column_suggests_close_name(store, tmp_path):
    path = write(
        tmp_path / "events.csv", "account_id,event,time_stamp\na1,login,2024-03-01\n"
    )

    error = load_error(store, tmp_path)

    assert error.code == "input.missing_column"
    assert error.params["file"] == str(path)
    assert error.params["column"] == "timestamp"
    assert error.params["suggestion"] == "time_stamp"
    assert "events.columns.timestamp" in str(error)


def test_bad_timestamp_names_row_and_value(store, tmp_path):
    path = write(
        tmp_path / "events.csv",
        "account_id,event,timestamp\n"
        "a1,login,2024-03-01 10:00:00\n"
        "a2,login,\n"
        "a3,login,31/02/2024 10h\n",
    )

    error = load_error(store, tmp_path)

    assert error.code == "input.bad_timestamp"
    # Header is row 1, so the third data row is row 4; the blank cell on row 3
    # is an exclusion, not an error.
    assert error.params["row"] == 4
    assert error.params["column"] == "timestamp"
    assert error.params["value"] == "31/02/2024 10h"
    assert str(path) in str(error)
    assert "events.timestamp_format" in str(error)


def test_bad_timestamp_json_line_number(store, tmp_path):
    lines = [
        {"account_id": "a1", "event": "e", "timestamp": "2024-03-01"},
        {"account_id": "a1", "event": "e", "timestamp": "yesterday"},
    ]
    write(tmp_path / "events.jsonl", "".join(json.dumps(line) + "\n" for line in lines))

    error = load_error(store, tmp_path, events_spec(["events.jsonl"]))

    assert error.code == "input.bad_timestamp"
    assert error.params["row"] == 2
    assert error.params["value"] == "yesterday"


def test_bad_timestamp_row_counts_blank_lines(store, tmp_path):
    write(
        tmp_path / "events.csv",
        "account_id,event,timestamp,note\n"
        'a1,login,2024-03-01,"two\nlines"\n'
        "\n"
        "a2,login,never,\n",
    )

    error = load_error(store, tmp_path)

    # Line 1 header, lines 2-3 one quoted record, line 4 blank, line 5 the bad one.
    assert error.params["row"] == 5


def test_bad_timestamp_json_line_after_blank(store, tmp_path):
    write(
        tmp_path / "events.jsonl",
        '{"account_id": "a1", "event": "e", "timestamp": "2024-03-01"}\n'
        "\n"
        '{"account_id": "a2", "event": "e", "timestamp": "never"}\n',
    )

    error = load_error(store, tmp_path, events_spec(["events.jsonl"]))

    assert error.params["row"] == 3


def test_empty_file(store, tmp_path):
    path = write(tmp_path / "events.csv", "")

    error = load_error(store, tmp_path)

    assert error.code == "input.empty_file"
    assert error.params["file"] == str(path)


def test_wrong_delimiter_names_the_right_one(store, tmp_path):
    write(tmp_path / "events.csv", GOOD.replace(",", ";"))

    error = load_error(store, tmp_path, events_spec(delimiter=","))

    assert error.code == "input.wrong_delimiter"
    assert error.params["found"] == ";"
    assert error.params["row"] == 1
    assert error.params["value"] == "account_id;event;timestamp"
    assert 'events.delimiter = ";"' in str(error)


def test_bad_encoding_names_row_column_value(store, tmp_path):
    body = "account_id,event,timestamp,city\n" + "a1,login,2024-03-01,Paris\n" * 3
    (tmp_path / "events.csv").write_bytes(
        body.encode() + "a2,login,2024-03-02,Orléans\n".encode("latin-1")
    )

    error = load_error(store, tmp_path)

    assert error.code == "input.bad_encoding"
    # Header row 1, three good rows, so the latin-1 row is row 5.
    assert error.params["row"] == 5
    assert error.params["column"] == "city"
    assert "Orl" in error.params["value"]
    assert 'events.encoding = "latin-1"' in str(error)


def test_bad_encoding_in_reencoded_file(store, tmp_path):
    # 0x81 is not a cp1252 character, so re-encoding to UTF-8 fails on row 3.
    body = b"account_id,event,timestamp,city\na1,login,2024-03-01,Paris\n"
    (tmp_path / "events.csv").write_bytes(body + b"a2,login,2024-03-02,Li\x81ge\n")

    error = load_error(store, tmp_path, events_spec(encoding="cp1252"))

    assert error.code == "input.bad_encoding"
    assert error.params["row"] == 3
    assert error.params["column"] == "city"
    assert error.params["value"] == "Li\\x81ge"


def test_bad_encoding_in_header(store, tmp_path):
    (tmp_path / "events.csv").write_bytes(
        "account_id,event,timestamp,année\n".encode("latin-1")
    )

    error = load_error(store, tmp_path)

    assert error.code == "input.bad_encoding"
    assert error.params["row"] == 1


def test_duplicate_column_ignoring_case(store, tmp_path):
    write(
        tmp_path / "events.csv",
        "account_id,event,timestamp,Plan,plan\na1,e,2024-03-01,x,y\n",
    )

    error = load_error(store, tmp_path)

    assert error.code == "input.duplicate_column"
    assert error.params["column"] == "plan"
    assert error.params["row"] == 1


def test_unknown_format(store, tmp_path):
    (tmp_path / "events.bin").write_bytes(b"\x00\x01\x02binary\x00")

    error = load_error(store, tmp_path, events_spec(["events.bin"]))

    assert error.code == "input.unknown_format"
    assert "events.format" in str(error)


def test_no_files_for_glob(store, tmp_path):
    error = load_error(store, tmp_path, events_spec(["exports/*.csv"]))

    assert error.code == "input.no_files"
    assert error.params["value"] == "exports/*.csv"


def test_csv_row_with_extra_column(store, tmp_path):
    write(tmp_path / "events.csv", GOOD + "a2,login,2024-03-02,extra\n")

    error = load_error(store, tmp_path)

    assert error.code == "input.bad_row"
    # Header row 1, good row 2, the row with four fields is row 3.
    assert error.params["row"] == 3
    assert "events.delimiter" in str(error)


def test_malformed_json_line(store, tmp_path):
    write(
        tmp_path / "events.jsonl",
        '{"account_id": "a1", "event": "e", "timestamp": "2024-03-01"}\n{"account_id": oops}\n',
    )

    error = load_error(store, tmp_path, events_spec(["events.jsonl"]))

    assert error.code == "input.bad_row"
    assert error.params["row"] == 2
    assert error.params["value"] == '{"account_id": oops}'


def test_conflicting_account_rows(store, tmp_path):
    write(tmp_path / "events.csv", GOOD)
    write(tmp_path / "accounts.csv", "id,plan\na1,pro\na2,free\na1,free\n")
    accounts = AccountSource("accounts.csv", AccountColumns("id"))

    error = load_error(store, tmp_path, accounts=accounts)

    assert error.code == "input.duplicate_account_id"
    assert error.params["row"] == 4
    assert error.params["other_row"] == 2
    assert error.params["value"] == "a1"


def test_missing_segment_column(store, tmp_path):
    write(tmp_path / "events.csv", GOOD)
    write(tmp_path / "accounts.csv", "id,plan\na1,pro\n")
    accounts = AccountSource("accounts.csv", AccountColumns("id", ("plann",)))

    error = load_error(store, tmp_path, accounts=accounts)

    assert error.code == "input.missing_column"
    assert "accounts.columns.segments" in str(error)


def test_failed_file_leaves_nothing(store, tmp_path):
    write(tmp_path / "a.csv", GOOD)
    write(tmp_path / "b.csv", GOOD.replace("a1", "b1") + "b2,login,not a date\n")

    load_error(store, tmp_path, events_spec(["a.csv", "b.csv"]))

    # a.csv committed before b.csv failed, and b.csv left no event and no file row.
    assert column(store, "account_id") == ["a1"]
    assert store.files()["path"].tolist() == [str(tmp_path / "a.csv")]


def test_failed_reload_keeps_old_rows(store, tmp_path):
    path = write(tmp_path / "events.csv", GOOD)
    load_project(store, events_spec(), None, tmp_path)
    write(path, GOOD + "a2,login,soon\n")

    load_error(store, tmp_path)

    assert column(store, "account_id") == ["a1"]


def test_every_ingest_message_has_french_entry():
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "ingest.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    translated = {message.id for message in catalog if message.id and message.string}

    for template in ingest_templates():
        assert template in translated, template


def ingest_templates() -> list[str]:
    """Return every N_() template of jalon.ingest and of the DuckDB store modules."""
    import ast
    from pathlib import Path

    import jalon

    root = Path(jalon.__file__).parent
    store_modules = [
        root / "store" / name for name in ("__init__.py", "schema.py", "store.py")
    ]
    templates = []
    for path in sorted((root / "ingest").glob("*.py")) + store_modules:
        for node in ast.walk(ast.parse(path.read_text())):
            is_marker = (
                isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"
            )
            if is_marker and isinstance(node.args[0], ast.Constant):
                templates.append(node.args[0].value)
    return templates


# Each case: file name, its bytes, EventSource options, then the texts the
# English message must contain besides the file path: row, column and value.
MESSAGE_CASES = [
    (
        "events.csv",
        b"account_id,event,timestamp\na1,login,2024-03-01\na2,login,31/02/2024\n",
        {},
        ["row 3", "column timestamp", "31/02/2024"],
    ),
    (
        "events.csv",
        b"account_id;event;timestamp\na1;login;2024-03-01\n",
        {"delimiter": ","},
        ["row 1", "account_id;event;timestamp", 'events.delimiter = ";"'],
    ),
    (
        "events.csv",
        b"account_id,event,timestamp,city\na1,login,2024-03-01,Li\xe8ge\n",
        {},
        ["row 2", "column city", "Li\\xe8ge"],
    ),
    (
        "events.csv",
        b"account_id,event,timestamp,Plan,plan\na1,e,2024-03-01,x,y\n",
        {},
        ["row 1", "plan"],
    ),
    (
        "events.jsonl",
        b'{"account_id": "a1", "event": "e", "timestamp": 1e30}\n',
        {},
        ["row 1", "column timestamp", "1e+30"],
    ),
]


@pytest.mark.parametrize(("name", "content", "options", "expected"), MESSAGE_CASES)
def test_message_names_file_row_column_value(
    store, tmp_path, name, content, options, expected
):
    (tmp_path / name).write_bytes(content)

    error = load_error(store, tmp_path, events_spec([name], **options))
    message = str(error)

    assert str(tmp_path / name) in message
    for text in expected:
        assert text in message, text
