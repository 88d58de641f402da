"""`leadscore train --from-store`: a generated history lived through the store, then trained on.

The history's leads are scored into a store, routed to the closers and account
managers the generator gave them, and their outcomes reported as a CRM would;
training then reads only the store.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from data.contract import Lead
from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import generate
from data.labels import MATURITY_DAYS, lead_outcomes
from data.store import AssignmentIn, CustomerIn, OutcomeIn, RepIn, ScoreIn, Store, upgrade
from leadscore.cli import app
from leadscore.settings import get_settings
from tests.postgres import fresh_schema
from training.rep_pipeline import logged_propensities

LEADS = 4_000
runner = CliRunner()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for missing values, as a CRM would post them."""
    rows = frame.astype(object).to_dict("records")
    return [{str(k): None if _missing(v) else v for k, v in row.items()} for row in rows]


def _missing(value: object) -> bool:
    return value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def scoring(lead: Lead, at: pd.Timestamp) -> ScoreIn:
    return ScoreIn(
        lead=lead,
        model_name="lead-score-" + lead.channel,
        model_version="1",
        probability=0.1,
        score=10,
        grade="D",
        scored_at=at,
    )


def live_through(store: Store, tables: dict[str, pd.DataFrame]) -> None:
    """Score, route and close the history's leads and customers through the Store API.

    Won leads are scored again with a meeting booked (a field the CRM fills in after
    contact): the export must keep the first payload. A lead without a deal is
    reported lost once it is `MATURITY_DAYS` old, as a CRM closing it would.
    """
    for rep in records(tables["reps"]):
        rep["capacity"] = 100_000  # the history's owners, whatever their load then
        store.put_rep(RepIn.model_validate(rep))
    leads = tables["leads"]
    first = [Lead.model_validate(row) for row in records(leads)]
    store.record_scores(scoring(lead, pd.Timestamp(lead.created_at)) for lead in first)
    labels = lead_outcomes(leads, tables["opportunities"]).set_index("lead_id")
    later = [
        lead.model_copy(update={"meeting_booked": True})
        for lead in first
        if labels.at[lead.lead_id, "won"] == 1
    ]
    store.record_scores(
        scoring(lead, pd.Timestamp(lead.created_at) + pd.Timedelta(days=30)) for lead in later
    )
    closers = int((tables["reps"]["role"] == "closer").sum())
    for deal in records(tables["opportunities"]):
        decision = AssignmentIn(
            kind="lead",
            subject_id=deal["lead_id"],
            rep_id=deal["closer_id"],
            policy="historical",
            propensity=1 / closers,
            objective=0.0,
            explored=False,
            assigned_at=deal["opened_at"],
        )
        assert store.reserve_and_record(decision) is not None
        if deal["won"] is not None:
            store.record_outcome(
                OutcomeIn(
                    event_id="deal-" + deal["opportunity_id"],
                    type="won" if deal["won"] else "lost",
                    lead_id=deal["lead_id"],
                    occurred_at=deal["closed_at"],
                    value=deal["value"],
                    rep_id=deal["closer_id"],
                )
            )
    newest = leads["created_at"].max()
    with_deal = set(tables["opportunities"]["lead_id"])
    for lead in first:
        closed_at = pd.Timestamp(lead.created_at) + timedelta(days=MATURITY_DAYS)
        if lead.lead_id not in with_deal and closed_at <= newest:
            store.record_outcome(
                OutcomeIn(
                    event_id="close-" + lead.lead_id,
                    type="lost",
                    lead_id=lead.lead_id,
                    occurred_at=closed_at,
                )
            )
    for customer in records(tables["customers"]):
        store.put_customer(
            CustomerIn(customer_id=customer["customer_id"], lead_id=customer["lead_id"])
        )
        decision = AssignmentIn(
            kind="customer",
            subject_id=customer["customer_id"],
            rep_id=customer["account_manager_id"],
            policy="historical",
            propensity=0.5,
            objective=0.0,
            assigned_at=customer["start_date"],
        )
        assert store.reserve_and_record(decision) is not None
        if customer["retained_12m"] is not None:
            ended = "renewed" if customer["retained_12m"] else "churned"
            store.record_outcome(
                OutcomeIn(
                    event_id="account-" + customer["customer_id"],
                    type=ended,
                    customer_id=customer["customer_id"],
                    occurred_at=customer["start_date"] + timedelta(days=365),
                )
            )


@pytest.fixture(scope="module")
def history() -> dict[str, pd.DataFrame]:
    return generate(GeneratorConfig(leads=LEADS, seed=3))


@pytest.fixture(scope="module")
def store_url(history: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'leadscore.db'}"
    upgrade(url)
    with Store(url) as store:
        live_through(store, history)
    return url


def said(output: str) -> str:
    """The output with the table borders and line breaks as single spaces."""
    return " ".join(output.replace("│", " ").split())


