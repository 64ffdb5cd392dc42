"""Locating a reader error in the file: the row, column and value to report.

DuckDB's messages give a line number at best, so the functions here read the
original file in Python to find the exact line, column and text. They run
only on the error path.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from typing import TYPE_CHECKING

from jalon.ingest import problems
from jalon.ingest.files import DataFile, guess_delimiter

if TYPE_CHECKING:
    from jalon.ingest.readers import Source

_LINE_PATTERN = re.compile(r"(?:on Line|in line|line):? (\d+)", re.IGNORECASE)


def translate_error(
    error: Exception,
    data_file: DataFile,
    section: str,
    delimiter: str | None = None,
    header: tuple[str, ...] = (),
) -> Exception:
    """Turn a DuckDB reader error into an :class:`InputError` naming the row."""
    message = str(error)
    file = str(data_file.path)
    line_match = _LINE_PATTERN.search(message)
    line = int(line_match.group(1)) if line_match else None
    first_line = message.splitlines()[0] if message else type(error).__name__

    if "Invalid unicode" in message or "not utf-8 encoded" in message:
        raw_line = _raw_line(data_file, line) if line else b""
        column, value = _locate_invalid_bytes(raw_line, delimiter, header)
        return problems.bad_encoding(file, line or 0, column, value, "utf-8", section)
    if data_file.format == "jsonl" and "Malformed JSON" in message:
        line, text = _first_bad_json_line(data_file)
        return problems.bad_row(file, line, text or first_line, section)
    if data_file.format in ("csv", "jsonl") and line is not None:
        return problems.bad_row(file, line, first_line, section)
    return problems.unreadable(file, first_line, section)


def _raw_line(data_file: DataFile, line: int) -> bytes:
    """Return line ``line`` (1-based) of the file as bytes, without its newline."""
    opener = gzip.open if data_file.compression == "gzip" else open
    with opener(data_file.path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == line:
                return raw.rstrip(b"\r\n")
    return b""


def _locate_invalid_bytes(
    raw_line: bytes, delimiter: str | None, header: tuple[str, ...]
) -> tuple[str, str]:
    """Return the column and the field text holding the first invalid UTF-8 byte."""
    try:
        raw_line.decode("utf-8")
        return "?", raw_line.decode("utf-8")
    except UnicodeDecodeError as error:
        start = error.start
    text = raw_line.decode("utf-8", errors="backslashreplace")
    if not delimiter:
        return "?", text
    # Count delimiters before the bad byte; quoted delimiters are rare in the
    # columns such bytes appear in, so this index is a close estimate.
    index = raw_line[:start].count(delimiter.encode())
    fields = text.split(delimiter)
    column = header[index] if index < len(header) else str(index + 1)
    value = fields[index] if index < len(fields) else text
    return column, value


def file_row(source: Source, record: int) -> int:
    """Return the row number users see for data record ``record`` (1-based).

    DuckDB's readers skip blank lines, so ``row_number()`` counts records. A
    text file is scanned here to turn the record number into its line number.
    For CSV this is the line where the record starts, the header being line 1.
    This reads the file up to that record, so call it only to report an error.
    """
    if source.file.format not in ("csv", "jsonl"):
        return record + source.header_rows
    opener = gzip.open if source.file.compression == "gzip" else open
    with opener(source.file.path, "rb") as raw:
        text = io.TextIOWrapper(
            raw, encoding=source.encoding, errors="replace", newline=""
        )
        if source.file.format == "jsonl":
            return _jsonl_line(text, record)
        return _csv_line(text, record, source.delimiter or ",")


def _jsonl_line(text: io.TextIOWrapper, record: int) -> int:
    seen = 0
    for line_number, line in enumerate(text, start=1):
        if line.strip():
            seen += 1
            if seen == record:
                return line_number
    return record


def _csv_line(text: io.TextIOWrapper, record: int, delimiter: str) -> int:
    reader = csv.reader(text, delimiter=delimiter, quotechar='"')
    next(reader, None)
    seen = 0
    start_line = reader.line_num + 1
    for fields in reader:
        if fields and any(field_text.strip() for field_text in fields):
            seen += 1
            if seen == record:
                return start_line
        start_line = reader.line_num + 1
    return record + 1


def _first_bad_json_line(data_file: DataFile) -> tuple[int | None, str]:
    """Return the line number and text of the first line that is not valid JSON."""
    opener = gzip.open if data_file.compression == "gzip" else open
    with opener(data_file.path, "rb") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            text = raw_line.decode("utf-8", errors="backslashreplace").strip()
            if not text:
                continue
            try:
                json.loads(text)
            except ValueError:
                return line_number, text
    return None, ""


def field_at(
    raw_line: bytes, position: int, encoding: str, header: str, delimiter: str | None
) -> tuple[str, str]:
    """Return the column name and field text around byte ``position`` of a line."""
    text = raw_line.decode(encoding, errors="backslashreplace").rstrip("\r\n")
    if not header or delimiter is None and not header.strip():
        return "?", text
    separator = delimiter or guess_delimiter(header)
    prefix = raw_line[:position].decode(encoding, errors="replace")
    index = prefix.count(separator)
    names = next(csv.reader([header.rstrip("\r\n")], delimiter=separator))
    fields = text.split(separator)
    column = names[index] if index < len(names) else str(index + 1)
    value = fields[index] if index < len(fields) else text
    return column, value
