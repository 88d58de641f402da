"""The demo's history replay: a slice of the generated history, moved to end today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from data.generator.generator_config import GeneratorConfig
from data.generator.synthesis import write_history
from data.store import Store, upgrade
from leadscore.demo.history_replay import plan_history, sample_history

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
ORDER = ["contacted", "qualified", "routed", "won", "lost", "handed_over", "renewed", "churned"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-history")
    write_history(GeneratorConfig(leads=6000, seed=3), folder)
    return folder


def test_the_slice_ends_today_and_keeps_more_of_the_recent_leads(history: Path) -> None:
    tables = sample_history(history, NOW)
    created = pd.to_datetime(tables["leads"]["created_at"])
    assert created.max() <= pd.Timestamp(NOW).tz_localize(None)
    assert created.max() >= pd.Timestamp(NOW).tz_localize(None) - pd.Timedelta(days=14)
    recent = (created >= pd.Timestamp(NOW).tz_localize(None) - pd.Timedelta(days=90)).sum()
    assert 0 < recent < len(created)
    assert set(tables["opportunities"]["lead_id"]) <= set(tables["leads"]["lead_id"])


def test_every_plan_is_in_lifecycle_order_and_never_in_the_future(history: Path) -> None:
    plans = plan_history(sample_history(history, NOW), NOW)
    assert any(p.routed is not None for p in plans)
    assert any(p.handed_over is not None for p in plans)
    for plan in plans:
        steps = list(plan.steps())
        times = [at for at, _, _ in steps]
        assert times == sorted(times)
        assert all(at <= NOW for at in times)
        kinds = [payload["type"] if kind == "outcome" else kind for _, kind, payload in steps]
        assert kinds == sorted(kinds, key=ORDER.index), kinds
        if plan.routed is not None:
            assert 0 < plan.routed.propensity <= 1


def test_the_plans_replay_into_a_store(history: Path, tmp_path: Path) -> None:
    """Store writes as the demo does them (outcomes here straight to the store too)."""
    from data.contract import Lead
    from data.store import OutcomeIn, RepIn

    tables = sample_history(history, NOW)
    plans = plan_history(tables, NOW)[:300]
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    with Store(url) as store:
        for rep in tables["reps"].to_dict("records"):
            store.put_rep(RepIn(rep_id=rep["rep_id"], role=rep["role"], capacity=1000))
        for plan in plans:
            store.put_lead(Lead.model_validate(plan.lead))
            for _, kind, payload in plan.steps():
                if kind == "outcome":
                    store.record_outcome(OutcomeIn.model_validate(payload))
                elif kind == "routed":
                    assert store.reserve_and_record(payload) is not None
                else:
                    assert plan.customer is not None and plan.handed_over is not None
                    store.put_customer(plan.customer)
                    assert store.reserve_and_record(plan.handed_over) is not None
        assert store.latest_assignments(limit=1)[0].assigned_at <= NOW + timedelta(seconds=1)
