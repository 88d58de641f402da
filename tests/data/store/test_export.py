"""Exporting the store as a training folder: first payloads, outcomes, decisions, row by row."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data.importing.importer import METADATA_KEY
from data.store import CustomerIn, OutcomeIn, ScoreIn, Store
from data.store.export import StoreNotReadyError, export_store
from data.store.export_routing import DECISION_COLUMNS
from data.store.migrate import downgrade
from tests.data.store.helpers import NOW, make_assignment, make_lead, make_rep
from training.labelled import load_labelled

OLD = datetime(2025, 9, 1, 9, 0)


def cells(frame: pd.DataFrame, key: str, names: list[str]) -> list[object]:
    """The row's values of `names`, as plain Python values to compare."""
    return [frame.at[key, name] for name in names]


def missing(value: object) -> bool:
    return bool(pd.Series([value]).isna().iloc[0])


def scoring(lead_id: str, minutes: int = 0, **fields: object) -> ScoreIn:
    return ScoreIn(
        lead=make_lead(lead_id, **fields),
        model_name="lead-score-inbound",
        model_version="1",
        probability=0.5,
        score=50,
        grade="C",
        scored_at=NOW + timedelta(minutes=minutes),
    )


def outcome(event_id: str, type_: str, subject: str, days: int = 10, **fields: Any) -> OutcomeIn:
    key = "lead_id" if type_ in ("contacted", "qualified", "won", "lost") else "customer_id"
    at = NOW + timedelta(days=days)
    return OutcomeIn.model_validate(
        {"event_id": event_id, "type": type_, key: subject, "occurred_at": at, **fields}
    )


@pytest.fixture
def history(store: Store) -> Store:
    """L1 won by C1 (re-scored with later fields), L2 lost by C2 (explored), L3 only
    contacted, L4 won but young, L5 the newest lead; customer K1 from L1, renewed."""
    for rep in (
        make_rep("C1"),
        make_rep("C2"),
        make_rep("IS1", role="inbound_specialist"),
        make_rep("AM1", role="account_manager", capacity=5),
    ):
        store.put_rep(rep)
    first: dict[str, Any] = {
        "created_at": OLD,
        "web_visits": 2,
        "demo_requested": None,
        "custom_fields": {"landing_page": "a7", "ad_clicks": 3.0},
    }
    store.record_scores([scoring("L1", **first)])
    later = {
        **first,
        "web_visits": 40,
        "demo_requested": True,
        "custom_fields": {"landing_page": "zz", "ad_clicks": 9.0},
    }
    store.record_scores(
        [
            scoring("L1", 60, **later),
            scoring("L2", custom_fields={"landing_page": "b1"}, created_at=OLD, web_visits=5),
            scoring("L3", created_at=OLD + timedelta(days=1)),
            scoring("L4", created_at=datetime(2026, 2, 10)),
            scoring("L5", created_at=datetime(2026, 2, 20)),
        ]
    )
    assert store.reserve_and_record(make_assignment("L1", "C1", propensity=0.8)) is not None
    explored = make_assignment("L2", "C2", propensity=0.2, explored=True, policy="epsilon")
    assert store.reserve_and_record(explored) is not None
    assert store.reserve_and_record(make_assignment("L4", "C1", propensity=0.7)) is not None
    for event in (
        outcome("E1", "won", "L1", value=5000.0, rep_id="C1"),
        outcome("E2", "lost", "L2", days=12, rep_id="C2"),
        outcome("E3", "contacted", "L3", rep_id="IS1"),
        outcome("E4", "won", "L4", value=900.0),
    ):
        assert store.record_outcome(event).stored
    store.put_customer(CustomerIn(customer_id="K1", lead_id="L1", payload={"plan": "pro"}))
    customer = make_assignment("K1", "AM1", kind="customer", propensity=1.0, runners_up=[])
    assert store.reserve_and_record(customer) is not None
    assert store.record_outcome(outcome("E5", "renewed", "K1", days=380)).stored
    return store


def test_export_keeps_each_lead_as_first_scored(history: Store, tmp_path: Path) -> None:
    export_store(history.url, tmp_path)
    leads = pd.read_parquet(tmp_path / "leads.parquet").set_index("lead_id")
    assert list(leads.index) == ["L1", "L2", "L3", "L4", "L5"]
    assert leads.loc["L1", "web_visits"] == 2  # not 40: scored again after contact
    assert missing(leads.loc["L1", "demo_requested"])
    assert leads.loc["L1", "landing_page"] == "a7"
    assert leads.loc["L1", "ad_clicks"] == 3.0
    assert leads.loc["L2", "landing_page"] == "b1"
    assert missing(leads.loc["L2", "ad_clicks"])
    assert leads.loc["L1", "created_at"] == pd.Timestamp(OLD)
    assert leads.loc["L1", "company_industry"] == "software"


