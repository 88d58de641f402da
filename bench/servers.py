"""Servers under test: started in their own process group on a free loopback port, measured
under load (with their CPU and the machine's), always stopped.

Each server runs in a new session, so its process group holds it and every
child it starts (`mlflow models serve` runs uvicorn through a shell); the
group is what gets measured (CPU) and what gets stopped.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import HOST, run_load

READY_SECONDS = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _group(pgid: int) -> list[list[str]]:
    """/proc stat fields (after the command name) of the live processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":  # state ppid pgrp ...
                members.append(fields)
    return members


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU so far of the live processes of a process group."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in _group(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    probe: tuple[str, bytes],
    port: int,
    logs: Path,
    cwd: Path,
    headers: Mapping[str, str] | None = None,
) -> Iterator[int]:
    """Run `command`; yield its process group id once POST `probe` answers 200. Stops it after."""
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, f"http://{HOST}:{port}{probe[0]}", probe[1], log, headers or {})
        yield process.pid
    finally:
        stop(process)


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, body: bytes, log: Path, headers: Mapping[str, str]
) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}; see {log}")
        with suppress(httpx.TransportError):
            answer = httpx.post(
                url,
                content=body,
                headers={"content-type": "application/json", **headers},
                timeout=30.0,
            )
            if answer.status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no 200 from {url} within {READY_SECONDS:.0f} s; see {log}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM the process group, SIGKILL what is left after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reap the leader
            if not _group(process.pid):
                process.wait()
                return
            time.sleep(0.2)
    process.wait()


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of all cores since boot, from /proc/stat (guest time excluded)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Live:
    """A target on a running server."""

    name: str
    pgid: int
    port: int
    path: str
    bodies: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)


def measure(live: Live, seconds: float, clients: int, tool: str) -> dict[str, Any]:
    """One slice: `seconds` at `clients` (with server and machine CPU), then at one client."""
    load = functools.partial(
        run_load, live.port, live.path, live.bodies, tool=tool, headers=live.headers
    )
    cpu, (busy, total) = group_cpu_seconds(live.pgid), machine_cpu_ticks()
    started = time.monotonic()
    loaded = load(clients, seconds)
    server_cpu = (group_cpu_seconds(live.pgid) - cpu) / (time.monotonic() - started)
    busy_after, total_after = machine_cpu_ticks()
    machine = (busy_after - busy) / (total_after - total) * (os.cpu_count() or 1)
    return {
        "loaded": asdict(loaded),
        "single": asdict(load(1, seconds)),
        "server_cpu": server_cpu,
        "other_cpu": max(0.0, machine - server_cpu - loaded.client_cpu),
    }
