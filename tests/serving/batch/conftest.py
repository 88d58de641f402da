"""Leads files for the batch tests, and running a job on the session's registry.

The models are the real ones `tests/serving/conftest.py` trains and registers
in a temporary MLflow store; the leads are the newest of the history they
were trained on, both channels, in every input shape a user may have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from serving.batch.job import RescoreOptions, rescore
from serving.batch.summary import RescoreSummary
from tests.serving.conftest import Registry

LEADS = 600


@pytest.fixture(scope="session")
def leads(registry: Registry) -> pd.DataFrame:
    """The newest leads of the history (both channels), as `leads.parquet` holds them."""
    return registry.leads.iloc[-LEADS:].reset_index(drop=True)


@pytest.fixture(scope="session")
def leads_file(leads: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "leads.parquet"
    leads.to_parquet(path, index=False)
    return path


def broken(leads: pd.DataFrame) -> pd.DataFrame:
    """Five leads that break the contract in ways a typed Parquet file can, ids bad-0..bad-4."""
    bad = leads.head(5).copy().reset_index(drop=True)
    bad["lead_id"] = [f"bad-{i}" for i in range(5)]
    bad["company_size"] = bad["company_size"].astype("Int64")
    bad.loc[0, "company_size"] = -3
    bad.loc[1, "company_region"] = "mars"
    bad.loc[2, "created_at"] = pd.NaT
    bad.loc[3, "channel"] = "partner"
    bad.loc[4, "lead_id"] = None
    return bad


BROKEN_FIELDS = ["company_size", "company_region", "created_at", "channel", "lead_id"]


@pytest.fixture(scope="session")
def mixed_file(leads: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The leads with the five broken ones spread among them."""
    frame = pd.concat([leads.iloc[:200], broken(leads), leads.iloc[200:]], ignore_index=True)
    path = tmp_path_factory.mktemp("mixed") / "mixed.parquet"
    frame.to_parquet(path, index=False)
    return path


def run(registry: Registry, source: Path, output: Path, **options: Any) -> RescoreSummary:
    """`rescore` on the session's registry (champion models)."""
    return rescore(
        RescoreOptions(input=source, output=output, tracking_uri=registry.tracking_uri, **options)
    )


def read(path: Path) -> pd.DataFrame:
    """A result (Parquet or CSV, file or Spark's folder of parts) ordered by lead id."""
    if path.name.endswith(".csv"):
        parts = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        frame = pd.concat(
            [
                pd.read_csv(p, dtype={"model_version": str}, float_precision="round_trip")
                for p in parts
            ]
        )
    else:
        frame = pq.read_table(path).to_pandas()
    return frame.sort_values("lead_id", na_position="first").reset_index(drop=True)


def same_scores(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Identical rows and numbers (the scoring time aside)."""
    assert list(a["lead_id"]) == list(b["lead_id"])
    np.testing.assert_array_equal(a["probability"].to_numpy(), b["probability"].to_numpy())
    for column in ("channel", "score", "grade", "model_name", "model_version"):
        assert a[column].tolist() == b[column].tolist(), column
    if "reasons" in a or "reasons" in b:
        assert a["reasons"].tolist() == b["reasons"].tolist()
