"""The Spark engine in local[2] mode gives exactly the local engine's results.

One real Spark session for the module (about 15-20 s to start), stopped at
the end. Needs the `spark` extra and Java; `make test` installs the extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from serving.batch.job import Engine
from serving.batch.spark import start_session
from tests.serving.batch.conftest import BROKEN_FIELDS, read, run, same_scores
from tests.serving.conftest import Registry

pytest.importorskip("pyspark")

pytestmark = [pytest.mark.slow, pytest.mark.spark]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = start_session("local[2]")
    yield session
    session.stop()


def test_spark_scores_and_rejects_exactly_like_the_local_engine(
    spark: Any, registry: Registry, mixed_file: Path, tmp_path: Path
) -> None:
    local = run(registry, mixed_file, tmp_path / "local.parquet", reasons=3)
    on_spark = run(registry, mixed_file, tmp_path / "spark.parquet", reasons=3, engine=Engine.spark)
    same_scores(read(tmp_path / "spark.parquet"), read(tmp_path / "local.parquet"))
    assert (tmp_path / "spark.parquet").is_dir()  # Spark's folder of part files
    spark_rejects = read(tmp_path / "spark.rejects.parquet")
    assert spark_rejects.equals(read(tmp_path / "local.rejects.parquet"))
    assert sorted(r.split(":")[0] for r in spark_rejects["reason"]) == sorted(BROKEN_FIELDS)
    assert (on_spark.rows_read, on_spark.rows_scored, on_spark.rows_rejected) == (
        local.rows_read,
        local.rows_scored,
        local.rows_rejected,
    )
    assert on_spark.grades == local.grades
    assert not spark.sparkContext._jsc.sc().isStopped()  # the job left our session running


def test_spark_reads_csv_and_writes_csv_like_the_local_engine(
    spark: Any, registry: Registry, leads: pd.DataFrame, tmp_path: Path
) -> None:
    leads.to_csv(tmp_path / "leads.csv", index=False)
    run(registry, tmp_path / "leads.csv", tmp_path / "local.csv")
    run(registry, tmp_path / "leads.csv", tmp_path / "spark.csv", engine=Engine.spark)
    same_scores(read(tmp_path / "spark.csv"), read(tmp_path / "local.csv"))
    # A rerun replaces the earlier result folder in one step.
    run(registry, tmp_path / "leads.csv", tmp_path / "spark.csv", engine=Engine.spark)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
