"""Reading and writing the contract tables as Parquet files in one folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data.contract import TABLES, arrow_schema


class MissingTableError(FileNotFoundError):
    """A contract table the caller needs is not in the data folder."""


def table_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.parquet"


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write `frame` as contract table `name`, casting to the contract schema.

    The file is written under a temporary name and renamed, so a reader never
    sees half a table.
    """
    schema = arrow_schema(TABLES[name])
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    folder.mkdir(parents=True, exist_ok=True)
    path = table_path(folder, name)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def read_table(folder: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read contract table `name` from `folder`, with a clear error if it is absent.

    `columns` reads only those columns, which is much cheaper on wide tables.
    """
    path = table_path(folder, name)
    if not path.exists():
        raise MissingTableError(
            f"{path}: no '{name}' table in {folder} (expected {name}.parquet; "
            "`leadscore generate --out DIR` writes a synthetic set)"
        )
    frame: pd.DataFrame = pq.read_table(path, columns=columns).to_pandas()
    return frame