def test_train_from_store_registers_lead_score_models(
    store_url: str, history: dict[str, pd.DataFrame], home: Path
) -> None:
    result = runner.invoke(
        app, ["train", "--from-store", "--database-url", store_url, "--min-outcomes", "5"]
    )
    assert result.exit_code == 0, result.output
    text = said(result.output)
    assert f"{LEADS:,} leads (" in text
    assert "940 routing decisions (0 explored; 633 closed deals" in text
    for name in ("lead-score-inbound", "lead-score-outbound", "closer-fit"):
        assert f"{name} trained" in text
    # The routing estimate weighs the deals by the propensities the service logged.
    assert "deals use the propensity the service logged when it routed them" in text
    uri = get_settings().tracking_uri
    client = MlflowClient(uri, uri)
    names = {model.name for model in client.search_registered_models()}
    assert {"lead-score-inbound", "lead-score-outbound", "closer-fit"} <= names
    folder = home / "store-export"
    # What was trained on: the leads as first scored, the generator's outcomes.
    exported = pd.read_parquet(folder / "leads.parquet").set_index("lead_id")
    generated = history["leads"].set_index("lead_id")
    assert exported["meeting_booked"].isna().equals(generated["meeting_booked"].isna())
    assert (exported["meeting_booked"].dropna() == generated["meeting_booked"].dropna()).all()
    outcomes = pd.read_parquet(folder / "outcomes.parquet").set_index("lead_id")["converted"]
    labels = lead_outcomes(history["leads"], history["opportunities"]).set_index("lead_id")
    decided = outcomes.dropna()
    assert len(decided) > LEADS // 2
    assert (decided == labels.loc[decided.index, "won"]).all()


def test_the_export_carries_the_fit_tables(store_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--out", str(tmp_path), "--database-url", store_url])
    assert result.exit_code == 0, result.output
    deals = pd.read_parquet(tmp_path / "opportunities.parquet")
    decisions = pd.read_parquet(tmp_path / "decisions.parquet")
    assert deals["won"].notna().sum() > 100
    assert set(decisions["kind"]) == {"lead", "customer"}
    assert decisions.loc[decisions["kind"] == "lead", "propensity"].round(6).nunique() == 1


def young_store(url: str) -> None:
    """40 leads, the newest two won and lost (too young to count): far too little."""
    upgrade(url)
    tables = generate(GeneratorConfig(leads=200, seed=4))
    leads = tables["leads"].sort_values("created_at").head(40)
    with Store(url) as store:
        store.record_scores(
            scoring(Lead.model_validate(row), pd.Timestamp(row["created_at"]))
            for row in records(leads)
        )
        newest = leads["created_at"].max()
        for lead_id, type_ in zip(leads["lead_id"][-2:], ("won", "lost"), strict=True):
            event = OutcomeIn(event_id=lead_id, type=type_, lead_id=lead_id, occurred_at=newest)
            store.record_outcome(event)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_young_store_is_skipped_with_its_counts(
    backend: str, home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'young.db'}"
    else:
        url = fresh_schema(request.getfixturevalue("postgres_url"), f"young_{os.getpid()}")
    young_store(url)
    result = runner.invoke(app, ["train", "--from-store", "--database-url", url])
    assert result.exit_code == 0, result.output
    text = said(result.output)
    assert "40 leads (0 decided: 0 won, 0 lost; 40 undecided" in text
    assert "38 without a won or lost event, 2 too young" in text
    for name in ("lead-score-inbound", "lead-score-outbound", "closer-fit", "account-manager-fit"):
        assert f"{name} skipped" in text
    assert "inbound: 0 converted and 0 other leads, every outcome still undecided" in text


def test_a_database_without_a_store_is_an_error_saying_what_to_run(
    home: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    result = runner.invoke(app, ["train", "--from-store", "--database-url", url])
    assert result.exit_code == 1
    assert "never migrated" in said(result.output)
    refused = runner.invoke(app, ["train", "--from-store", "--data", str(tmp_path)])
    assert refused.exit_code == 2
    assert "not both" in refused.output
    ignored = runner.invoke(app, ["train", "--decided-after-days", "30"])
    assert ignored.exit_code == 2
    assert "only with --from-store" in said(ignored.output)


def test_logged_propensities_pair_each_deal_with_its_last_decision() -> None:
    deals = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "closer_id": ["C1", "C2", "C1"]})
    decisions = pd.DataFrame(
        {
            "kind": ["lead", "lead", "lead", "customer"],
            "subject_id": ["L1", "L1", "L2", "L3"],
            "rep_id": ["C9", "C1", "C3", "AM1"],
            "propensity": [0.5, 0.25, 0.4, 1.0],
        }
    )
    logged = logged_propensities(deals, decisions)
    # L1: its last decision (C1, 0.25); L2: the deal went to another closer; L3: none.
    assert logged[0] == 0.25
    assert np.isnan(logged[1]) and np.isnan(logged[2])


def test_the_qualified_target_trains_from_the_store_on_its_own_decided_leads(
    store_url: str, history: dict[str, pd.DataFrame], home: Path
) -> None:
    options = ["--target", "qualified", "--models", "lead-score", "--min-outcomes", "5"]
    result = runner.invoke(app, ["train", "--from-store", "--database-url", store_url, *options])
    assert result.exit_code == 0, result.output
    assert "lead-score-inbound trained" in said(result.output)
    folder = home / "store-export"
    outcomes = pd.read_parquet(folder / "outcomes.parquet").set_index("lead_id")
    labels = lead_outcomes(history["leads"], history["opportunities"]).set_index("lead_id")
    qualified = outcomes["qualified"].dropna()
    # More leads are decided for qualification than for the sale: a lead need not close.
    assert len(qualified) > outcomes["converted"].notna().sum()
    # A lead that reached an opportunity is qualified, as the generator says.
    assert (qualified == labels.loc[qualified.index, "qualified"]).mean() > 0.99
    client = MlflowClient(get_settings().tracking_uri)
    experiment = client.get_experiment_by_name("leadscore")
    assert experiment is not None
    (run,) = client.search_runs(
        [experiment.experiment_id], "attributes.run_name = 'lead-score-inbound'"
    )
    assert run.data.params["target"] == "qualified"
