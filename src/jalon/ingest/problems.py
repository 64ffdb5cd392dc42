"""Builders of the input errors raised while loading files.

Each error names the file, and where it applies the row, the column, the
value and the jalon.toml key to change. Rows are numbered as a text editor or
spreadsheet shows them: the header line of a CSV file is row 1, a JSON lines
file is numbered by line, a Parquet file by record from 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from jalon.errors import N_, InputError, TimestampError

#: Maximum length of a value quoted in a message, in characters.
MAX_VALUE_CHARS = 80
#: Most column names listed when a column is not found.
MAX_LISTED_COLUMNS = 20


def shorten(value: object) -> str:
    """Return ``value`` as text cut to :data:`MAX_VALUE_CHARS` characters."""
    text = "" if value is None else str(value)
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + "…"
    return text


def no_files(pattern: str, resolved: str, section: str) -> InputError:
    return InputError(
        "input.no_files",
        N_(
            "No data file found for {value} (looked in {file}). Check {key} in "
            "jalon.toml: paths are relative to the folder of jalon.toml."
        ),
        file=resolved,
        value=pattern,
        key=f"{section}.paths" if section == "events" else f"{section}.path",
    )


def empty_file(file: str) -> InputError:
    return InputError(
        "input.empty_file",
        N_("The file {file} is empty. Export it again or remove it from the folder."),
        file=file,
    )


def unknown_format(file: str, section: str) -> InputError:
    return InputError(
        "input.unknown_format",
        N_(
            "Cannot tell the format of {file} from its name or content. Set "
            '{key} = "csv", "parquet", "jsonl" or "excel" in jalon.toml.'
        ),
        file=file,
        key=f"{section}.format",
    )


def missing_column(
    file: str, column: str, available: Sequence[str], key: str
) -> InputError:
    listed = ", ".join(available[:MAX_LISTED_COLUMNS])
    if len(available) > MAX_LISTED_COLUMNS:
        listed += ", …"
    params = {"file": file, "column": column, "available": listed, "key": key}
    close = difflib.get_close_matches(column, list(available), n=1)
    if close:
        return InputError(
            "input.missing_column",
            N_(
                "Column {column} not found in {file}. Did you mean {suggestion}? "
                "Set {key} in jalon.toml to a column of the file: {available}."
            ),
            suggestion=close[0],
            **params,
        )
    return InputError(
        "input.missing_column",
        N_(
            "Column {column} not found in {file}. Set {key} in jalon.toml to a "
            "column of the file: {available}."
        ),
        **params,
    )


def wrong_delimiter(
    file: str, header: str, used: str, found: str, section: str
) -> InputError:
    return InputError(
        "input.wrong_delimiter",
        N_(
            "{file}, row {row}: the header reads as a single column {value} when "
            "split on {used}, and the file seems to use {found}. Set {key} = "
            '"{found}" in jalon.toml.'
        ),
        file=file,
        row=1,
        column=shorten(header),
        value=shorten(header),
        used=_show_delimiter(used),
        found=_show_delimiter(found),
        key=f"{section}.delimiter",
    )


def bad_encoding(
    file: str, row: int, column: str, value: str, encoding: str, section: str
) -> InputError:
    return InputError(
        "input.bad_encoding",
        N_(
            "{file}, row {row}, column {column}: {value} is not valid {encoding}. "
            'Set {key} to the encoding of the file, for example {key} = "latin-1".'
        ),
        file=file,
        row=row,
        column=column,
        value=shorten(value),
        encoding=encoding,
        key=f"{section}.encoding",
    )


def duplicate_column(file: str, column: str) -> InputError:
    return InputError(
        "input.duplicate_column",
        N_(
            "{file}, row {row}: the column name {column} appears more than once "
            "(names are compared ignoring case). Rename one of them in the file."
        ),
        file=file,
        row=1,
        column=column,
        value=column,
    )


def clashing_properties(file: str, names: Sequence[str], column: str) -> InputError:
    return InputError(
        "input.duplicate_column",
        N_(
            "{file}: the properties {value} would share the store column {column}. "
            "List only one of them in events.columns.properties, or rename one "
            "in the file."
        ),
        file=file,
        column=column,
        value=", ".join(names),
    )


def bad_timestamp(
    file: str, row: int, column: str, value: str, timestamp_format: str, key: str
) -> TimestampError:
    return TimestampError(
        "input.bad_timestamp",
        N_(
            "{file}, row {row}, column {column}: cannot read {value} as a "
            "timestamp (format {format}). Set {key} in jalon.toml to a strftime "
            'pattern such as "%d/%m/%Y %H:%M", or to "iso", "epoch_s" or '
            '"epoch_ms".'
        ),
        file=file,
        row=row,
        column=column,
        value=shorten(value),
        format=timestamp_format,
        key=key,
    )


def bad_row(file: str, row: int | None, detail: str, section: str) -> InputError:
    return InputError(
        "input.bad_row",
        N_(
            "{file}, row {row}: the row cannot be read ({value}). Check its "
            "quotes and the delimiter ({key} in jalon.toml)."
        ),
        file=file,
        row=row if row is not None else "?",
        value=shorten(detail),
        key=f"{section}.delimiter",
    )


def unreadable(file: str, detail: str, section: str) -> InputError:
    return InputError(
        "input.unreadable",
        N_(
            "Cannot read {file}: {value}. Check that the file is complete and that "
            "{key} in jalon.toml matches it."
        ),
        file=file,
        value=shorten(detail),
        key=f"{section}.format",
    )


def conflicting_account(
    file: str, row: int, column: str, value: str, other_row: int
) -> InputError:
    return InputError(
        "input.duplicate_account_id",
        N_(
            "{file}, row {row}, column {column}: account {value} is also on row "
            "{other_row} with different values. Keep one row per account."
        ),
        file=file,
        row=row,
        column=column,
        value=shorten(value),
        other_row=other_row,
    )


def _show_delimiter(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter
