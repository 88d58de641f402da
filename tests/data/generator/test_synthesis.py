"""Behaviour of the synthetic CRM history that users and models rely on.

Everything here is a property someone would notice: a seed that does not
reproduce, a table a reader rejects, a dangling id, an outcome known before it
happened, or hidden effects too weak for a model to learn.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel
from sklearn.metrics import roc_auc_score

from data.contract import TABLES, Role, arrow_schema
from data.generator.generator_config import GeneratorConfig
from data.generator.history_drift import DRIFT_FLIP, NEW_SOURCE_FROM, NEW_SOURCES
from data.generator.leads import INBOUND_ONLY, OUTBOUND_ONLY
from data.generator.synthesis import generate, write_history
from data.generator.world import INDUSTRIES
from data.labels import lead_outcomes
from data.tables import read_table

CONFIG = GeneratorConfig(leads=20_000, seed=7)
ID_COLUMNS = {
    "leads": "lead_id",
    "reps": "rep_id",
    "opportunities": "opportunity_id",
    "customers": "customer_id",
}
# Fields CRMs often leave empty; the models must have seen blanks in training.
SOMETIMES_BLANK = (
    "source",
    "company_industry",
    "company_size",
    "company_revenue",
    "company_region",
    "company_country",
    "contact_title",
    "contact_seniority",
)
SOMETIMES_BLANK_INBOUND = ("web_visits", "time_on_site_sec", "pages_viewed", "form_fills")
SOMETIMES_BLANK_OUTBOUND = ("touches", "calls", "emails_sent", "replies")
SAMPLE_ROWS = 300


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(CONFIG)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    write_history(CONFIG, folder)
    return folder


@pytest.fixture(scope="module")
def history(out: Path) -> dict[str, pd.DataFrame]:
    """The contract tables as a reader sees them: read back from Parquet."""
    return {name: read_table(out, name) for name in TABLES}


@pytest.fixture(scope="module")
def outcomes(history: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Realised outcomes with the true probabilities and a few lead fields."""
    leads = history["leads"]
    return (
        lead_outcomes(leads, history["opportunities"])
        .merge(tables["truth_leads"][["lead_id", "p_won"]], on="lead_id")
        .merge(leads[["lead_id", "channel", "demo_requested"]], on="lead_id")
    )


def as_record(row: dict[Hashable, Any]) -> dict[str, Any]:
    """A frame row as an API client would send it: blanks are None, arrays are lists."""
    return {
        str(key): value.tolist()
        if isinstance(value, np.ndarray)
        else (None if value is None or value is pd.NA or value != value else value)
        for key, value in row.items()
    }


# --- determinism


def test_same_seed_gives_identical_tables(tables: dict[str, pd.DataFrame]) -> None:
    again = generate(CONFIG)
    assert again.keys() == tables.keys()
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(again[name], frame, obj=name)


def test_another_seed_gives_different_leads(tables: dict[str, pd.DataFrame]) -> None:
    other = generate(replace(CONFIG, seed=CONFIG.seed + 1))["leads"]
    leads = tables["leads"]
    assert not other.equals(leads)
    assert not other["created_at"].equals(leads["created_at"])
    assert (other["source"] != leads["source"]).mean() > 0.5


# --- the written tables follow the contract


def test_only_contract_tables_and_truth_are_written(out: Path) -> None:
    assert {p.name for p in out.iterdir()} == {f"{name}.parquet" for name in TABLES} | {"truth"}


@pytest.mark.parametrize("name", list(TABLES))
def test_written_table_has_the_contract_schema(out: Path, name: str) -> None:
    schema = pq.read_schema(out / f"{name}.parquet")
    assert schema.equals(arrow_schema(TABLES[name])), f"{name}:\n{schema}"


@pytest.mark.parametrize("name", list(TABLES))
def test_ids_are_unique(history: dict[str, pd.DataFrame], name: str) -> None:
    ids = history[name][ID_COLUMNS[name]]
    assert len(ids) > 0
    assert ids.notna().all()
    assert ids.is_unique


