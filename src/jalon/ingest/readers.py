"""Readers: one DuckDB table function per format, with flattened columns.

Each reader returns a :class:`Source`: the SQL ``FROM`` item that streams the
file (``read_csv``, ``read_parquet``, ``read_json``, or a registered frame
for Excel) and its columns by the name users write in jalon.toml. Nested
JSON and Parquet structs are flattened to dotted paths, so
``{"properties": {"plan": "pro"}}`` gives the column ``properties.plan``.
JSON values of mixed types are read as text. CSV columns are read as text
and typed from every value of the file (BOOLEAN, BIGINT, DOUBLE or VARCHAR).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from jalon.errors import N_, ConfigError
from jalon.ingest import problems
from jalon.ingest.files import CANDIDATE_DELIMITERS, DataFile, guess_delimiter
from jalon.ingest.locate import field_at, translate_error
from jalon.store.schema import quote_identifier, quote_literal

logger = logging.getLogger(__name__)

#: Encodings DuckDB's CSV reader decodes itself, by Python codec name. Others,
#: UTF-16 included, are re-encoded to UTF-8 first, so that the header line and
#: error lines can be read byte by byte.
NATIVE_CSV_ENCODINGS = {"utf-8": "utf-8", "iso8859-1": "latin-1"}


@dataclass(frozen=True)
class Column:
    """A readable value of the source: its config name, SQL and DuckDB type."""

    name: str
    sql: str
    type: str


@dataclass
class Source:
    """An opened data file, ready to be selected from."""

    file: DataFile
    from_sql: str
    columns: dict[str, Column]
    header_rows: int
    section: str
    delimiter: str | None = None
    header: tuple[str, ...] = ()
    encoding: str = "utf-8"
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Release registered frames and temporary files."""
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()


def open_source(
    con: duckdb.DuckDBPyConnection,
    data_file: DataFile,
    section: str,
    delimiter: str | None,
    encoding: str,
    text_columns: Iterable[str] = (),
) -> Source:
    """Open ``data_file`` for reading through DuckDB.

    Parameters
    ----------
    con
        The DuckDB connection that will run the query.
    data_file
        The file with its detected format and compression.
    section
        ``"events"`` or ``"accounts"``: the jalon.toml section named in errors.
    delimiter, encoding
        CSV options from the config; ``delimiter=None`` guesses it from the header.
    text_columns
        CSV columns to read as text whatever their content (ids, timestamps).
    """
    source_path = data_file.path
    cleanups: list[Callable[[], None]] = []
    codec = _codec_name(encoding, section)
    if data_file.format in ("csv", "jsonl") and codec not in _native_codecs(
        data_file.format
    ):
        source_path = _transcode_to_utf8(data_file, encoding, section, delimiter)
        cleanups.append(lambda: source_path.unlink(missing_ok=True))
        codec = "utf-8"
        compression = None
    else:
        compression = data_file.compression

    try:
        if data_file.format == "csv":
            source = _open_csv(
                con,
                data_file,
                source_path,
                compression,
                section,
                delimiter,
                codec,
                set(text_columns),
            )
        elif data_file.format == "jsonl":
            source = _open_json(con, data_file, source_path, compression, section)
        elif data_file.format == "parquet":
            source = _open_parquet(con, data_file, section)
        elif data_file.format == "excel":
            source = _open_excel(con, data_file, section)
        else:
            raise problems.unknown_format(str(data_file.path), section)
    except BaseException:
        for cleanup in cleanups:
            cleanup()
        raise
    source.cleanups.extend(cleanups)
    source.encoding = _codec_name(encoding, section)
    return source


