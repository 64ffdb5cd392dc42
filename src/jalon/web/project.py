"""Paths of one jalon project as the HTTP server and its CLI commands see them.

A project is the folder of ``jalon.toml``. The server keeps its own files in
the project's ``.jalon/`` folder, where the analytical store also lives unless
``[project] store`` names another path:

* ``spool.sqlite``: events and traits acknowledged by the ingest API and not
  yet moved into the DuckDB store (see :mod:`jalon.web.spool`);
* ``keys.sqlite``: API keys, stored as salted hashes (see :mod:`jalon.web.keys`).
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from jalon.errors import N_, ConfigError

logger = logging.getLogger(__name__)

CONFIG_NAME = "jalon.toml"
STATE_DIR = ".jalon"
DEFAULT_STORE = f"{STATE_DIR}/store.duckdb"
SPOOL_NAME = "spool.sqlite"
KEYS_NAME = "keys.sqlite"
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class ProjectContext:
    """Folder, store, spool and key files of one project.

    Attributes
    ----------
    root
        Folder of ``jalon.toml`` (or the folder given when there is none).
    store_path
        DuckDB store file; ``[project] store`` of ``jalon.toml``, relative to
        ``root``, else ``.jalon/store.duckdb``.
    spool_path, keys_path
        SQLite files of the server, in the project's ``.jalon/`` folder.
    timezone
        IANA zone in which naive timestamps sent to the API are read.
    """

    root: Path
    store_path: Path
    spool_path: Path
    keys_path: Path
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_path(cls, path: Path | str) -> ProjectContext:
        """Build the context of the project at ``path`` (a folder or its jalon.toml).

        Only ``[project] store`` and ``[project] timezone`` are read here; the
        full configuration is validated by ``jalon.config``.

        >>> ctx = ProjectContext.from_path("/nonexistent/acme")
        >>> ctx.spool_path.name
        'spool.sqlite'
        """
        path = Path(path).expanduser().absolute()
        root = path.parent if path.name == CONFIG_NAME else path
        store, timezone = _read_project_table(root / CONFIG_NAME)
        store_path = (root / store).resolve() if store else root / DEFAULT_STORE
        state_dir = root / STATE_DIR
        return cls(
            root=root,
            store_path=store_path,
            spool_path=state_dir / SPOOL_NAME,
            keys_path=state_dir / KEYS_NAME,
            timezone=timezone or DEFAULT_TIMEZONE,
        )

    def ensure_state_dir(self) -> None:
        """Create the folders of the spool, key and store files when missing."""
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        self.store_path.parent.mkdir(parents=True, exist_ok=True)


def _read_project_table(config_path: Path) -> tuple[str | None, str | None]:
    if not config_path.is_file():
        return None, None
    try:
        with config_path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        # Same code and message as jalon.config, whose catalogs translate it.
        raise ConfigError(
            "config.bad_toml",
            N_("{file} is not valid TOML: {detail}. Fix the syntax at that place."),
            file=str(config_path),
            detail=str(error),
            path="",
        ) from error
    project = document.get("project", {})
    if not isinstance(project, dict):
        return None, None
    store = project.get("store")
    timezone = project.get("timezone")
    return (
        store if isinstance(store, str) else None,
        timezone if isinstance(timezone, str) else None,
    )


def as_project(project: ProjectContext | Path | str) -> ProjectContext:
    """Return ``project`` as a :class:`ProjectContext`, building it from a path."""
    if isinstance(project, ProjectContext):
        return project
    return ProjectContext.from_path(project)
