"""One settings class for the whole service, read from `LEADSCORE_*` variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.config import ApiOptions, ServingConfig


class Settings(BaseSettings):
    """Nested groups take `__`: `LEADSCORE_API__MAX_BATCH=500`."""

    model_config = SettingsConfigDict(
        env_prefix="LEADSCORE_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(
        default=Path(".leadscore"),
        description="Folder for everything generated: MLflow runs, data, databases.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking server or store; MLFLOW_TRACKING_URI also works. "
        "Default: a SQLite store under `home`.",
    )
    experiment: str = "leadscore"
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational store (reps, leads, scores, "
        "assignments, outcomes), e.g. postgresql+psycopg://user@host/leadscore. "
        "Default: a SQLite file under `home`.",
    )
    api: ApiOptions = ApiOptions()

    @property
    def tracking_uri(self) -> str:
        """Explicit setting first, then MLflow's own variable, then the embedded store."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        if env := os.environ.get("MLFLOW_TRACKING_URI"):
            return env
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def database(self) -> str:
        """The operational store: the explicit URL, else the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'leadscore.db').resolve()}"

    @property
    def artifact_location(self) -> str | None:
        """Where a new experiment keeps artifacts; None lets a tracking server decide."""
        if self.tracking_uri.startswith(("sqlite:", "file:")) or "://" not in self.tracking_uri:
            return (self.home / "mlartifacts").resolve().as_uri()
        return None

    def serving(self) -> ServingConfig:
        """The service's configuration, from these settings."""
        return ServingConfig(
            **self.api.model_dump(),
            tracking_uri=self.tracking_uri,
            database_url=self.database,
            journal_dir=str((self.home / "journal").resolve()) if self.api.journal else None,
        )

    @property
    def data_dir(self) -> Path:
        """Default folder for the generated CRM history."""
        return self.home / "data"


@lru_cache
def get_settings() -> Settings:
    return Settings()