@pytest.mark.parametrize("name", list(TABLES))
def test_rows_validate_against_the_contract(history: dict[str, pd.DataFrame], name: str) -> None:
    frame = history[name]
    sample = frame.sample(min(SAMPLE_ROWS, len(frame)), random_state=0)
    model: type[BaseModel] = TABLES[name]
    for row in sample.to_dict("records"):
        model.model_validate(as_record(row))


@pytest.mark.parametrize("name", list(TABLES))
def test_integer_columns_read_back_as_integers(history: dict[str, pd.DataFrame], name: str) -> None:
    """A size of 12 must not come back as 12.0 in one table and 12 in another."""
    schema = arrow_schema(TABLES[name])
    integer = [field.name for field in schema if str(field.type) == "int64"]
    for column in integer:
        assert history[name][column].dtype.kind in "iu", f"{name}.{column}"


# --- leads look like a CRM's


def test_channels_carry_only_their_own_signals(history: dict[str, pd.DataFrame]) -> None:
    leads = history["leads"]
    inbound = leads[leads["channel"] == "inbound"]
    outbound = leads[leads["channel"] == "outbound"]
    assert 0.4 < len(inbound) / len(leads) < 0.7
    for column in OUTBOUND_ONLY:
        assert inbound[column].isna().all(), column
        assert outbound[column].notna().mean() > 0.8, column
    for column in INBOUND_ONLY:
        assert outbound[column].isna().all(), column
        assert inbound[column].notna().mean() > 0.8, column


def test_optional_fields_are_sometimes_blank(history: dict[str, pd.DataFrame]) -> None:
    leads = history["leads"]
    by_channel = dict(tuple(leads.groupby("channel")))
    checks = [(leads, c) for c in SOMETIMES_BLANK]
    checks += [(by_channel["inbound"], c) for c in SOMETIMES_BLANK_INBOUND]
    checks += [(by_channel["outbound"], c) for c in SOMETIMES_BLANK_OUTBOUND]
    for frame, column in checks:
        assert 0.005 < frame[column].isna().mean() < 0.5, column


def test_created_at_spans_about_two_years(history: dict[str, pd.DataFrame]) -> None:
    created = history["leads"]["created_at"]
    assert created.min() >= pd.Timestamp(CONFIG.start)
    assert created.max() < pd.Timestamp(CONFIG.as_of)
    assert (created.max() - created.min()).days > 700
    assert created.dt.to_period("M").nunique() == 24


# --- referential integrity and time


def test_opportunities_reference_leads_and_closers(history: dict[str, pd.DataFrame]) -> None:
    opps, reps = history["opportunities"], history["reps"]
    closers = set(reps.loc[reps["role"] == Role.closer.value, "rep_id"])
    assert opps["lead_id"].isin(history["leads"]["lead_id"]).all()
    assert opps["closer_id"].isin(closers).all()


def test_customers_are_the_won_deals_with_account_managers(
    history: dict[str, pd.DataFrame],
) -> None:
    opps, customers, reps = history["opportunities"], history["customers"], history["reps"]
    won = opps[opps["won"].fillna(False).astype(bool)]
    assert set(customers["opportunity_id"]) == set(won["opportunity_id"])
    pairs = customers.merge(won, on="opportunity_id", suffixes=("", "_opp"))
    assert (pairs["lead_id"] == pairs["lead_id_opp"]).all()
    assert (pairs["start_date"] >= pairs["closed_at"]).all()
    managers = set(reps.loc[reps["role"] == Role.account_manager.value, "rep_id"])
    assert customers["account_manager_id"].isin(managers).all()


def test_open_opportunities_have_no_outcome(history: dict[str, pd.DataFrame]) -> None:
    opps = history["opportunities"]
    as_of = pd.Timestamp(CONFIG.as_of)
    is_open = opps["closed_at"].isna()
    assert is_open.any() and not is_open.all()
    assert (opps["won"].isna() == is_open).all()
    assert opps.loc[is_open, "value"].isna().all()
    closed = opps[~is_open]
    assert (closed["opened_at"] <= closed["closed_at"]).all()
    assert (opps["opened_at"] <= as_of).all() and (closed["closed_at"] <= as_of).all()
    assert closed["value"].notna().eq(closed["won"].astype(bool)).all()


# --- hidden truth


