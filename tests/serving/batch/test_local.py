"""The local engine: every input shape, CSV output, rejects, batches, and all-or-nothing output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from serving.batch.job import RescoreOptions, rescore
from serving.batch.job_errors import InputError
from tests.serving.batch.conftest import BROKEN_FIELDS, read, run, same_scores
from tests.serving.conftest import Registry

pytestmark = pytest.mark.slow


def test_a_parquet_folder_and_a_csv_give_the_numbers_of_one_parquet_file(
    registry: Registry, leads: pd.DataFrame, leads_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for i, start in enumerate(range(0, len(leads), 250)):
        leads.iloc[start : start + 250].to_parquet(folder / f"part-{i}.parquet", index=False)
    (folder / "_SUCCESS").touch()  # bookkeeping files are skipped
    leads.to_csv(tmp_path / "leads.csv", index=False)

    run(registry, leads_file, tmp_path / "file.parquet")
    run(registry, folder, tmp_path / "folder.parquet")
    run(registry, tmp_path / "leads.csv", tmp_path / "csv.parquet")

    expected = read(tmp_path / "file.parquet")
    assert len(expected) == len(leads)
    same_scores(read(tmp_path / "folder.parquet"), expected)
    same_scores(read(tmp_path / "csv.parquet"), expected)


def test_csv_output_holds_the_same_numbers(
    registry: Registry, leads_file: Path, tmp_path: Path
) -> None:
    run(registry, leads_file, tmp_path / "scores.parquet", reasons=3)
    run(registry, leads_file, tmp_path / "scores.csv", reasons=3)
    same_scores(read(tmp_path / "scores.csv"), read(tmp_path / "scores.parquet"))
    assert (tmp_path / "scores.rejects.csv").read_text().splitlines() == ['"lead_id","reason"']


def test_small_batches_give_the_same_result_in_the_same_order(
    registry: Registry, leads_file: Path, tmp_path: Path
) -> None:
    whole = run(registry, leads_file, tmp_path / "one.parquet")
    small = run(registry, leads_file, tmp_path / "many.parquet", batch_size=64, threads=1)
    one = pd.read_parquet(tmp_path / "one.parquet")
    many = pd.read_parquet(tmp_path / "many.parquet")
    assert one["lead_id"].tolist() == many["lead_id"].tolist()  # input order, not sorted
    same_scores(one, many)
    assert whole.grades == small.grades


def test_broken_rows_go_to_the_rejects_file_and_the_job_goes_on(
    registry: Registry, mixed_file: Path, tmp_path: Path
) -> None:
    summary = run(registry, mixed_file, tmp_path / "scores.parquet", batch_size=128)
    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet")
    assert summary.rows_rejected == len(rejects) == len(BROKEN_FIELDS)
    assert summary.rows_scored == summary.rows_read - len(BROKEN_FIELDS)
    assert len(pd.read_parquet(tmp_path / "scores.parquet")) == summary.rows_scored
    assert rejects["lead_id"].tolist() == ["bad-0", "bad-1", "bad-2", "bad-3", None]
    assert [r.split(":")[0] for r in rejects["reason"]] == BROKEN_FIELDS
    assert rejects["reason"][1] == (
        "company_region: 'mars' is not one of north_america, emea, apac, latam"
    )
    assert sum(sum(g.values()) for g in summary.grades.values()) == summary.rows_scored


def test_a_job_that_fails_midway_leaves_no_output(
    registry: Registry, leads_file: Path, tmp_path: Path
) -> None:
    class Interrupted:
        def start(self, total: int | None) -> None:
            assert total == 600

        def advance(self, rows: int) -> None:
            raise KeyboardInterrupt  # what Ctrl-C does after the first batch

    out = tmp_path / "out"
    options = RescoreOptions(
        input=leads_file,
        output=out / "scores.parquet",
        tracking_uri=registry.tracking_uri,
        batch_size=100,
    )
    with pytest.raises(KeyboardInterrupt):
        rescore(options, Interrupted())
    assert list(out.iterdir()) == []  # no scores, no rejects, no temporary files


def test_a_rerun_replaces_the_previous_results(
    registry: Registry, leads: pd.DataFrame, tmp_path: Path
) -> None:
    output = tmp_path / "scores.parquet"
    leads.head(10).to_parquet(tmp_path / "ten.parquet", index=False)
    leads.head(20).to_parquet(tmp_path / "twenty.parquet", index=False)
    run(registry, tmp_path / "twenty.parquet", output)
    run(registry, tmp_path / "ten.parquet", output)
    assert len(pd.read_parquet(output)) == 10
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_extra_columns_are_ignored_and_reported_and_optional_ones_may_be_absent(
    registry: Registry, leads: pd.DataFrame, leads_file: Path, tmp_path: Path
) -> None:
    odd = leads.drop(columns=["company_name", "replies"]).assign(crm_owner="ann")
    odd.to_parquet(tmp_path / "odd.parquet", index=False)
    summary = run(registry, tmp_path / "odd.parquet", tmp_path / "odd-scores.parquet")
    assert summary.ignored_columns == ("crm_owner",)
    assert summary.rows_scored == len(leads)
    run(registry, leads_file, tmp_path / "full.parquet")
    inbound = read(tmp_path / "full.parquet")["channel"] == "inbound"
    # Inbound models never read replies: their leads score exactly as before.
    same_scores(
        read(tmp_path / "odd-scores.parquet")[inbound], read(tmp_path / "full.parquet")[inbound]
    )


def test_the_output_may_not_overwrite_the_input(registry: Registry, leads_file: Path) -> None:
    with pytest.raises(InputError, match="would overwrite the input"):
        run(registry, leads_file, leads_file)
