"""The PostgreSQL test harness: a missing server is a skip locally, a failure in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import postgres


@pytest.fixture
def no_postgres(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "SEARCH", ("nowhere/*/bin",))


@pytest.mark.usefixtures("no_postgres")
def test_missing_postgres_names_what_to_install() -> None:
    with pytest.raises(postgres.PostgresNotInstalledError, match=r"initdb.*LEADSCORE_TEST"):
        postgres.find_bin_dir()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)]
)
@pytest.mark.usefixtures("no_postgres")
def test_missing_postgres_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(postgres.PostgresNotInstalledError) as missing:
        postgres.start_postgres()
    with pytest.raises(outcome, match="PostgreSQL server programs not found"):
        postgres.not_installed(missing.value)
