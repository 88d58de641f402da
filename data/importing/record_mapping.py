"""The mapping of a deals, accounts or users export: how its columns become the tables
the rep-fit models learn from (opportunities, customers, reps).

The same YAML as the leads mapping (`data.importing.mapping`), so that one person can
write all four: `source`, `columns` (contract field: export column), `values` (export
value: contract value, per field), `exclude`, `post_contact` and `blanks`. Two keys are
new: `optional` lists the columns a preset names that many orgs lack (custom fields such
as a churn date), used when the file has them and noted when not; and a deals mapping's
`outcome` says which stages are won and lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from data.contract import Region, Role
from data.importing.mapping import (
    DEFAULT_BLANKS,
    MappingFile,
    Source,
    StrictModel,
    read_yaml,
)

RecordTable = Literal["deals", "accounts", "users"]
RECORD_TABLES: tuple[RecordTable, ...] = ("deals", "accounts", "users")
TABLE_NAMES: dict[str, RecordTable] = {
    "deals": "deals",
    "opportunities": "deals",
    "accounts": "accounts",
    "companies": "accounts",
    "users": "users",
    "owners": "users",
}
"""`--table` values, with each CRM's own word for the table."""
PRESET_FILES: dict[str, dict[RecordTable, str]] = {
    "salesforce": {
        "deals": "salesforce-opportunities",
        "accounts": "salesforce-accounts",
        "users": "salesforce-users",
    },
    "hubspot": {
        "deals": "hubspot-deals",
        "accounts": "hubspot-companies",
        "users": "hubspot-owners",
    },
}
Kind = Literal["id", "text", "date", "number", "count", "boolean", "region", "role"]
FIELDS: dict[RecordTable, dict[str, Kind]] = {
    "deals": {
        "opportunity_id": "id",
        "closer_id": "id",
        "account_id": "id",
        "lead_id": "id",
        "opened_at": "date",
        "closed_at": "date",
        "value": "number",
        "source": "text",
    },
    "accounts": {
        "account_id": "id",
        "account_manager_id": "id",
        "company_name": "text",
        "company_industry": "text",
        "company_size": "count",
        "company_revenue": "number",
        "company_region": "region",
        "company_country": "text",
        "customer_since": "date",
        "churned_on": "date",
        "account_value": "number",
        "expansion_value": "number",
    },
    "users": {
        "rep_id": "id",
        "name": "text",
        "role": "role",
        "region": "region",
        "capacity": "count",
        "active": "boolean",
    },
}
"""The fields each table's mapping may name under `columns`, and how each is cleaned."""
REQUIRED: dict[RecordTable, tuple[str, ...]] = {
    "deals": ("opportunity_id", "closer_id", "opened_at"),
    "accounts": ("account_id",),
    "users": ("rep_id",),
}
"""Fields without which a row is rejected (and which the mapping must name)."""
OUTCOME_FIELDS: dict[RecordTable, frozenset[str]] = {
    "deals": frozenset({"closed_at", "value"}),
    "accounts": frozenset({"customer_since", "churned_on", "account_value", "expansion_value"}),
    "users": frozenset(),
}
"""Fields that hold outcomes: known after the decision, so never features; a mapping may
name a post-contact column for them (the deal's amount at close, say)."""
ALLOWED_VALUES: dict[Kind, frozenset[str]] = {
    "region": frozenset(r.value for r in Region),
    "role": frozenset(r.value for r in Role),
}


def _texts(values: list[Any]) -> list[str]:
    # YAML reads `true` and `1` as bool and int; the export holds text.
    return [str(v).strip().lower() for v in values]


