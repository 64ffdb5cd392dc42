"""Finding data files, telling their format from content, and fingerprints."""

from __future__ import annotations

import glob
import gzip
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from jalon.ingest import problems

#: Bytes read from the start of a file to tell its format.
SNIFF_BYTES = 64 * 1024
#: Block size for hashing files, bytes.
HASH_BLOCK_BYTES = 1024 * 1024

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"

#: Delimiters tried when none is configured, in order of preference on ties.
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
#: Names skipped when a folder is listed: hidden files and these suffixes.
IGNORED_SUFFIXES = (".md", ".txt", ".toml", ".duckdb", ".wal", ".tmp")


@dataclass(frozen=True)
class DataFile:
    """A file to load, with its detected format and compression."""

    path: Path
    format: str
    compression: str | None


@dataclass(frozen=True)
class Fingerprint:
    """Identity of a file version: size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str


def resolve_paths(
    patterns: tuple[str, ...], base_dir: Path, section: str
) -> list[Path]:
    """Expand files, folders and globs relative to ``base_dir``, sorted, unique.

    Raises
    ------
    InputError
        ``input.no_files`` for a pattern that matches no file.
    """
    found: list[Path] = []
    for pattern in patterns:
        full = Path(pattern).expanduser()
        if not full.is_absolute():
            full = base_dir / full
        matches = _expand(full)
        if not matches:
            raise problems.no_files(pattern, str(full), section)
        found.extend(matches)

    unique = {path.resolve(): None for path in found}
    return sorted(unique)


def _expand(full: Path) -> list[Path]:
    if full.is_dir():
        return [
            child
            for child in sorted(full.rglob("*"))
            if child.is_file() and _is_data_name(child)
        ]
    if glob.has_magic(str(full)):
        return [
            Path(name)
            for name in sorted(glob.glob(str(full), recursive=True))
            if Path(name).is_file()
        ]
    return [full] if full.is_file() else []


def _is_data_name(path: Path) -> bool:
    return not path.name.startswith(".") and path.suffix.lower() not in IGNORED_SUFFIXES


def detect_format(path: Path, requested: str, section: str) -> DataFile:
    """Return ``path`` with its format, from content first and then its name.

    ``requested`` is the configured format; ``"auto"`` detects it. Compression
    (gzip) is always detected from the first bytes.

    Raises
    ------
    InputError
        ``input.empty_file`` for a file without content,
        ``input.unknown_format`` when no format fits.
    """
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise problems.empty_file(str(path))

    compression = None
    if head.startswith(GZIP_MAGIC):
        compression = "gzip"
        head = _gunzip_head(path)
        if not head:
            raise problems.empty_file(str(path))

    if requested != "auto":
        return DataFile(path, requested, compression)

    detected = _format_from_content(path, head, compression)
    if detected is None:
        raise problems.unknown_format(str(path), section)
    return DataFile(path, detected, compression)


def _gunzip_head(path: Path) -> bytes:
    with gzip.open(path, "rb") as handle:
        try:
            return handle.read(SNIFF_BYTES)
        except (EOFError, OSError):
            # A truncated archive still shows its first bytes to the reader,
            # which then raises a clear error for the broken part.
            return b""


def _format_from_content(
    path: Path, head: bytes, compression: str | None
) -> str | None:
    if compression is None and head.startswith(PARQUET_MAGIC):
        return "parquet"
    if compression is None and head.startswith(ZIP_MAGIC):
        return "excel" if _is_xlsx(path) else None
    if b"\x00" in head and not _looks_utf16(head):
        return None

    text = head.removeprefix(UTF8_BOM).lstrip()
    if text.startswith((b"{", b"[")):
        return "jsonl"
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if ".json" in suffixes or ".jsonl" in suffixes or ".ndjson" in suffixes:
        return "jsonl"
    return "csv"


def _looks_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def quick_fingerprint(path: Path) -> tuple[int, int]:
    """Return ``(size, mtime_ns)`` of ``path`` without reading it."""
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def fingerprint(path: Path) -> Fingerprint:
    """Return the size, modification time and SHA-256 of ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    size, mtime_ns = quick_fingerprint(path)
    return Fingerprint(size, mtime_ns, digest.hexdigest())


def guess_delimiter(header_line: str) -> str:
    """Return the candidate delimiter seen most often outside quotes, or a comma."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = [
        (unquoted.count(candidate), candidate) for candidate in CANDIDATE_DELIMITERS
    ]
    best_count = max(count for count, _ in counts)
    if best_count == 0:
        return ","
    return next(candidate for count, candidate in counts if count == best_count)
