"""Small helpers shared by the serving tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from fastapi.testclient import TestClient


def lead_json(row: pd.Series) -> dict[str, Any]:
    """A row of leads.parquet as a client would post it: NA -> null, times as ISO strings."""
    out: dict[str, Any] = {}
    for key, value in row.to_dict().items():
        name = str(key)
        if isinstance(value, pd.Timestamp):
            out[name] = value.isoformat()
        elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
            out[name] = None
        elif isinstance(value, np.generic):
            out[name] = value.item()
        else:
            out[name] = value
    return out


def leads_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [lead_json(row) for _, row in frame.iterrows()]


def score(client: TestClient, body: Any, reasons: int = 3) -> Any:
    """POST to the scoring endpoint, asserting success; the decoded answer."""
    response = client.post("/v1/leads/score", params={"reasons": reasons}, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def error_locs(response: Any) -> list[list[Any]]:
    """The `loc` of every error in a FastAPI 422 body."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [error["loc"] for error in detail]


def rows_of(frame: pd.DataFrame, channel: str) -> pd.DataFrame:
    return frame.loc[frame["channel"] == channel]


@contextmanager
def mlflow_tracking(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (start_run, pyfunc.load_model) at `uri` for a block.

    Only the tests need this: the app talks to the registry through its own client.
    """
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None is MLflow's "unset"
        if previous is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous
