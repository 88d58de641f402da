"""The demo's API server: `leadscore serve` in a child process, on the demo's own store,
with an admin key for the demo's calls (the API checks keys as it does in production)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from data.store import Store, upgrade
from leadscore.settings import Settings


@dataclass(frozen=True)
class DemoApi:
    url: str
    key: str
    headers: dict[str, str] = field(default_factory=dict)

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def demo_key(database: Path) -> str:
    """A fresh store with one admin key, for the demo's calls and its dashboard."""
    url = f"sqlite:///{database.resolve()}"
    upgrade(url)
    with Store(url) as store:
        _, token = store.create_api_key("demo", ["admin"])
    return token


@contextmanager
def api_server(
    settings: Settings, port: int, database: Path, timeout: float = 120.0
) -> Iterator[DemoApi]:
    """`leadscore serve` in a child process on `database`; yields it once it is ready."""
    key = demo_key(database)
    env = {
        **os.environ,
        "LEADSCORE_HOME": str(settings.home.resolve()),
        "LEADSCORE_API__PORT": str(port),
        "LEADSCORE_API__HOST": "127.0.0.1",
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database.resolve()}",
    }
    if settings.mlflow_tracking_uri:
        env["LEADSCORE_MLFLOW_TRACKING_URI"] = settings.mlflow_tracking_uri
    process = subprocess.Popen(
        [sys.executable, "-m", "leadscore", "serve", "--log-level", "warning"], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, timeout)
        yield DemoApi(url, key, {"Authorization": f"Bearer {key}"})
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API at {url} was not ready within {timeout:.0f} s")
