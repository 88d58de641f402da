"""The Spark engine: the same `BatchTask` on every partition, with `mapInPandas`.

pyspark is an optional extra (`leadscore[spark]`) and is imported only here,
inside functions, so the base install never needs it. The models go out as
one broadcast variable: each executor's Python worker unpickles them once
and keeps them for all its tasks, and executors need no access to MLflow.
Scores and rejects come out of one pass (persisted on disk), each written
by Spark as a folder of part files under a temporary name, then renamed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from serving.batch.io import LeadSource, is_csv
from serving.batch.job_errors import InputError, MissingModelError, RescoreError
from serving.batch.output import rejects_path, remove, replace, temporary_path
from serving.batch.scoring import LACKING, BatchTask, Models
from serving.batch.summary import Tally

REJECT = "reject_reason"
_OUR_ERRORS = {"InputError": InputError, "MissingModelError": MissingModelError}


def _need_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise RescoreError(
            "the Spark engine needs pyspark: pip install 'leadscore[spark]'"
        ) from exc


def start_session(master: str = "local[2]") -> Any:
    """A Spark session whose Python workers run this interpreter (so they find pyarrow)."""
    _need_pyspark()
    from pyspark.sql import SparkSession

    if master.startswith("local") or "PYSPARK_PYTHON" not in os.environ:
        # Read by the driver when the context starts; python3 from PATH lacks our packages.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.master(master)
        .appName("leadscore-rescore")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RescoreError(f"Spark did not start on {master} (Java 17 needed): {reason}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _apply(
    task: BatchTask, shared: Any, columns: list[str]
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The per-partition function; runs in the executors' Python workers."""

    def apply(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        models: Models = shared.value  # unpickled once per worker, then cached
        for frame in frames:
            scores, rejects = task(frame, models)
            if len(scores):
                yield scores.assign(**{REJECT: None})
            if len(rejects):
                blank = dict.fromkeys([*columns, LACKING])
                yield pd.DataFrame(
                    {**blank, "lead_id": rejects["lead_id"], REJECT: rejects["reason"]}
                )

    return apply


def _read(spark: Any, source: LeadSource) -> Any:
    files = [str(f) for f in source.files]
    if source.format == "csv":
        # All text, as the local engine reads CSV: the checks parse values row by row.
        frame = spark.read.option("header", True).csv(files)
    else:
        frame = spark.read.parquet(*files)
    return frame.select(*[c for c in source.columns if c in frame.columns])


def _write(frame: Any, final: Path, temporary: Path) -> None:
    """Write as the final name says (CSV or Parquet), into the temporary folder."""
    writer = frame.write.mode("overwrite")
    if is_csv(final):
        writer.option("header", True).csv(str(temporary))
    else:
        writer.parquet(str(temporary))


def _our_error(exc: Exception) -> RescoreError | None:
    """Our own error raised inside a worker, out of Spark's wrapping."""
    found = re.search(r"(InputError|MissingModelError): (.+)", str(exc))
    return _OUR_ERRORS[found.group(1)](found.group(2).strip()) if found else None


def run_spark(
    source: LeadSource,
    output: Path,
    task: BatchTask,
    models: Models,
    master: str,
    batch_size: int,
    session: Any = None,
) -> Tally:
    """Score `source` into `output` with Spark; uses the active session if there is one."""
    _need_pyspark()
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F  # noqa: N812 - Spark's convention
    from pyspark.sql.pandas.types import from_arrow_schema

    spark = session or SparkSession.getActiveSession()
    owned = spark is None
    spark = spark or start_session(master)
    temporary = {target: temporary_path(target) for target in (output, rejects_path(output))}
    try:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_size))
        shared = spark.sparkContext.broadcast(dict(models))
        arrow = task.schema.append(pa.field(LACKING, pa.string()))
        arrow = arrow.append(pa.field(REJECT, pa.string()))
        results = (
            _read(spark, source)
            .mapInPandas(_apply(task, shared, task.schema.names), from_arrow_schema(arrow))
            .persist(StorageLevel.DISK_ONLY)
        )
        try:
            ok = F.col(REJECT).isNull()
            counts = results.groupBy("channel", "grade", LACKING, ok.alias("ok")).count().collect()
            _write(results.where(ok).drop(LACKING, REJECT), output, temporary[output])
            rejects = results.where(~ok).select("lead_id", F.col(REJECT).alias("reason"))
            _write(rejects, rejects_path(output), temporary[rejects_path(output)])
        except Exception as exc:
            raise (_our_error(exc) or exc) from exc
        finally:
            results.unpersist()
            shared.destroy()
        tally = Tally()
        for row in counts:
            if row["ok"]:
                tally.grades[(row["channel"], row["grade"])] += row["count"]
                tally.add_lacking([(row[LACKING], row["count"])])
            else:
                tally.rejected += row["count"]
        tally.rows = tally.scored + tally.rejected
        if tally.rows == 0:
            raise InputError(f"{source.path} has no rows")
        replace(temporary[rejects_path(output)], rejects_path(output))
        replace(temporary[output], output)
        return tally
    finally:
        for path in temporary.values():
            remove(path)  # left only if the job failed
        if owned:
            spark.stop()
