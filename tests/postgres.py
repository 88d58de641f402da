"""A throw-away PostgreSQL cluster for tests: `start_postgres() -> (url, stop)`.

PostgreSQL refuses to run as root, so as root the cluster belongs to the
`postgres` system user (`runuser -u postgres -- initdb ...`) in a folder it
owns. It listens on 127.0.0.1 and a free port, with its socket in the same
folder, trusts local connections and skips fsync: nothing in it must survive.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DATABASE = "leadscore"
# Debian/Ubuntu packages, a source build, Homebrew.
SEARCH = ("usr/lib/postgresql/*/bin", "usr/local/pgsql/bin", "opt/homebrew/opt/postgresql*/bin")


class PostgresNotInstalledError(RuntimeError):
    """PostgreSQL's server programs (initdb, pg_ctl) are not installed here."""


def not_installed(error: PostgresNotInstalledError) -> NoReturn:
    """Skip the PostgreSQL tests, or fail them in CI, which must run them."""
    if os.environ.get("CI"):
        pytest.fail(f"{error} (CI is set: the PostgreSQL tests must run)", pytrace=False)
    pytest.skip(str(error))


def find_bin_dir() -> Path:
    """The folder holding `initdb` and `pg_ctl`, newest version first."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    candidates = [path for pattern in SEARCH for path in Path("/").glob(pattern)]

    def version(folder: Path) -> tuple[int, ...]:
        digits = "".join(c if c.isdigit() else " " for c in str(folder))
        return tuple(int(d) for d in digits.split())

    for folder in sorted(candidates, key=version, reverse=True):
        if (folder / "pg_ctl").exists() and (folder / "initdb").exists():
            return folder
    raise PostgresNotInstalledError(
        "PostgreSQL server programs not found (initdb, pg_ctl on PATH or in "
        "/usr/lib/postgresql/*/bin); install the Debian package `postgresql`, or set "
        "LEADSCORE_TEST_POSTGRES_URL to a database the tests may use"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_owner(command: list[str]) -> list[str]:
    """Run as the `postgres` user when we are root (the server will not run as root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        _as_owner(command), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def restart_postgres(url: str, folder: Path, down_seconds: float = 2.0) -> None:
    """Stop the cluster `start_postgres` made in `folder` (`-m fast`: every connection
    dropped), leave it down `down_seconds`, start it again: a database failing over."""
    port = make_url(url).port
    options = f"-h 127.0.0.1 -k {folder} -c fsync=off -c synchronous_commit=off"
    options += f" -c full_page_writes=off -c max_connections=200 -p {port}"
    pg_ctl, data = str(find_bin_dir() / "pg_ctl"), str(folder / "data")
    _run([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], folder)
    time.sleep(down_seconds)
    log = str(folder / "server.log")  # without it the server keeps our pipe open
    _run([pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "start", "-o", options], folder)


def start_postgres(tmp_dir: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Start a cluster under `tmp_dir` (default: the system temp folder).

    The folder must be reachable by the `postgres` user when running as root,
    which pytest's private `tmp_path` is not; the system temp folder is.
    Returns the SQLAlchemy URL of database `leadscore` and a function that
    stops the cluster and deletes its folder.
    """
    bin_dir = find_bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="leadscore-pg-", dir=tmp_dir))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, log = folder / "data", folder / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")

    def stop() -> None:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                cwd=folder,
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)

    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres"]
        _run([*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"], folder)
        port = _start(pg_ctl, data, log, folder)
        url = f"postgresql://postgres@127.0.0.1:{port}"
        with psycopg.connect(f"{url}/postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
    except BaseException:
        stop()
        raise
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}", stop


def _start(pg_ctl: str, data: Path, log: Path, folder: Path, attempts: int = 3) -> int:
    """Start on a free port; another process may grab the port first, so retry."""
    options = f"-h 127.0.0.1 -k {folder} -c fsync=off -c synchronous_commit=off"
    options += " -c full_page_writes=off -c max_connections=200"
    for attempt in range(attempts):
        port = free_port()
        command = [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"]
        try:
            _run([*command, "-o", f"{options} -p {port}"], folder)
            return port
        except RuntimeError as error:
            if attempt == attempts - 1:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"{error}\nserver log:\n{tail}") from error
            time.sleep(0.2)
    raise AssertionError("unreachable")


def fresh_schema(url: str, schema: str) -> str:
    """`url` with an empty schema `schema` first on its search path (dropped if it existed).

    A schema per test module isolates tests in one database without needing
    the right to create databases (a `LEADSCORE_TEST_POSTGRES_URL` may lack it).
    """
    if not schema.isidentifier():
        raise ValueError(f"schema {schema!r} is not a plain identifier")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        engine.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)
