"""The mapping file: how the columns of one CRM export become contract fields.

A mapping is YAML so that a sales-ops person can write one without Python;
errors name the file and the key to fix, because the person reading them is
editing that file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from data.contract import Lead, table_fields

PRESETS = Path(__file__).parent / "presets"
DEFAULT_BLANKS = ["", "Select", "N/A", "n/a", "NA", "-", "null", "None"]
OWN_KEYS = ("created_at", "channel")
"""Contract fields with their own mapping key, not listed under `columns`."""
NONE = "none"
"""`created_at: none` or `lead_id: none`: the export has no such column."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingFile(StrictModel):
    """A mapping read from a YAML file, which remembers the file's line of each key so a
    message can point at what to fix."""

    _origin: str = PrivateAttr(default="<mapping>")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_yaml(cls, file: Path, raw: Any, lines: dict[str, int]) -> Self:
        """Validate what `read_yaml` read from `file`; a bad key is refused with its line."""
        try:
            mapping = cls.model_validate(raw)
        except ValidationError as error:
            raise first_error(file, error) from error
        mapping._origin = file.name
        mapping._lines = lines
        return mapping

    def where(self, key: str) -> str:
        """'mapping.yaml line 7: columns.company_size', to point at what to fix."""
        line = self._lines.get(key)
        return f"{self._origin} line {line}: {key}" if line else f"{self._origin}: {key}"

    @property
    def origin(self) -> str:
        """The file the mapping was read from."""
        return self._origin

    def keep_origin(self, copy: Self) -> Self:
        """`copy` (a changed copy of this mapping) still pointing at this mapping's file."""
        copy._origin, copy._lines = self._origin, self._lines
        return copy


class Source(StrictModel):
    format: Literal["csv"] = "csv"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"


class Extra(StrictModel):
    kind: Literal["categorical", "numeric", "boolean", "timestamp"]


class Join(StrictModel):
    """A second export joined onto the first by a key, e.g. the deals of each lead."""

    file: str = Field(description="CSV file, relative to the main export's folder.")
    key: str = Field(min_length=1, description="Key column, present in both files.")
    post_contact: bool = Field(
        default=False,
        description="Everything in this file is known only after first contact (a deals "
        "export, say): usable as the outcome, never as a feature.",
    )


def _texts(values: list[Any]) -> list[str]:
    # YAML reads `true` and `1` as bool and int; the export holds text.
    return [str(v).strip().lower() for v in values]


class OpenLeads(StrictModel):
    """Leads still being worked: neither converted nor lost, so not an outcome yet."""

    column: str | None = Field(
        default=None,
        min_length=1,
        description="The column that says a lead is still open; default: the outcome column.",
    )
    values: list[str] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        return _texts(values) if isinstance(values, list) else values


