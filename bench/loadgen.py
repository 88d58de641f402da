"""HTTP load generation on loopback: `wrk` when installed, else a small asyncio client.

Both keep N HTTP/1.1 keep-alive connections busy for a fixed time (closed
loop: each connection sends its next request when the previous answer has
arrived), cycle through a pool of request bodies, and report requests/s and
latency percentiles. Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

HOST = "127.0.0.1"


@dataclass(frozen=True)
class LoadResult:
    clients: int
    seconds: float
    requests: int
    errors: int
    """Non-2xx answers, broken connections and timeouts."""
    rps: float
    p50_ms: float
    p99_ms: float
    client_cpu: float
    """CPU seconds the load generator used per wall-clock second (1.0 = one core)."""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    port: int,
    path: str,
    bodies: Sequence[bytes],
    clients: int,
    seconds: float,
    tool: str = "wrk",
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """POST `bodies` (cycled) to `http://127.0.0.1:port/path` for `seconds` with `clients`,
    with `headers` besides the content type (an API key, say)."""
    extra = dict(headers or {})
    if tool == "wrk":
        return _run_wrk(port, path, bodies, clients, seconds, extra)
    return _run_python(port, path, bodies, clients, seconds, extra)


# --- wrk ---------------------------------------------------------------------------------------

_LUA = """
local bodies = {%s}
local headers = {["Content-Type"] = "application/json"%s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%s", headers, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "micros": %%d, "errors": %%d, "p50": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(body: bytes) -> str:
    return "[==[" + body.decode() + "]==]"


def _run_wrk(
    port: int,
    path: str,
    bodies: Sequence[bytes],
    clients: int,
    seconds: float,
    headers: Mapping[str, str],
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="leadscore-wrk-") as folder:
        script = Path(folder) / "post.lua"
        extra = "".join(f', ["{k}"] = "{v}"' for k, v in headers.items())
        script.write_text(_LUA % (", ".join(_lua_string(b) for b in bodies), extra, path))
        # One wrk thread drives tens of thousands of requests/s: enough, and it leaves
        # the most CPU to the server on a small machine.
        command = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
        command += ["-s", str(script), f"http://{HOST}:{port}{path}"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or "RESULT " not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    raw = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    elapsed = raw["micros"] / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LoadResult(
        clients=clients,
        seconds=elapsed,
        requests=raw["requests"],
        errors=raw["errors"],
        rps=raw["requests"] / elapsed,
        p50_ms=raw["p50"] / 1000,
        p99_ms=raw["p99"] / 1000,
        client_cpu=cpu / wall,
    )


# --- asyncio client ----------------------------------------------------------------------------


def _requests(
    port: int, path: str, bodies: Sequence[bytes], headers: Mapping[str, str]
) -> list[bytes]:
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return [f"{head}Content-Length: {len(b)}\r\n\r\n".encode() + b for b in bodies]


async def _connection(
    port: int, requests: list[bytes], offset: int, stop_at: float, latencies: list[int]
) -> int:
    """One keep-alive connection sending requests until `stop_at`; returns its error count."""
    reader, writer = await asyncio.open_connection(HOST, port)
    errors = 0
    i = offset
    try:
        while time.perf_counter() < stop_at:
            sent = time.perf_counter_ns()
            writer.write(requests[i % len(requests)])
            i += 1
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - sent)
            errors += not status.startswith(b"HTTP/1.1 2")
    finally:
        writer.close()
    return errors


async def _load(port: int, requests: list[bytes], clients: int, seconds: float) -> LoadResult:
    latencies: list[int] = []
    started = time.perf_counter()
    stop_at = started + seconds
    tasks = [_connection(port, requests, c * 7, stop_at, latencies) for c in range(clients)]
    errors = sum(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - started
    p50, p99 = np.percentile(np.asarray(latencies, dtype=np.float64) / 1e6, [50, 99])
    return LoadResult(
        clients=clients,
        seconds=elapsed,
        requests=len(latencies),
        errors=errors,
        rps=len(latencies) / elapsed,
        p50_ms=float(p50),
        p99_ms=float(p99),
        client_cpu=0.0,
    )


def _run_python(
    port: int,
    path: str,
    bodies: Sequence[bytes],
    clients: int,
    seconds: float,
    headers: Mapping[str, str],
) -> LoadResult:
    before = time.process_time()
    result = asyncio.run(_load(port, _requests(port, path, bodies, headers), clients, seconds))
    cpu = (time.process_time() - before) / result.seconds
    return replace(result, client_cpu=cpu)


def combine(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one target: req/s over all of them, medians of the latency percentiles."""

    def merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
        requests, seconds = sum(r["requests"] for r in runs), sum(r["seconds"] for r in runs)
        rps = [r["rps"] for r in runs]
        return {
            "rps": requests / seconds,
            "rps_spread": (max(rps) - min(rps)) / 2 / (requests / seconds),
            "requests": requests,
            "errors": sum(r["errors"] for r in runs),
            "p50_ms": float(np.median([r["p50_ms"] for r in runs])),
            "p99_ms": float(np.median([r["p99_ms"] for r in runs])),
            "client_cpu": float(np.mean([r["client_cpu"] for r in runs])),
        }

    loaded = merged([s["loaded"] for s in slices])
    server_cpu = float(np.mean([s["server_cpu"] for s in slices]))
    return {
        "loaded": loaded,
        "single": merged([s["single"] for s in slices]),
        "server_cpu": server_cpu,
        "server_cpu_us": server_cpu / loaded["rps"] * 1e6,
        "other_cpu": float(np.mean([s["other_cpu"] for s in slices])),
        "rounds": slices,
    }
