"""Spark workspaces: the workspace tables on Apache Spark, queried through the same Ibis API.

A DuckDB workspace is exported with :func:`export_parquet` (events partitioned by day, as
``events/date=YYYY-MM-DD/*.parquet``; the other tables one file each). A
:class:`SparkWorkspace` reads such a folder into a SparkSession and exposes ``table(name)``
and ``con`` like :class:`~journeykit.store.Workspace`, so every analytic in
:mod:`journeykit.analytics` runs on it unchanged.

``journeykit.open("spark://local?path=/data/export")`` opens one (see :func:`open_spark`).
Needs ``pip install journeykit[spark]`` and Java 17.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from journeykit.config import Settings, load_settings
from journeykit.errors import NotFound, WorkspaceError
from journeykit.schema.events import EVENT_COLUMNS, TABLES

if TYPE_CHECKING:
    import ibis
    from pyspark.sql import DataFrame, SparkSession

    from journeykit.store.workspace import Workspace

MANIFEST = "journeykit-export.json"
#: Tables exported besides events (one Parquet file each).
SIDE_TABLES = tuple(name for name in TABLES if name != "events")


def export_parquet(ws: Workspace, folder: str | Path, *, overwrite: bool = True) -> Path:
    """Write a workspace's tables as Parquet for Spark: events partitioned by day.

    Args:
        ws: a DuckDB workspace.
        folder: where to write (``events/date=.../``, ``people.parquet``, ...).
        overwrite: replace an earlier export in the folder.

    Returns:
        The folder.

    >>> import journeykit, tempfile
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> (export_parquet(ws, tempfile.mkdtemp()) / MANIFEST).exists()
    True
    """
    out = Path(folder)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise WorkspaceError(f"{out} is not empty; pass overwrite=True to replace it")
        if not (out / MANIFEST).exists():
            raise WorkspaceError(f"{out} holds files that are not a journeykit export")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    store = ws.store
    events_dir = out / "events"
    cols = ", ".join(EVENT_COLUMNS)
    n = int(store.scalar("SELECT count(*) FROM events") or 0)
    with store.lock:
        if n:
            store.execute(
                f"COPY (SELECT {cols}, CAST(ts AS DATE) AS date FROM events "
                f"ORDER BY date, person_id, seq) TO {_path_literal(events_dir)} "
                "(FORMAT PARQUET, PARTITION_BY (date), COMPRESSION zstd)"
            )
        else:
            events_dir.mkdir()
            store.execute(
                f"COPY (SELECT {cols} FROM events) TO "
                f"{_path_literal(events_dir / 'empty.parquet')} (FORMAT PARQUET)"
            )
        for name in SIDE_TABLES:
            store.execute(
                f"COPY (SELECT * FROM {name}) TO {_path_literal(out / f'{name}.parquet')} "
                "(FORMAT PARQUET)"
            )
    manifest = {"format": 1, "events": n, "tables": ["events", *SIDE_TABLES]}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def _path_literal(path: Path) -> str:
    """A DuckDB string literal of a path (COPY ... TO takes no bound parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


def spark_session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 4,
    app_name: str = "journeykit",
    config: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession set up for journeykit: UTC, no UI, few shuffle partitions locally."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.pyspark.python", sys.executable)
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkWorkspace:
    """Workspace tables from a Parquet export, in a SparkSession, queried through Ibis.

    Args:
        session: the SparkSession (shared; :meth:`close` leaves it running unless
            ``owns_session``).
        folder: an :func:`export_parquet` folder.
        settings: settings (default: loaded).
        owns_session: stop the session on :meth:`close`.
    """

    def __init__(
        self,
        session: SparkSession,
        folder: str | Path,
        settings: Settings | None = None,
        *,
        owns_session: bool = False,
    ) -> None:
        self.path = Path(folder)
        if not (self.path / MANIFEST).exists():
            raise WorkspaceError(
                f"{self.path} is not a journeykit Parquet export "
                "(write one with journeykit.store.spark.export_parquet)"
            )
        self.session = session
        self.settings = settings or load_settings()
        self._owns = owns_session
        self._prefix = "jk_" + uuid.uuid4().hex[:8] + "_"
        self._views: dict[str, str] = {}
        self._ibis: Any = None

    @property
    def con(self) -> Any:
        """The Ibis PySpark backend over the session."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.pyspark.connect(self.session)
        return self._ibis

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of one workspace table (registered as a temporary view on first use)."""
        if name not in TABLES:
            raise NotFound("table", name, sorted(TABLES))
        if name not in self._views:
            view = self._prefix + name
            self._frame(name).createOrReplaceTempView(view)
            self._views[name] = view
        return self.con.table(self._views[name])

    @property
    def events(self) -> ibis.Table:
        """The events table."""
        return self.table("events")

    def _frame(self, name: str) -> DataFrame:
        from pyspark.sql import functions as F

        if name == "events":
            df = self.session.read.parquet(str(self.path / "events"))
            df = df.select(*EVENT_COLUMNS)
        else:
            df = self.session.read.parquet(str(self.path / f"{name}.parquet"))
        # Parquet keeps naive timestamps as TIMESTAMP_NTZ; journeykit's are UTC instants
        for field in df.schema.fields:
            if field.dataType.typeName() == "timestamp_ntz":
                df = df.withColumn(field.name, F.col(field.name).cast("timestamp"))
        return df

    def close(self) -> None:
        """Drop the temporary views (and stop the session if this workspace owns it)."""
        for view in self._views.values():
            self.session.catalog.dropTempView(view)
        self._views.clear()
        if self._owns:
            self.session.stop()

    def __enter__(self) -> SparkWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SparkWorkspace({str(self.path)!r})"


