"""Read CSV or Excel files and find their columns under English or French headers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from jalon.errors import N_, InputError
from jalon.revenue.parse import CellError, is_blank, normalise_header

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_ENCODINGS = ("utf-8-sig", "cp1252")
# A CSV header is line 1, so data row i (0-based) is line i + 2.
FIRST_DATA_ROW = 2


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed) or Excel file with every cell as text or
    native Excel value, keeping empty cells empty."""
    if not path.exists():
        raise InputError(
            "input.file_not_found",
            N_("File not found: {file}; check the path in the [revenue] section."),
            file=str(path),
        )  # fmt: skip
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return pd.read_excel(path, dtype=object, keep_default_na=False)
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=None,
                engine="python", encoding=encoding,
            )  # fmt: skip
        except UnicodeDecodeError:
            logger.info("%s is not %s, trying the next encoding", path, encoding)
    raise InputError(
        "input.bad_encoding",
        N_("{file} is neither UTF-8 nor Windows-1252 text; save it as UTF-8 CSV."),
        file=str(path),
    )  # fmt: skip


def find_columns(
    frame: pd.DataFrame,
    synonyms: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    overrides: dict[str, str],
    path: Path,
) -> dict[str, str]:
    """Map canonical names to the file's headers.

    A header matches when its normalised form is one of the synonyms, or when
    ``overrides`` names it. A missing required column raises InputError.
    """
    by_normal = {normalise_header(header): header for header in frame.columns}
    found: dict[str, str] = {}
    for name, candidates in synonyms.items():
        if name in overrides:
            header = overrides[name]
            if header in frame.columns:
                found[name] = header
                continue
            # The same overrides serve every billing file, so a header missing
            # from this file falls back to the usual names.
            candidates = (normalise_header(header), *candidates)
        for candidate in candidates:
            if candidate in by_normal:
                found[name] = by_normal[candidate]
                break
    for name in required:
        if name not in found:
            raise InputError(
                "input.missing_column",
                N_("{file}: no column for '{column}'; name a column {allowed} "
                   "or map it under [revenue.columns]."),
                file=str(path), column=name, allowed=" / ".join(synonyms[name]),
            )  # fmt: skip
    return found


def iter_rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (file row number, row as dict) pairs; the header is row 1."""
    for position, record in enumerate(frame.to_dict("records")):
        yield position + FIRST_DATA_ROW, record


class RowReader:
    """Read typed cells of one row, turning parse failures into InputError."""

    def __init__(
        self, path: Path, row: int, record: dict[str, Any], columns: dict[str, str]
    ):
        self.path = path
        self.row = row
        self.record = record
        self.columns = columns

    def raw(self, name: str) -> Any:
        header = self.columns.get(name)
        return None if header is None else self.record.get(header)

    def has(self, name: str) -> bool:
        return not is_blank(self.raw(name))

    def error(self, name: str, code: str, template: str) -> InputError:
        return InputError(
            code, template, file=str(self.path), row=self.row,
            column=self.columns.get(name, name), value=str(self.raw(name) or ""),
        )  # fmt: skip

    def get(self, name: str, parser: Callable[[Any], Any], default: Any = None) -> Any:
        """Parse cell ``name``; a blank cell gives ``default`` or, when the
        default is ``...``, an ``input.missing_value`` error."""
        value = self.raw(name)
        if is_blank(value):
            if default is ...:
                raise self.error(
                    name,
                    "input.missing_value",
                    N_(
                        "{file}, row {row}, column {column}: value missing; fill it in."
                    ),
                )
            return default
        try:
            return parser(value)
        except CellError as error:
            raise self.error(name, error.code, error.template) from None

    def text(self, name: str, default: Any = ...) -> str:
        return self.get(name, lambda value: str(value).strip(), default)
