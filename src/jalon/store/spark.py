"""The Spark store: events and accounts read from Parquet by Apache Spark.

A project selects it with ``[project] engine = "spark"``. Its settings sit in
``[project.spark]``; paths are relative to jalon.toml:

=================== ==========================================================
key                 meaning
=================== ==========================================================
``master``          Spark master URL, default ``local[2]``
``app_name``        application name, default ``jalon``
``conf``            table of extra Spark settings (``"spark.executor.memory"``)
``events_path``     Parquet folder of events in the store schema (required)
``accounts_path``   Parquet file or folder of accounts (optional)
``properties_path`` Parquet file mapping property names to columns, default
                    ``_properties.parquet`` beside the events folder
``exclusions_path`` Parquet file of rows left out at load, default
                    ``_exclusions.parquet`` beside the events folder
``warehouse_dir``   Spark warehouse folder, default a new temporary folder
                    per run, because a reused one makes reruns fail with
                    ``LOCATION_ALREADY_EXISTS``
=================== ==========================================================

:func:`jalon.store.engine.export_parquet` writes a DuckDB store in this layout.
The session time zone is always UTC, because store timestamps hold UTC.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import ibis
import ibis.expr.types as ir
import pandas as pd

from jalon.errors import N_, ConfigError, StoreError
from jalon.milestones.spec import check_keys
from jalon.store import engine

if TYPE_CHECKING:
    from jalon.config import Config

logger = logging.getLogger(__name__)

SETTING_KEYS = (
    "master",
    "app_name",
    "conf",
    "events_path",
    "accounts_path",
    "properties_path",
    "exclusions_path",
    "warehouse_dir",
)
DEFAULT_MASTER = "local[2]"
DEFAULT_APP_NAME = "jalon"

#: Settings every session gets; user ``conf`` entries cannot override the time zone.
BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
SESSION_TIME_ZONE = ("spark.sql.session.timeZone", "UTC")
#: Defaults of a ``local[...]`` master, unless ``conf`` sets them.
LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}

EXCLUSION_COLUMNS = ("reason", "rows", "path", "first_row", "example")

_view_numbers = itertools.count(1)


@dataclass(frozen=True)
class SparkSettings:
    """The validated ``[project.spark]`` table, with absolute paths."""

    events_path: Path
    accounts_path: Path | None = None
    properties_path: Path | None = None
    exclusions_path: Path | None = None
    master: str = DEFAULT_MASTER
    app_name: str = DEFAULT_APP_NAME
    conf: dict[str, str] = field(default_factory=dict)
    warehouse_dir: Path | None = None

    @classmethod
    def from_config(cls, config: Config) -> SparkSettings:
        """Validate ``config.engine_options`` (the ``[project.spark]`` table).

        Raises
        ------
        ConfigError
            ``config.unknown_key`` for a misspelt key, ``config.missing_key``
            without ``events_path``, ``config.invalid_type`` for a value of
            the wrong type.
        """
        options = dict(config.engine_options)
        check_keys(options, SETTING_KEYS, "project.spark")
        if "events_path" not in options:
            raise ConfigError(
                "config.missing_key",
                N_(
                    "Missing key {path} in {file}: the Spark engine reads events from "
                    "this Parquet folder. Write one with `jalon export-parquet`, or "
                    'set engine = "duckdb".'
                ),
                path="project.spark.events_path",
                file=str(config.path),
                value=None,
                allowed="a folder path",
            )
        base = config.base_dir
        paths = {
            key: _path(options, key, base)
            for key in (
                "events_path",
                "accounts_path",
                "properties_path",
                "exclusions_path",
                "warehouse_dir",
            )
        }
        conf = options.get("conf", {})
        if not isinstance(conf, dict):
            raise _type_error("project.spark.conf", conf, "a table of settings")
        return cls(
            master=_text(options, "master", DEFAULT_MASTER),
            app_name=_text(options, "app_name", DEFAULT_APP_NAME),
            conf={str(k): str(v) for k, v in conf.items()},
            **paths,
        )

    def sibling(self, name: str) -> Path:
        """Return the path ``name`` beside the events folder."""
        return self.events_path.parent / name


def _path(options: dict[str, Any], key: str, base: Path) -> Path | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _type_error(f"project.spark.{key}", value, "a path")
    return (base / value).resolve()


def _text(options: dict[str, Any], key: str, default: str) -> str:
    value = options.get(key, default)
    if not isinstance(value, str) or not value:
        raise _type_error(f"project.spark.{key}", value, "a text value")
    return value


def _type_error(path: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(
        "config.invalid_type",
        N_("Invalid value for {path}: {value}. Expected {allowed}."),
        path=path,
        value=repr(value),
        allowed=allowed,
    )


def start_session(settings: SparkSettings) -> tuple[Any, Path | None]:
    """Start (or reuse) a SparkSession for ``settings``.

    Returns
    -------
    tuple
        The session and the temporary warehouse folder created for it, or
        ``None`` when ``settings.warehouse_dir`` names one.

    Raises
    ------
    StoreError
        ``store.spark_missing`` when pyspark is not installed,
        ``store.spark_failed`` when the session cannot start (no Java).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise StoreError(
            "store.spark_missing",
            N_(
                "The Spark engine needs pyspark. Install it with `pip install "
                "'jalon[spark]'`, or set engine = \"duckdb\"."
            ),
        ) from error
    temporary = None
    warehouse = settings.warehouse_dir
    if warehouse is None:
        temporary = Path(tempfile.mkdtemp(prefix="jalon-spark-warehouse-"))
        warehouse = temporary
    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    for key, value in {**BASE_CONF, **settings.conf}.items():
        builder = builder.config(key, value)
    builder = builder.config("spark.sql.warehouse.dir", str(warehouse))
    if settings.master.startswith("local"):
        # A local session needs no network: keep the driver on loopback.
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, settings.conf.get(key, value))
    builder = builder.config(*SESSION_TIME_ZONE)
    try:
        session = builder.getOrCreate()
    except Exception as error:
        raise StoreError(
            "store.spark_failed",
            N_(
                "Spark could not start ({master}): {detail}. Check that Java 17 is "
                "installed and JAVA_HOME points to it."
            ),
            master=settings.master,
            detail=str(error).splitlines()[0] if str(error) else type(error).__name__,
        ) from error
    # getOrCreate() may return a running session, whose time zone must become UTC too.
    session.conf.set(*SESSION_TIME_ZONE)
    return session, temporary


