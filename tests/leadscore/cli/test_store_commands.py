"""`leadscore keys`: create (the key printed once), list, revoke, and the bad paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data.store import Store
from leadscore.cli import app
from leadscore.settings import get_settings

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LEADSCORE_HOME", str(tmp_path))
    monkeypatch.delenv("LEADSCORE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_create_list_revoke(home: Path) -> None:
    created = runner.invoke(
        app,
        ["keys", "create", "--name", "crm", "--scope", "score", "--scope", "outcomes"],
        env=WIDE,
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    with Store(get_settings().database) as store:
        key = store.verify_api_key(token)
    assert key is not None and key.scopes == ["outcomes", "score"]
    listed = runner.invoke(app, ["keys", "list"], env=WIDE)
    assert key.key_id in listed.output and "outcomes, score" in listed.output
    assert token not in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", key.key_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with Store(get_settings().database) as store:
        assert store.verify_api_key(token) is None


def test_bad_scope_and_unknown_id_fail_in_one_line(home: Path) -> None:
    bad = runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "root"])
    assert bad.exit_code == 1
    assert "scopes must be some of score, route, outcomes, read, admin; got root" in bad.output
    missing = runner.invoke(app, ["keys", "revoke", "nope"])
    assert missing.exit_code == 1 and "unknown API key: key_id 'nope'" in missing.output