def test_export_labels_from_won_and_lost_events(history: Store, tmp_path: Path) -> None:
    exported = export_store(history.url, tmp_path)
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet").set_index("lead_id")
    assert str(outcomes["converted"].dtype) == "Int64"
    converted = outcomes["converted"].to_dict()
    assert (converted["L1"], converted["L2"]) == (1, 0)
    # L3: contacted only; L4: won, but created 10 days before the newest lead; L5: nothing.
    assert all(missing(converted[lead]) for lead in ("L3", "L4", "L5"))
    assert (exported.converted, exported.not_converted) == (1, 1)
    assert (exported.open, exported.too_young, exported.undecided) == (2, 1, 3)
    # Qualified: L1 won and L2 lost (both had an opportunity), L3 never did though old
    # enough; L4 and L5 are too young whatever happened.
    qualified = outcomes["qualified"].to_dict()
    assert (qualified["L1"], qualified["L2"], qualified["L3"]) == (1, 1, 0)
    assert missing(qualified["L4"]) and missing(qualified["L5"])
    assert exported.outcome_events == 5
    described = json.loads(pq.read_schema(tmp_path / "leads.parquet").metadata[METADATA_KEY])
    assert described["outcomes"] == {"converted": 1, "not_converted": 1, "open": 2, "too_young": 1}
    assert described["extra"] == {"ad_clicks": "numeric", "landing_page": "categorical"}
    assert described["created_at"]["real"] and described["lead_id"]["real"]
    labelled = load_labelled(tmp_path)  # the trainers read it as an import
    assert labelled.imported and labelled.custom == described["extra"]
    assert labelled.outcomes.set_index("lead_id")["resolved"].to_dict() == {
        "L1": True,
        "L2": True,
        "L3": False,
        "L4": False,
        "L5": False,
    }
    assert labelled.targets == ("converted", "qualified")
    assert labelled.target("qualified") == "qualified"
    by_qualified = labelled.for_target("qualified").outcomes.set_index("lead_id")
    assert by_qualified["resolved"].to_dict() == {
        "L1": True,
        "L2": True,
        "L3": True,
        "L4": False,
        "L5": False,
    }
    assert by_qualified["qualified"].to_dict() == {"L1": 1, "L2": 1, "L3": 0, "L4": 0, "L5": 0}


def test_a_shorter_maturity_decides_the_young_won_lead(history: Store, tmp_path: Path) -> None:
    exported = export_store(history.url, tmp_path, decided_after_days=5)
    outcomes = pd.read_parquet(tmp_path / "outcomes.parquet").set_index("lead_id")
    assert outcomes.loc["L4", "converted"] == 1
    assert (exported.converted, exported.too_young) == (2, 0)


def test_export_carries_the_logged_propensities(history: Store, tmp_path: Path) -> None:
    exported = export_store(history.url, tmp_path)
    decisions = pd.read_parquet(tmp_path / "decisions.parquet")
    assert list(decisions.columns) == list(DECISION_COLUMNS)
    rows = decisions.set_index("subject_id")
    assert cells(rows, "L1", ["rep_id", "propensity", "explored", "outcome", "reward"]) == [
        "C1",
        0.8,
        False,
        "won",
        1,
    ]
    assert cells(rows, "L2", ["rep_id", "propensity", "explored", "policy", "reward"]) == [
        "C2",
        0.2,
        True,
        "epsilon",
        0,
    ]
    assert cells(rows, "K1", ["kind", "rep_id", "propensity", "outcome", "reward"]) == [
        "customer",
        "AM1",
        1.0,
        "renewed",
        1,
    ]
    assert json.loads(str(rows.at["L1", "runners_up"]))[0]["rep_id"] == "C2"
    assert not missing(rows.loc["L1", "released_at"])  # the won event released C1
    assert (exported.decisions, exported.explored) == (4, 1)


def test_export_writes_the_fit_tables(history: Store, tmp_path: Path) -> None:
    export_store(history.url, tmp_path)
    deals = pd.read_parquet(tmp_path / "opportunities.parquet").set_index("lead_id")
    assert cells(deals, "L1", ["closer_id", "won", "value"]) == ["C1", True, 5000.0]
    assert cells(deals, "L2", ["closer_id", "won"]) == ["C2", False]
    assert missing(deals.loc["L2", "value"])
    assert deals.loc["L2", "closed_at"] == pd.Timestamp(NOW.replace(tzinfo=None) + timedelta(12))
    customers = pd.read_parquet(tmp_path / "customers.parquet")
    assert customers[["customer_id", "lead_id", "account_manager_id"]].values.tolist() == [
        ["K1", "L1", "AM1"]
    ]
    assert customers.loc[0, "retained_12m"]
    assert customers.loc[0, "account_value"] == 5000.0  # the won deal's value
    assert customers.loc[0, "company_size"] == 120
    assert customers.loc[0, "opportunity_id"] == deals.loc["L1", "opportunity_id"]
    reps = pd.read_parquet(tmp_path / "reps.parquet")
    assert sorted(reps["rep_id"]) == ["AM1", "C1", "C2", "IS1"]


def test_an_empty_store_exports_empty_tables(store: Store, tmp_path: Path) -> None:
    exported = export_store(store.url, tmp_path)
    assert (exported.leads, exported.decisions, exported.outcome_events) == (0, 0, 0)
    assert pd.read_parquet(tmp_path / "outcomes.parquet").empty


def test_a_store_behind_the_schema_is_refused(store: Store, tmp_path: Path) -> None:
    downgrade(store.url, "0004")
    try:
        with pytest.raises(StoreNotReadyError, match="leadscore db upgrade"):
            export_store(store.url, tmp_path)
    finally:
        from data.store import upgrade

        upgrade(store.url)
    assert not (tmp_path / "leads.parquet").exists()