class Outcome(StrictModel):
    column: str
    converted: list[str] | None = Field(default=None, min_length=1)
    not_converted: list[str] | None = None
    converted_if_filled: bool = Field(
        default=False,
        description="Any value means converted, a blank means not (e.g. a won date).",
    )
    open: OpenLeads | None = Field(
        default=None,
        description="Leads still being worked are undecided (no outcome), unless converted.",
    )
    decided_after_days: int | None = Field(
        default=None,
        ge=1,
        strict=True,
        description="Leads created fewer days than this before the newest creation date in "
        "the export are undecided: too young for their outcome to be known.",
    )

    @field_validator("converted", "not_converted", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        return _texts(values) if isinstance(values, list) else values

    @model_validator(mode="after")
    def _one_rule(self) -> Outcome:
        if (self.converted is None) == (not self.converted_if_filled):
            raise ValueError(
                "give either converted (the values meaning converted) or "
                "converted_if_filled: true, not both"
            )
        if self.converted_if_filled and self.not_converted is not None:
            raise ValueError("not_converted has no meaning with converted_if_filled")
        return self

    @field_validator("open")
    @classmethod
    def _open_apart(cls, open_: OpenLeads | None, info: ValidationInfo) -> OpenLeads | None:
        """On the outcome column itself, a value cannot mean both open and decided."""
        if open_ is None or open_.column not in (None, info.data.get("column")):
            return open_
        if info.data.get("converted_if_filled"):
            raise ValueError(
                "needs a column of its own with converted_if_filled (any value of the "
                "outcome column means converted, so it cannot also say a lead is open)"
            )
        decided = {*(info.data.get("converted") or []), *(info.data.get("not_converted") or [])}
        if clash := sorted(decided.intersection(open_.values)):
            raise ValueError(
                f"{', '.join(repr(v) for v in clash)} also listed as converted or "
                "not_converted; a value of the outcome column can mean only one"
            )
        return open_

    @property
    def open_column(self) -> str | None:
        """The export column that says a lead is still open, or None without an open rule."""
        if self.open is None:
            return None
        return self.open.column or self.column

    @property
    def columns(self) -> list[str]:
        """Every export column the outcome is read from: never a feature."""
        return list(dict.fromkeys(c for c in (self.column, self.open_column) if c is not None))


class Mapping(MappingFile):
    source: Source = Source()
    joins: list[Join] = Field(default_factory=list)
    columns: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Extra] = Field(default_factory=dict)
    outcome: Outcome
    created_at: str | None = Field(
        default=None,
        description="The creation-time column; omitted or none when the export has none "
        "(the import then stamps every row with its own time and says so).",
    )
    exclude: list[str] = Field(default_factory=list)
    post_contact: list[str] = Field(default_factory=list)
    blanks: list[str] = Field(default_factory=lambda: list(DEFAULT_BLANKS))
    channel: str = Field(description='"inbound", "outbound" or the column that holds it.')
    converted_opportunity: str | None = Field(
        default=None,
        description="The column naming the deal each lead became (Salesforce's "
        "ConvertedOpportunityId): links deals to their leads, never a feature. Used when "
        "the export has it, noted when not.",
    )

    @field_validator("created_at", mode="before")
    @classmethod
    def _no_dates(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() == NONE else value

    @field_validator("columns")
    @classmethod
    def _contract_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        for name in columns:
            if name in OWN_KEYS:
                raise ValueError(f"'{name}' has its own top-level key, not one under columns")
            if name not in table_fields(Lead):
                raise ValueError(f"'{name}' is not a field of the leads contract")
        # Without an id column the import derives ids from the line numbers.
        return {f: c for f, c in columns.items() if not (f == "lead_id" and c.lower() == NONE)}

    @field_validator("extra")
    @classmethod
    def _no_clash(cls, extra: dict[str, Extra]) -> dict[str, Extra]:
        for name in extra:
            if name in Lead.model_fields or name == "converted":
                raise ValueError(f"extra column '{name}' clashes with a contract field")
        return extra

    @property
    def id_column(self) -> str | None:
        """The export column holding the CRM's record id, or None: ids come from line numbers."""
        return self.columns.get("lead_id")

    @property
    def channel_column(self) -> str | None:
        """The export column holding the channel, or None for a constant channel."""
        return None if self.channel in ("inbound", "outbound") else self.channel

    def used_columns(self) -> dict[str, str]:
        """Every export column the mapping reads, with the mapping key naming it."""
        used = {column: f"columns.{field}" for field, column in self.columns.items()}
        used |= {column: f"extra.{column}" for column in self.extra}
        if self.outcome.open is not None and self.outcome.open.column is not None:
            used[self.outcome.open.column] = "outcome.open.column"
        used[self.outcome.column] = "outcome.column"
        if self.created_at is not None:
            used[self.created_at] = "created_at"
        if self.channel_column is not None:
            used[self.channel_column] = "channel"
        return used


def _key_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """The 1-based line of every key in a YAML document, by dotted path."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            lines[path] = key.start_mark.line + 1
            lines |= _key_lines(value, f"{path}.")
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[f"{prefix}{index}"] = item.start_mark.line + 1
            lines |= _key_lines(item, f"{prefix}{index}.")
    return lines


def read_yaml(
    path: Path | str, presets: dict[str, str] | None = None
) -> tuple[Path, dict[str, Any], dict[str, int]]:
    """A mapping file (or a preset by name) as a dict, with the line of every key."""
    file = Path(path)
    preset = (presets or {}).get(str(path), str(path))
    if not file.suffix and not file.exists() and (PRESETS / f"{preset}.yaml").exists():
        file = PRESETS / f"{preset}.yaml"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the mapping ({error.strerror})") from error
    try:
        raw = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{file.name}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"{file.name}: expected a mapping of keys, found {type(raw).__name__}")
    return file, raw, _key_lines(node) if node is not None else {}


def first_error(file: Path, error: ValidationError) -> ValueError:
    """The first validation error as 'file: key: message'."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top)"
    problem = str(first["msg"]).removeprefix("Value error, ")
    return ValueError(f"{file.name}: {key}: {problem}")


def load_mapping(path: Path | str) -> Mapping:
    """Read a mapping file, or a preset by name ("salesforce", "hubspot")."""
    file, raw, lines = read_yaml(path)
    return Mapping.from_yaml(file, raw, lines)
