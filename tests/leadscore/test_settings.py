"""Settings: where the operational store lives by default and how to move it."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.settings import Settings


def test_database_defaults_to_a_sqlite_file_in_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADSCORE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(home=Path("relative-home"))
    assert settings.database == f"sqlite:///{tmp_path / 'relative-home' / 'leadscore.db'}"
    assert Path(settings.database.removeprefix("sqlite:///")).is_absolute()


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://leadscore@db.internal/leadscore"
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", url)
    assert Settings().database == url


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "default"), ("rules/mine.yaml", "rules/mine.yaml"), ("none", None)],
)
def test_the_rule_score_setting_reaches_the_service(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str | None
) -> None:
    monkeypatch.delenv("LEADSCORE_API__RULE_SCORE", raising=False)
    if value is not None:
        monkeypatch.setenv("LEADSCORE_API__RULE_SCORE", value)
    assert Settings().serving().rule_score == expected
