"""What the service needs to know, and nothing else.

The service is configured by its caller (`leadscore serve` maps the
`LEADSCORE_*` settings onto this), so `serving` depends on no shell module.
`ApiOptions` are the knobs a user sets (`LEADSCORE_API__*`); `ServingConfig`
adds where the models and the store are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.assignment.types import PolicyConfig


class ApiOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_batch: int = Field(default=1000, ge=1, description="Most leads in one scoring request.")
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted (bytes); a larger one is a 413 before it "
        "is read. 1,000 leads with custom fields are about 1.5 MB.",
    )
    journal: bool = Field(
        default=True,
        description="Keep the score journal under the home folder (`leadscore serve`): a "
        "killed process then loses no score it answered.",
    )
    journal_fsync: bool = Field(
        default=False,
        description="Flush the score journal to disk before each answer: answered scores then "
        "survive a power loss too, at the cost of a disk flush per request.",
    )
    model_alias: str = Field(default="champion", description="Registry alias the API serves.")
    model_poll_seconds: float = Field(
        default=60,
        ge=0,
        description="How often each process asks the registry which version holds the alias, "
        "and swaps in a new champion when it moved (only the version is read until then); "
        "0 turns polling off (`POST /v1/models/reload` still works).",
    )
    exploration: float = Field(
        default=0.05, ge=0, le=1, description="Share of routing decisions that explore."
    )
    fairness: float = Field(default=0.1, ge=0, description="Strength of the load balancing.")
    policy_seed: int = Field(default=0, description="Seed of the exploration draws.")
    auth: Literal["keys", "none"] = Field(
        default="keys",
        description="keys: every call but health needs an API key with the route's scope "
        "(`leadscore keys create`); none: no check (only behind a gateway that does it).",
    )
    drift_refresh_seconds: float = Field(
        default=300,
        ge=0,
        description="How long the drift gauges of /metrics are reused before a scrape "
        "recomputes them from the store (the last 7 days' scores); 0: on every scrape.",
    )
    rule_score: str | None = Field(
        default="default",
        description="Rule file (YAML) that scores a channel until a model is registered for "
        "it; 'default' is the shipped one; none (or empty) answers 503 instead.",
    )

    @field_validator("rule_score")
    @classmethod
    def _off(cls, value: str | None) -> str | None:
        # An environment variable cannot be null: LEADSCORE_API__RULE_SCORE=none turns it off.
        return None if value is None or value.strip().lower() in ("", "none", "off") else value

    def policy(self) -> PolicyConfig:
        return PolicyConfig(
            fairness=self.fairness, exploration=self.exploration, seed=self.policy_seed
        )


class ServingConfig(ApiOptions):
    tracking_uri: str = Field(description="MLflow tracking and registry URI to load models from.")
    database_url: str | None = Field(
        default=None,
        description="Operational store (SQLAlchemy URL): roster, score history, assignments, "
        "outcomes. Without one, only scoring works.",
    )
    journal_dir: str | None = Field(
        default=None,
        description="Folder of the score journal: every answered score is written there "
        "before the answer and replayed at start if the process died first. None: no "
        "journal (a killed process loses the scores not yet in the history).",
    )