def _codec_name(encoding: str, section: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError as error:
        raise ConfigError(
            "config.invalid_value",
            N_("Invalid value at {path}: {value}. Expected {allowed}."),
            path=f"{section}.encoding",
            value=encoding,
            allowed='an encoding name such as "utf-8", "latin-1" or "cp1252"',
        ) from error


def _native_codecs(file_format: str) -> tuple[str, ...]:
    if file_format == "csv":
        return tuple(NATIVE_CSV_ENCODINGS)
    return ("utf-8",)


def _transcode_to_utf8(
    data_file: DataFile, encoding: str, section: str, delimiter: str | None
) -> Path:
    """Re-encode a file DuckDB cannot decode into a temporary UTF-8 file.

    Lines are decoded one at a time, so an invalid byte is reported on its own
    line, with its column when the file is CSV.
    """
    target = Path(tempfile.gettempdir()) / f"jalon-{uuid.uuid4().hex}.utf8"
    logger.info(
        "re-encoding %s from %s to UTF-8 in %s", data_file.path, encoding, target
    )
    opener = gzip.open if data_file.compression == "gzip" else open
    decoder = codecs.getincrementaldecoder(encoding)()
    header = ""
    line_number = 0
    raw_line = b""
    try:
        with (
            opener(data_file.path, "rb") as raw,
            target.open("w", encoding="utf-8", newline="") as out,
        ):
            for line_number, raw_line in enumerate(raw, start=1):
                text = decoder.decode(raw_line)
                header = header or text
                out.write(text)
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as error:
        target.unlink(missing_ok=True)
        column, value = field_at(raw_line, error.start, encoding, header, delimiter)
        raise problems.bad_encoding(
            str(data_file.path), line_number, column, value, encoding, section
        ) from error
    return target


def _open_csv(
    con: duckdb.DuckDBPyConnection,
    data_file: DataFile,
    source_path: Path,
    compression: str | None,
    section: str,
    delimiter: str | None,
    codec: str,
    text_columns: set[str],
) -> Source:
    header_line = _read_header_line(data_file, source_path, compression, codec, section)
    used = delimiter or guess_delimiter(header_line)
    names = next(csv.reader([header_line], delimiter=used, quotechar='"'))
    _check_header(str(data_file.path), header_line, names, used, section)

    # DuckDB's sniffer is off because, in DuckDB 2.0.1, a small file with a
    # malformed row in its sample returned no rows at all instead of an error.
    # Every column is read as text and typed below from the whole file.
    text_types = ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in names)
    options = {
        "delim": quote_literal(used),
        "quote": "'\"'",
        "escape": "'\"'",
        "header": "true",
        "auto_detect": "false",
        "strict_mode": "true",
        "columns": "{" + text_types + "}",
        "encoding": quote_literal(NATIVE_CSV_ENCODINGS.get(codec, "utf-8")),
        "compression": quote_literal(compression or "none"),
    }
    rendered = ", ".join(f"{key} = {value}" for key, value in options.items())
    from_sql = f"read_csv({quote_literal(str(source_path))}, {rendered})"
    context = (data_file, section, used, tuple(names))
    types = _infer_text_types(
        con, from_sql, [n for n in names if n not in text_columns], context
    )
    columns = {}
    for name in names:
        column_type = types.get(name, "VARCHAR")
        sql = quote_identifier(name)
        if column_type != "VARCHAR":
            sql = f"CAST({sql} AS {column_type})"
        columns[name] = Column(name, sql, column_type)
    return Source(
        data_file,
        from_sql,
        columns,
        header_rows=1,
        section=section,
        delimiter=used,
        header=tuple(names),
    )


def _read_header_line(
    data_file: DataFile,
    source_path: Path,
    compression: str | None,
    codec: str,
    section: str,
) -> str:
    opener = gzip.open if compression == "gzip" else open
    python_codec = "utf-8-sig" if codec == "utf-8" else codec
    with opener(source_path, "rb") as raw:
        first = raw.readline()
    try:
        line = first.decode(python_codec)
    except UnicodeDecodeError as error:
        snippet = first[max(0, error.start - 20) : error.end + 20]
        raise problems.bad_encoding(
            str(data_file.path), 1, "?", repr(snippet), codec, section
        ) from error
    line = line.rstrip("\r\n")
    if not line.strip():
        raise problems.empty_file(str(data_file.path))
    return line


def _check_header(
    file: str, header_line: str, names: list[str], used: str, section: str
) -> None:
    if len(names) == 1:
        others = [c for c in CANDIDATE_DELIMITERS if c != used and c in names[0]]
        if others:
            found = max(others, key=names[0].count)
            raise problems.wrong_delimiter(file, header_line, used, found, section)

    seen: dict[str, str] = {}
    for name in names:
        folded = name.casefold()
        if folded in seen:
            raise problems.duplicate_column(file, name)
        seen[folded] = name


def _open_json(
    con: duckdb.DuckDBPyConnection,
    data_file: DataFile,
    source_path: Path,
    compression: str | None,
    section: str,
) -> Source:
    layout = (
        "array"
        if _starts_with_bracket(source_path, compression)
        else "newline_delimited"
    )
    # NOTE: sample_size = -1 scans the whole file to infer the schema, which
    # costs a second pass but keeps keys that first appear late in the file.
    from_sql = (
        f"read_json({quote_literal(str(source_path))}, format = "
        f"{quote_literal(layout)}, "
        f"compression = {quote_literal(compression or 'none')}, sample_size = -1, "
        "map_inference_threshold = -1)"
    )
    columns = _describe(con, from_sql, data_file, section)
    return Source(data_file, from_sql, columns, header_rows=0, section=section)


def _starts_with_bracket(path: Path, compression: str | None) -> bool:
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rb") as handle:
        head = handle.read(4096)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def _open_parquet(
    con: duckdb.DuckDBPyConnection, data_file: DataFile, section: str
) -> Source:
    from_sql = f"read_parquet({quote_literal(str(data_file.path))})"
    columns = _describe(con, from_sql, data_file, section)
    return Source(data_file, from_sql, columns, header_rows=0, section=section)


