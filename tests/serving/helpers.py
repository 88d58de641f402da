"""Small helpers shared by the serving tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pandas as pd
from fastapi.testclient import TestClient

from data.json_rows import to_records
from serving.config import ServingConfig


def lead_json(row: pd.Series) -> dict[str, Any]:
    """A row of leads.parquet as a client would post it: NA -> null, times as ISO strings."""
    return to_records(row.to_frame().T)[0]


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
    previous_registry = mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # else registering goes wherever another test pointed it
    try:
        yield
    finally:
        mlflow.set_registry_uri(previous_registry)
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None is MLflow's "unset"
        if previous is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous


SERVE_SCRIPT = (
    "import sys; from serving.config import ServingConfig; from serving.server import run; "
    "run(ServingConfig.model_validate_json(sys.argv[1]), log_level='warning')"
)


def start_server(
    config: ServingConfig, cwd: Path, *, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """The real uvicorn server, as `leadscore serve` starts it, in its own process; its
    output is piped (for `wait_ready`'s message) unless `quiet`."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, config.model_dump_json()],
        cwd=str(cwd),
        stdout=out,
        stderr=subprocess.STDOUT if not quiet else subprocess.DEVNULL,
    )


def wait_ready(server: subprocess.Popen[bytes], base: str, seconds: float = 60) -> None:
    """Until `base`/readyz answers 200; fails with the server's output if it dies first."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, server.communicate()[0].decode()
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the server did not get ready in {seconds:.0f} s"
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