def test_truth_is_written_apart_from_the_contract(
    out: Path, tables: dict[str, pd.DataFrame]
) -> None:
    truth = {name for name in tables if name.startswith("truth_")}
    assert truth and not truth & set(TABLES)
    written = {p.name for p in (out / "truth").iterdir()}
    tables_written = {f"{name.removeprefix('truth_')}.parquet" for name in truth}
    assert written == tables_written | {"routing.json"}
    contract_columns = {f.name for model in TABLES.values() for f in arrow_schema(model)}
    for name in truth:
        hidden = set(tables[name].columns) - {"lead_id", "customer_id", "closer_id"}
        hidden -= {"account_manager_id"}
        assert not hidden & contract_columns, name


def test_p_won_is_a_probability(tables: dict[str, pd.DataFrame]) -> None:
    truth = tables["truth_leads"]
    assert truth["p_won"].between(0, 1).all()
    assert (truth["p_won"] <= truth["p_qualified"]).all()


def test_demo_requests_convert_more_often(outcomes: pd.DataFrame) -> None:
    inbound = outcomes[(outcomes["channel"] == "inbound") & outcomes["resolved"]]
    rate = inbound.groupby(inbound["demo_requested"].astype("boolean"))["won"].mean()
    assert rate[True] > 1.5 * rate[False]


@pytest.mark.parametrize("channel", ["inbound", "outbound"])
def test_true_probabilities_rank_outcomes(outcomes: pd.DataFrame, channel: str) -> None:
    resolved = outcomes[(outcomes["channel"] == channel) & outcomes["resolved"]]
    assert resolved["won"].nunique() == 2
    assert roc_auc_score(resolved["won"], resolved["p_won"]) > 0.7


def test_closer_industry_skill_shows_in_win_rates() -> None:
    """A closer's hidden industry strength must show up in what it wins there."""
    tables = generate(replace(CONFIG, leads=50_000))
    closed = tables["opportunities"].dropna(subset=["won"])
    closed = closed.merge(tables["leads"][["lead_id", "company_industry"]], on="lead_id")
    rates = (
        closed.assign(won=closed["won"].astype(float))
        .groupby(["closer_id", "company_industry"])["won"]
        .agg(["mean", "size"])
        .reset_index()
    )
    effects = tables["truth_closer_effects"].melt(
        id_vars="closer_id",
        value_vars=[f"industry_{name}" for name in INDUSTRIES],
        var_name="company_industry",
        value_name="effect",
    )
    effects["company_industry"] = effects["company_industry"].str.removeprefix("industry_")
    pairs = rates[rates["size"] >= 30].merge(effects, on=["closer_id", "company_industry"])
    assert len(pairs) >= 40
    assert pairs["effect"].corr(pairs["mean"]) > 0.3


def test_a_short_fresh_period_generates_even_with_no_deals_closed() -> None:
    """The demo's fresh leads: two weeks, a few hundred leads, maybe no customers yet."""
    tables = generate(GeneratorConfig(leads=150, seed=4, days=14))
    assert len(tables["leads"]) == 150
    assert tables["customers"]["customer_id"].is_unique


# --- a drifting history (GeneratorConfig.drift)


@pytest.fixture(scope="module")
def drifting() -> dict[str, pd.DataFrame]:
    return generate(replace(CONFIG, drift=True))


def _log_odds(p: pd.Series) -> pd.Series:
    return pd.Series(np.log(p / (1 - p)))


def test_drift_changes_nothing_of_the_leads_but_the_new_sources(
    tables: dict[str, pd.DataFrame], drifting: dict[str, pd.DataFrame]
) -> None:
    plain, drifted = tables["leads"], drifting["leads"]
    pd.testing.assert_frame_equal(plain.drop(columns="source"), drifted.drop(columns="source"))
    changed = plain["source"].fillna("").ne(drifted["source"].fillna(""))
    assert changed.any()
    assert set(drifted.loc[changed, "source"]) <= set(NEW_SOURCES)


def test_new_sources_appear_part_way_in_their_channel(drifting: dict[str, pd.DataFrame]) -> None:
    leads = drifting["leads"]
    appears = pd.Timestamp(CONFIG.start) + NEW_SOURCE_FROM * pd.Timedelta(days=CONFIG.days)
    for channel, source in zip(("inbound", "outbound"), NEW_SOURCES, strict=True):
        new = leads["source"] == source
        assert (leads.loc[new, "channel"] == channel).all()
        assert leads.loc[new, "created_at"].min() >= appears
        since = leads[(leads["channel"] == channel) & (leads["created_at"] >= appears)]
        assert 0.1 < (since["source"] == source).mean() < 0.3


