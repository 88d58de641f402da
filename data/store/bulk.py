"""Many rows into one table in one executemany, without SQLAlchemy's per-row bookkeeping.

The score history writes two rows per score the API answers (the lead, the
score). Through `Connection.execute` each row costs SQLAlchemy tens of
microseconds of Python; here the statement is compiled once per dialect and
each row is only put through the columns' own bind processors (the same
conversions SQLAlchemy applies: JSON text, UTC times as each backend keeps
them), then handed to the driver's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.sql.dml import Insert

Processor = Callable[[Any], Any] | None


class BulkInsert:
    """An INSERT (or upsert) of fixed columns, compiled once per dialect."""

    def __init__(
        self, table: Table, columns: Sequence[str], build: Callable[[Connection], Insert]
    ) -> None:
        self._table = table
        self._columns = list(columns)
        self._build = build
        self._plans: WeakKeyDictionary[Dialect, tuple[str, list[tuple[str, Processor]], bool]]
        self._plans = WeakKeyDictionary()

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Write `rows` (column name -> Python value, for every column given at construction)."""
        if not rows:
            return
        sql, plan, positional = self._plan(connection)
        bound = [self._bound(row, plan) for row in rows]
        params: list[Any] = (
            [tuple(values) for values in bound]
            if positional
            else [dict(zip((key for key, _ in plan), values, strict=True)) for values in bound]
        )
        connection.exec_driver_sql(sql, params)

    @staticmethod
    def _bound(row: Mapping[str, Any], plan: list[tuple[str, Processor]]) -> list[Any]:
        """The row's values through their processors; a value two columns share (a lead's
        payload, also its first payload) is processed once."""
        values: list[Any] = []
        last: tuple[Any, Processor, Any] | None = None
        for key, process in plan:
            value = row[key]
            if process is None:
                values.append(value)
            elif last is not None and last[0] is value and last[1] is process:
                values.append(last[2])
            else:
                last = (value, process, process(value))
                values.append(last[2])
        return values

    def _plan(self, connection: Connection) -> tuple[str, list[tuple[str, Processor]], bool]:
        dialect = connection.dialect
        cached = self._plans.get(dialect)
        if cached is not None:
            return cached
        columns = self._columns
        compiled = self._build(connection).compile(dialect=dialect, column_keys=columns)
        order = list(compiled.positiontup) if compiled.positional and compiled.positiontup else []
        names = order or columns
        plan: list[tuple[str, Processor]] = [
            (name, self._table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        if set(names) != set(columns):
            raise ValueError(
                f"{self._table.name}: the statement binds {names}, rows have {columns}"
            )
        self._plans[dialect] = (compiled.string, plan, bool(order))
        return self._plans[dialect]
