"""`rescore --route`: the best eligible closer for every re-scored lead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.columns import from_frame
from serving.batch.job import load_route_source
from serving.batch.job_errors import InputError
from tests.serving.batch.conftest import read, run
from tests.serving.conftest import Registry


def test_route_adds_the_best_eligible_closer_and_its_fit(
    fit_registry: Registry, leads: pd.DataFrame, leads_file: Path, tmp_path: Path
) -> None:
    source = load_route_source(fit_registry.tracking_uri, "champion", None)
    run(fit_registry, leads_file, tmp_path / "plain.parquet")
    run(fit_registry, leads_file, tmp_path / "routed.parquet", route=source)
    plain, routed = read(tmp_path / "plain.parquet"), read(tmp_path / "routed.parquet")
    np.testing.assert_array_equal(plain["probability"], routed["probability"])
    assert routed["best_closer_id"].notna().all()

    by_id = leads.drop_duplicates("lead_id").set_index("lead_id")
    sample = routed.head(50)
    rows = by_id.loc[sample["lead_id"]].reset_index()
    fits = source.model.fit(from_frame(rows, source.model.input_fields), source.roster)
    regions = np.asarray(source.roster.region, dtype=object)
    for i, (_, row) in enumerate(sample.iterrows()):
        lead_region = rows.loc[i, "company_region"]
        ok = [pd.isna(lead_region) or r is None or r == lead_region for r in regions]
        best = int(np.argmax(np.where(ok, fits[i], -np.inf)))
        assert row["best_closer_id"] == source.roster.rep_ids[best]
        assert row["best_closer_fit"] == fits[i, best]


def test_route_without_a_closer_fit_model_is_a_clear_error(fit_registry: Registry) -> None:
    with pytest.raises(InputError, match="closer-fit"):
        load_route_source(fit_registry.tracking_uri, "nobody", None)


def test_route_with_no_usable_closer_is_a_clear_error(fit_registry: Registry) -> None:
    away = [{"rep_id": "CL001", "role": "closer", "active": True, "available": False}]
    with pytest.raises(InputError, match="no active, available closer"):
        load_route_source(fit_registry.tracking_uri, "champion", away)