def test_the_conversion_rate_rises_several_fold(drifting: dict[str, pd.DataFrame]) -> None:
    leads, truth = drifting["leads"], drifting["truth_leads"]
    quarter = leads["created_at"].dt.to_period("Q")
    rates = truth["p_won"].groupby([quarter, leads["channel"]]).mean().unstack()
    assert (rates.iloc[-1] > 3 * rates.iloc[0]).all(), rates


def test_one_effect_helps_early_and_hurts_late(drifting: dict[str, pd.DataFrame]) -> None:
    leads, truth = drifting["leads"], drifting["truth_leads"]
    column, value, _, _ = DRIFT_FLIP
    flips = leads[column] == value
    others = leads[column].notna() & ~flips
    half = leads["created_at"] < pd.Timestamp(CONFIG.start) + pd.Timedelta(days=CONFIG.days / 2)
    odds = _log_odds(truth["p_qualified"])
    early = odds[flips & half].mean() - odds[others & half].mean()
    late = odds[flips & ~half].mean() - odds[others & ~half].mean()
    assert early > 0.3 and late < -0.3, (early, late)


def test_the_truth_follows_the_drift(drifting: dict[str, pd.DataFrame]) -> None:
    """Realised outcomes match the true probabilities in each half, as the level moves."""
    leads, truth = drifting["leads"], drifting["truth_leads"]
    known = lead_outcomes(leads, drifting["opportunities"])
    resolved = known["resolved"].to_numpy()
    half = (leads["created_at"] < pd.Timestamp("2025-11-01")).to_numpy()
    for channel in ("inbound", "outbound"):
        rows = resolved & (leads["channel"] == channel).to_numpy()
        assert roc_auc_score(known["won"][rows], truth["p_won"][rows]) > 0.7
        for part in (half, ~half):
            expected = truth["p_won"][rows & part].mean()
            assert abs(known["won"][rows & part].mean() - expected) < 0.3 * expected


# --- owners that matter, or not


def test_without_rep_effects_no_owner_changes_an_outcome_and_the_rest_stays() -> None:
    config = GeneratorConfig(leads=6_000, seed=4)
    real, none = generate(config), generate(replace(config, rep_effects=False))
    pd.testing.assert_frame_equal(real["leads"], none["leads"])
    for name in ("truth_closer_effects", "truth_account_manager_effects"):
        hidden = none[name].drop(columns=[none[name].columns[0]])
        assert (hidden.to_numpy() == 0).all(), name
        assert (real[name].drop(columns=[real[name].columns[0]]).to_numpy() != 0).any(), name
    # The same deals went to the same closers; only the wins may differ.
    columns = ["opportunity_id", "lead_id", "closer_id", "opened_at"]
    pd.testing.assert_frame_equal(real["opportunities"][columns], none["opportunities"][columns])


def test_territory_assignment_keeps_deals_and_customers_in_the_lead_region(
    tmp_path: Path,
) -> None:
    config = GeneratorConfig(leads=6_000, seed=4, assignment="territory")
    write_history(config, tmp_path)
    leads = read_table(tmp_path, "leads").set_index("lead_id")["company_region"]
    reps = read_table(tmp_path, "reps").set_index("rep_id")["region"]
    for table, owner in (("opportunities", "closer_id"), ("customers", "account_manager_id")):
        frame = read_table(tmp_path, table)
        region = leads.loc[frame["lead_id"]].to_numpy(dtype=object)
        known = pd.notna(region)
        assert known.sum() > 100
        owner_region = reps.loc[frame[owner]].to_numpy(dtype=object)
        assert (owner_region[known] == region[known]).all(), table
    routing = json.loads((tmp_path / "truth" / "routing.json").read_text())
    assert routing == {"assignment": "territory", "region_loyalty": 1.0, "rep_effects": True}


def test_an_unknown_assignment_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="assignment must be one of historical, territory"):
        GeneratorConfig(assignment="random")