def parse_spark_url(url: str) -> tuple[str, dict[str, str]]:
    """Split ``spark://MASTER?path=...&shuffle_partitions=...`` into a master and options.

    ``local`` and ``local[N]`` run Spark in this process; anything else is a standalone
    cluster master ``spark://host:port``.

    >>> parse_spark_url("spark://local[2]?path=/data/export")
    ('local[2]', {'path': '/data/export'})
    >>> parse_spark_url("spark://head:7077")[0]
    'spark://head:7077'
    """
    if not url.startswith("spark://"):
        raise WorkspaceError(f"{url!r} is not a spark:// URL")
    rest = url[len("spark://") :]
    master, _, query = rest.partition("?")
    master = master.rstrip("/")
    if not master:
        raise WorkspaceError(f"{url!r}: name a master, e.g. spark://local or spark://host:7077")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    unknown = set(options) - {"path", "shuffle_partitions", "app"}
    if unknown:
        raise WorkspaceError(f"{url!r}: unknown option(s) {', '.join(sorted(unknown))}")
    if master == "local":
        master = "local[*]"
    elif not master.startswith("local["):
        master = "spark://" + master
    return master, options


def open_spark(url: str, settings: Settings | None = None) -> SparkWorkspace:
    """Open a Spark workspace from a URL (``journeykit.open`` routes ``spark://`` here).

    The Parquet export is read from ``?path=`` or, by default, the ``parquet`` folder of the
    configured workspace (``JOURNEYKIT_WORKSPACE``).
    """
    settings = settings or load_settings()
    master, options = parse_spark_url(url)
    folder = Path(options.get("path") or Path(settings.store.workspace) / "parquet")
    if not (folder / MANIFEST).exists():
        raise WorkspaceError(
            f"no journeykit Parquet export in {folder}; write one with "
            "journeykit.store.spark.export_parquet(ws, folder) and open spark://...?path=folder"
        )
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise WorkspaceError("Spark needs: pip install 'journeykit[spark]'") from exc
    session = spark_session(
        master,
        shuffle_partitions=int(options.get("shuffle_partitions", 8)),
        app_name=options.get("app", "journeykit"),
    )
    return SparkWorkspace(session, folder, settings, owns_session=True)