def _open_excel(
    con: duckdb.DuckDBPyConnection, data_file: DataFile, section: str
) -> Source:
    # NOTE: Excel sheets are read whole into pandas through openpyxl. A sheet has
    # at most 1,048,576 rows, so memory is bounded, but this is the only reader
    # that does not stream.
    try:
        frame = pd.read_excel(
            data_file.path, engine="openpyxl", header=None, dtype=object
        )
    except (ValueError, OSError, KeyError) as error:
        raise problems.unreadable(str(data_file.path), str(error), section) from error
    if frame.empty:
        raise problems.empty_file(str(data_file.path))

    names = ["" if pd.isna(value) else str(value) for value in frame.iloc[0]]
    _check_header(str(data_file.path), ",".join(names), names, ",", section)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = names
    body = body.apply(_typed_column)

    view = f"_jalon_excel_{uuid.uuid4().hex}"
    con.register(view, body)
    columns = _describe(con, quote_identifier(view), data_file, section)
    source = Source(
        data_file, quote_identifier(view), columns, header_rows=1, section=section
    )
    source.cleanups.append(lambda: con.unregister(view))
    return source


def _typed_column(values: pd.Series) -> pd.Series:
    """Type an Excel column: numbers, datetimes or booleans when uniform, else text."""
    present = values.dropna()
    if present.empty:
        return values.astype("string")
    kinds = {type(value) for value in present}
    if kinds <= {int}:
        return values.astype("Int64")
    if kinds <= {int, float}:
        return values.astype("Float64")
    if kinds <= {bool}:
        return values.astype("boolean")
    if kinds <= {pd.Timestamp, dt.datetime}:
        return pd.to_datetime(values).dt.floor("us")
    return values.map(lambda value: None if pd.isna(value) else str(value)).astype(
        "string"
    )


def _describe(
    con: duckdb.DuckDBPyConnection,
    from_sql: str,
    data_file: DataFile,
    section: str,
    delimiter: str | None = None,
    header: tuple[str, ...] = (),
) -> dict[str, Column]:
    try:
        relation = con.sql(f"SELECT * FROM {from_sql}")
        names, types = relation.columns, relation.types
    except duckdb.Error as error:
        raise translate_error(error, data_file, section, delimiter, header) from error
    columns: dict[str, Column] = {}
    for name, engine_type in zip(names, types, strict=True):
        _flatten(name, quote_identifier(name), engine_type, columns)
    return columns


def _flatten(name: str, sql: str, engine_type: object, out: dict[str, Column]) -> None:
    type_text = str(engine_type)
    if getattr(engine_type, "id", "") == "struct":
        for child_name, child_type in engine_type.children:  # type: ignore[attr-defined]
            child_sql = f"struct_extract({sql}, {quote_literal(child_name)})"
            _flatten(f"{name}.{child_name}", child_sql, child_type, out)
        return
    if type_text == "JSON":
        out[name] = Column(name, f"json_extract_string({sql}, '$')", "VARCHAR")
        return
    out[name] = Column(name, sql, type_text)


def _infer_text_types(
    con: duckdb.DuckDBPyConnection,
    from_sql: str,
    names: list[str],
    context: tuple[DataFile, str, str, tuple[str, ...]],
) -> dict[str, str]:
    """Return BOOLEAN, BIGINT, DOUBLE or VARCHAR for each text column, from all rows.

    A column gets the first type that every non-empty value converts to; an
    empty column stays VARCHAR. This scan also reports malformed rows.
    """
    if not names:
        checks = ["count(*)"]
    else:
        checks = []
        for name in names:
            quoted = quote_identifier(name)
            checks += [
                f"count({quoted})",
                (
                    f"count({quoted}) FILTER (WHERE lower(trim({quoted})) NOT IN "
                    "('true', 'false'))"
                ),
                # try_cast rounds "2.5" to the integer 3, so integers are matched
                # as text; 18 digits always fit in BIGINT.
                (
                    f"count({quoted}) FILTER "
                    f"(WHERE NOT regexp_full_match(trim({quoted}), "
                    f"'[+-]?[0-9]{{1,18}}'))"
                ),
                f"count({quoted}) FILTER (WHERE try_cast({quoted} AS DOUBLE) IS NULL)",
            ]
    try:
        counts = con.execute(f"SELECT {', '.join(checks)} FROM {from_sql}").fetchall()[
            0
        ]
    except duckdb.Error as error:
        raise translate_error(error, *context) from error

    types = {}
    for index, name in enumerate(names):
        present, not_boolean, not_integer, not_number = counts[
            4 * index : 4 * index + 4
        ]
        if present == 0:
            types[name] = "VARCHAR"
        elif not_boolean == 0:
            types[name] = "BOOLEAN"
        elif not_integer == 0:
            types[name] = "BIGINT"
        elif not_number == 0:
            types[name] = "DOUBLE"
        else:
            types[name] = "VARCHAR"
    return types