class SparkStore:
    """A read-only store whose tables are Parquet files read by Spark.

    It offers the read interface of :class:`jalon.store.Store` (``con``,
    ``events()``, ``accounts()``, ``properties()``, ``execute()``,
    ``exclusions()``, ``files()``, ``event_bounds()``) plus
    :meth:`materialize`, because Ibis's PySpark backend has no temporary
    tables. Loading stays in DuckDB: ingest there, then
    :func:`jalon.store.engine.export_parquet`.
    """

    read_only = True

    def __init__(
        self,
        session: Any,
        settings: SparkSettings,
        owns_session: bool = False,
        temporary_warehouse: Path | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.path = settings.events_path
        self.con = ibis.pyspark.connect(session)
        self._owns_session = owns_session
        self._temporary_warehouse = temporary_warehouse
        self._views: list[str] = []
        self._cached: dict[str, Any] = {}
        number = next(_view_numbers)
        self._events_view = self._register(
            settings.events_path, f"jalon_events_{number}"
        )
        self._accounts_view = None
        if settings.accounts_path is not None:
            name = f"jalon_accounts_{number}"
            self._accounts_view = self._register(settings.accounts_path, name)
        self._properties = self._read_properties()

    @classmethod
    def open(cls, settings: SparkSettings, session: Any = None) -> SparkStore:
        """Open the Parquet files of ``settings`` in ``session``, or a new session.

        :meth:`close` stops a session started here. It leaves a session passed
        in running, so tests can share one.
        """
        if session is not None:
            session.conf.set(*SESSION_TIME_ZONE)
            return cls(session, settings)
        session, temporary = start_session(settings)
        try:
            return cls(
                session, settings, owns_session=True, temporary_warehouse=temporary
            )
        except Exception:
            session.stop()
            raise

    @classmethod
    def from_config(cls, config: Config, session: Any = None) -> SparkStore:
        """Open the Spark store described by ``[project.spark]`` of ``config``."""
        return cls.open(SparkSettings.from_config(config), session=session)

    def _register(self, path: Path, name: str) -> str:
        """Register the Parquet data at ``path`` as the temporary view ``name``."""
        if not path.exists():
            raise StoreError(
                "store.parquet_not_found",
                N_(
                    "The Parquet data {path} does not exist. Write it with `jalon "
                    "export-parquet`, or fix the path in [project.spark]."
                ),
                path=str(path),
            )
        frame = self.session.read.parquet(str(path))
        frame = _as_utc_wall_time(frame)
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        return name

    def _read_properties(self) -> dict[str, str]:
        path = self.settings.properties_path or self.settings.sibling(
            engine.EXPORT_PROPERTIES
        )
        if path.exists():
            table = pd.read_parquet(path, columns=["name", "column_name"])
            return dict(sorted(zip(table["name"], table["column_name"])))
        # Without the mapping, a p_<name> column is taken to hold property <name>.
        columns = self.con.table(self._events_view).columns
        return {c[2:]: c for c in sorted(columns) if c.startswith("p_")}

    def close(self) -> None:
        """Drop this store's views and cached tables; stop a session it started."""
        for frame in self._cached.values():
            frame.unpersist()
        for name in self._views:
            self.session.catalog.dropTempView(name)
        self._cached.clear()
        self._views.clear()
        if self._owns_session:
            self.session.stop()
            if self._temporary_warehouse is not None:
                shutil.rmtree(self._temporary_warehouse, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def events(self) -> ir.Table:
        """Return the events table as an Ibis expression."""
        return self.con.table(self._events_view)

    def accounts(self) -> ir.Table | None:
        """Return the accounts table, or ``None`` when no ``accounts_path`` is set."""
        if self._accounts_view is None:
            return None
        return self.con.table(self._accounts_view)

    def properties(self) -> dict[str, str]:
        """Return the property names of the config mapped to their events columns."""
        return dict(self._properties)

    def execute(self, expr: ir.Expr) -> pd.DataFrame:
        """Run an Ibis expression on Spark and return a DataFrame, whatever its shape."""
        if not isinstance(expr, ibis.Table):
            expr = expr.as_table()
        return _microsecond_times(self.con.execute(expr))

    def materialize(self, expr: ir.Table, name: str) -> ir.Table:
        """Compute ``expr`` once, keep it in Spark's cache and return it as a table.

        A second call with the same ``name`` replaces the first.
        """
        if name in self._cached:
            self._cached.pop(name).unpersist()
        frame = self.session.sql(self.con.compile(expr)).persist()
        rows = frame.count()
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame
        if name not in self._views:
            self._views.append(name)
        logger.debug("materialized %s (%s rows)", name, rows)
        return self.con.table(name)

    def files(self) -> pd.DataFrame:
        """Return the Parquet sources, one row each (no load bookkeeping on Spark)."""
        rows = [{"kind": "events", "path": str(self.settings.events_path)}]
        if self.settings.accounts_path is not None:
            rows.append({"kind": "accounts", "path": str(self.settings.accounts_path)})
        return pd.DataFrame(rows, columns=["kind", "path"])

    def exclusions(self) -> pd.DataFrame:
        """Return rows left out at load, summed by reason, as the DuckDB store does.

        They come from the exclusions file written by the export. Without
        that file the table is empty.
        """
        path = self.settings.exclusions_path or self.settings.sibling(
            engine.EXPORT_EXCLUSIONS
        )
        if not path.exists():
            return pd.DataFrame({c: [] for c in EXCLUSION_COLUMNS})
        table = pd.read_parquet(path)
        if table.empty:
            return pd.DataFrame({c: [] for c in EXCLUSION_COLUMNS})
        table = table.sort_values(["file_id", "first_row"], kind="stable")
        grouped = table.groupby("reason", sort=True)
        summary = grouped.first()[["path", "first_row", "example"]]
        summary.insert(0, "rows", grouped["rows"].sum().astype("int64"))
        return summary.reset_index()[list(EXCLUSION_COLUMNS)]

    def event_bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Return the earliest and latest event timestamps (UTC), or two ``None``."""
        events = self.events()
        row = self.execute(
            events.aggregate(first=events.ts.min(), last=events.ts.max())
        )
        return (_python_time(row["first"].iloc[0]), _python_time(row["last"].iloc[0]))

    def __repr__(self) -> str:
        return f"SparkStore({str(self.path)!r}, {self.settings.master})"


def _as_utc_wall_time(frame: Any) -> Any:
    """Turn time-zone-aware timestamp columns into UTC wall time without a zone.

    DuckDB writes store timestamps as Parquet timestamps without a zone,
    which Spark reads as TIMESTAMP_NTZ. Files written by other tools may use
    zone-aware timestamps instead. Because the session zone is UTC, the cast
    keeps their UTC wall time, and comparisons with the analysis's naive UTC
    literals hold.
    """
    from pyspark.sql import functions
    from pyspark.sql.types import TimestampType

    for column in frame.schema.fields:
        if isinstance(column.dataType, TimestampType):
            frame = frame.withColumn(
                column.name, functions.col(column.name).cast("timestamp_ntz")
            )
    return frame


def _microsecond_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Give timestamp columns the microsecond unit that the DuckDB store returns.

    Spark and the store both hold microseconds, so the conversion is exact.
    """
    for name in frame.columns:
        if pd.api.types.is_datetime64_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[us]")
    return frame


def _python_time(value: Any) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime()
