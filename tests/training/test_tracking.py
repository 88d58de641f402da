"""`use_tracking`: MLflow's fluent API points at the target for the block, and back after."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import pytest

from tests.conftest import tracking_in
from training.tracking import use_tracking


def mlflow_environment() -> dict[str, str]:
    """The variables MLflow's fluent API reads (MLflow's own telemetry ids aside)."""
    return {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}


def test_the_block_uses_the_target_and_leaves_mlflow_as_it_was(tmp_path: Path) -> None:
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), mlflow_environment())
    target = tracking_in(tmp_path)
    with use_tracking(target) as client:
        assert mlflow.get_tracking_uri() == mlflow.get_registry_uri() == target.uri
        experiment = client.get_experiment_by_name(target.experiment)
        assert experiment is not None
        with mlflow.start_run() as run:
            assert run.info.experiment_id == experiment.experiment_id
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), mlflow_environment()) == before


def test_an_error_in_the_block_still_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = f"sqlite:///{tmp_path / 'outside.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", outside)
    # An earlier test may have set the URI in code, which wins over the variable: what
    # must come back is whatever MLflow said before the block.
    before = mlflow.get_tracking_uri()
    with pytest.raises(RuntimeError), use_tracking(tracking_in(tmp_path)):
        assert mlflow.get_tracking_uri() != before
        raise RuntimeError("training failed")
    assert mlflow.get_tracking_uri() == before
    assert os.environ["MLFLOW_TRACKING_URI"] == outside