class StageOutcome(StrictModel):
    """Which stages of a deal are won and lost; any other stage is open."""

    column: str
    won: list[str] = Field(min_length=1)
    lost: list[str] = Field(min_length=1)
    open: list[str] | None = Field(
        default=None,
        description="The open stages; when given, a stage in none of the three lists "
        "stops the import (without it, every other stage counts as open).",
    )

    @field_validator("won", "lost", "open", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        return _texts(values) if isinstance(values, list) else values


class RecordMapping(MappingFile):
    table: RecordTable
    source: Source = Source()
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    outcome: StageOutcome | None = None
    channel: Literal["inbound", "outbound"] = Field(
        default="inbound",
        description="Deals only: the channel of a deal whose lead is not imported.",
    )
    optional: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    post_contact: list[str] = Field(default_factory=list)
    blanks: list[str] = Field(default_factory=lambda: list(DEFAULT_BLANKS))

    @field_validator("values", mode="before")
    @classmethod
    def _lower_keys(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {
            field: {str(k).strip().lower(): str(v) for k, v in (mapped or {}).items()}
            if isinstance(mapped, dict)
            else mapped
            for field, mapped in values.items()
        }

    @model_validator(mode="after")
    def _fields_of_the_table(self) -> RecordMapping:
        fields = FIELDS[self.table]
        for name in self.columns:
            if name not in fields:
                raise ValueError(
                    f"columns: '{name}' is not a field of a {self.table} import; "
                    f"known: {', '.join(fields)}"
                )
        for name in REQUIRED[self.table]:
            if name not in self.columns:
                raise ValueError(f"columns: {self.table} need '{name}' (the column holding it)")
        for name, mapped in self.values.items():
            if name not in self.columns:
                raise ValueError(f"values: '{name}' is not mapped under columns")
            allowed = ALLOWED_VALUES.get(fields[name])
            bad = sorted(set(mapped.values()) - allowed) if allowed else []
            if bad:
                raise ValueError(
                    f"values.{name}: {', '.join(bad)} not one of {', '.join(sorted(allowed or ()))}"
                )
        if (self.table == "deals") != (self.outcome is not None):
            raise ValueError(
                "outcome: deals need one (the stage column and its won and lost values)"
                if self.table == "deals"
                else f"outcome: a {self.table} mapping has no outcome"
            )
        return self

    def used_columns(self) -> dict[str, str]:
        """Every export column the mapping reads, with the mapping key naming it."""
        used = {column: f"columns.{field}" for field, column in self.columns.items()}
        if self.outcome is not None:
            used[self.outcome.column] = "outcome.column"
        return used

    def without(self, dropped: list[str]) -> RecordMapping:
        """The mapping less the fields read from `dropped` columns."""
        trimmed = self.model_copy(
            update={
                "columns": {f: c for f, c in self.columns.items() if c not in dropped},
                "values": {f: v for f, v in self.values.items() if self.columns[f] not in dropped},
            }
        )
        return self.keep_origin(trimmed)


def table_of(name: str) -> RecordTable:
    """The table a `--table` value means (deals, accounts or users), or a clear error."""
    table = TABLE_NAMES.get(name.strip().lower())
    if table is None:
        known = ", ".join(["leads", *TABLE_NAMES])
        raise ValueError(f"--table: unknown table '{name}'; known: {known}")
    return table


def load_record_mapping(path: Path | str, table: str) -> RecordMapping:
    """Read a mapping file of a `table` export, or its preset by CRM name (salesforce,
    hubspot): e.g. `salesforce` for deals reads presets/salesforce-opportunities.yaml."""
    wanted = table_of(table)
    presets = {crm: files[wanted] for crm, files in PRESET_FILES.items()}
    file, raw, lines = read_yaml(path, presets)
    given = raw.get("table")
    if given is None:
        raise ValueError(
            f"{file.name}: table: missing; say which export this maps (table: {wanted})"
        )
    if TABLE_NAMES.get(str(given).lower()) not in (None, wanted):
        raise ValueError(
            f"{file.name}: maps a {given} export, not {wanted}; import it with --table {given}"
        )
    raw = raw | {"table": TABLE_NAMES.get(str(given).lower(), given)}
    return RecordMapping.from_yaml(file, raw, lines)
