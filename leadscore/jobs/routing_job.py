"""`leadscore route`: a batch of leads assigned to closers under capacity, written to a file.

The closer-fit model comes through `serving.registry.RegistryLoader`, bound to the
configured tracking URI, as the API and the batch re-scoring load theirs.
"""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient
from rich.console import Console
from rich.progress import Progress

from data.tables import read_table
from leadscore.console_tables import measured_lift_lines, model_expectation_line, routing_table
from leadscore.settings import Settings
from models.rep_fit import RepFitModel
from models.rep_packaging import load_rep_model, rep_registered_name
from serving.model_store import MissingModel
from serving.registry import FIT_FALLBACK, FIT_TRAIN_HINT, RegistryLoader


def route_file(
    console: Console, settings: Settings, data: Path, out: Path, limit: int | None, alias: str
) -> None:
    """Route the newest leads of a data folder to its closers and write the assignments."""
    from serving.routing.batch_assignment import read_leads_to_route, route_batch

    leads = read_leads_to_route(data, limit)
    reps = read_table(data, "reps")
    model, version, lifts = _closer_fit(console, settings.tracking_uri, alias)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("routing", total=len(leads))
        result = route_batch(
            leads,
            reps,
            model,
            settings.serving().policy(),
            progress=lambda done, total: progress.update(task, completed=done),
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    result.assignments.to_parquet(out, index=False)
    console.print(routing_table(result))
    if model is not None:
        console.print(model_expectation_line(result))
    for line in measured_lift_lines(version, lifts):
        console.print(line)
    console.print(f"Assignments of {len(result.assignments):,} leads written to {out}")


def _closer_fit(
    console: Console, tracking_uri: str, alias: str
) -> tuple[RepFitModel | None, str | None, list[str]]:
    """The closer-fit model holding `alias`, its version and the lifts its run measured;
    without one, says why (routing then falls back to round-robin)."""
    loader = RegistryLoader(
        tracking_uri, alias, rep_registered_name, load_rep_model, FIT_TRAIN_HINT, FIT_FALLBACK
    )
    loaded = loader("closer")
    if isinstance(loaded, MissingModel):
        console.print(f"[yellow]{loaded.reason}[/yellow]", soft_wrap=True)
        return None, None, []
    return loaded.model, loaded.version, _recorded_routing_lifts(loader.client, loaded.run_id)


def _recorded_routing_lifts(client: MlflowClient, run_id: str | None) -> list[str]:
    """The DR lifts the version's training run recorded (sentences); none when the run
    was deleted: the model serves, nothing was measured."""
    from mlflow.exceptions import MlflowException

    from training.routing_evaluation.doubly_robust_summary import recorded_lifts

    try:
        run = client.get_run(run_id) if run_id else None
    except MlflowException:
        run = None
    if run is None:
        return []
    return recorded_lifts(run.data.params, run.data.metrics)
