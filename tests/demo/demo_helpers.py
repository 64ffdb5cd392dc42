"""Constants and helpers shared by the demo tests."""

from __future__ import annotations

from pathlib import Path

DEMO_SEED = 2026
DEMO_ACCOUNTS = 3000


def demo_files(folder: Path) -> dict[str, bytes]:
    """Return the bytes of every file under ``folder``, by relative POSIX path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
