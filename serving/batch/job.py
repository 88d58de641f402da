"""`rescore`: score a whole lead base with the registry's models, on either engine.

The job checks everything it can before scoring a single lead - the input
and its columns, where the output goes, a model for every channel the input
holds - so a mistake costs seconds, not the hours of a large run. Models
are pulled by alias through the API's own `RegistryLoader` (an explicit
tracking URI, pinned versions), so batch and API use the same versions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from data.contract import Channel
from features.rep_features import Roster
from models.packaging import load_lead_model, registered_name
from models.rep_fit import RepFitModel
from models.rep_packaging import load_rep_model, rep_registered_name
from serving.batch.io import LeadSource, channel_counts, open_source
from serving.batch.job_errors import InputError, MissingModelError
from serving.batch.local import Progress, run_local
from serving.batch.output import rejects_path
from serving.batch.scoring import BatchTask, ChannelModel, ScoringTask, frame_rules
from serving.batch.summary import RescoreSummary, Tally, grades_by_channel
from serving.model_store import LoadedModel, MissingModel
from serving.registry import RegistryLoader
from serving.routing.recommendation import RoutingTask


class Engine(StrEnum):
    local = "local"
    spark = "spark"


@dataclass(frozen=True)
class RescoreOptions:
    input: Path
    output: Path
    tracking_uri: str
    engine: Engine = Engine.local
    alias: str = "champion"
    reasons: int = 0
    """Fields up and down explained per lead; 0: none (faster)."""
    route: RouteSource | None = None
    """With `--route`: where the closer-fit model and the roster come from."""
    threads: int = 2
    """Scoring threads of the local engine, each running LightGBM on one core
    (Spark runs one task per core instead)."""
    batch_size: int = 100_000
    spark_master: str = "local[2]"


@dataclass(frozen=True)
class RouteSource:
    """The closer-fit model and the eligible closers for `--route`."""

    model: RepFitModel
    roster: Roster


def load_route_source(
    tracking_uri: str, alias: str, closers: Sequence[Mapping[str, Any]] | None
) -> RouteSource:
    """closer-fit under `alias`; the roster's active, available closers (the model's own
    training roster when none is given)."""
    loader = RegistryLoader(tracking_uri, alias, rep_registered_name, load_rep_model)
    found = loader("closer")
    if not isinstance(found, LoadedModel):
        raise InputError(f"--route needs a closer-fit model: {found.reason}")
    model: RepFitModel = found.model
    if closers:
        usable = [c for c in closers if c.get("active", True) and c.get("available", True)]
        if not usable:
            raise InputError("--route: the roster has no active, available closer")
        return RouteSource(model, Roster.from_records(usable))
    return RouteSource(model, model.candidates())


def _task(options: RescoreOptions, scored_at: datetime) -> BatchTask:
    scoring = ScoringTask(options.reasons, scored_at, threads=1)
    if options.route is None:
        return scoring
    return RoutingTask(scoring, options.route.model, options.route.roster)


def load_models(
    tracking_uri: str, alias: str
) -> tuple[dict[str, ChannelModel], dict[str, MissingModel]]:
    """Each channel's model under `alias`, or why there is none."""
    loader = RegistryLoader(tracking_uri, alias, registered_name, load_lead_model)
    loaded: dict[str, ChannelModel] = {}
    missing: dict[str, MissingModel] = {}
    for channel in Channel:
        found = loader(channel.value)
        if isinstance(found, LoadedModel):
            loaded[channel.value] = ChannelModel(found.name, found.version, found.model)
        else:
            missing[channel.value] = found
    return loaded, missing


def _check_output(output: Path, source: LeadSource) -> None:
    target = output.resolve()
    inside = [source.path.resolve(), *(f.resolve() for f in source.files)]
    if any(target == p or p in target.parents for p in inside):
        raise InputError(f"the output {output} would overwrite the input {source.path}")
    # A folder is replaced only if it is an earlier result (Spark marks those), never a
    # folder of other things that happens to be named like the output.
    if output.is_dir() and not (output / "_SUCCESS").exists():
        raise InputError(f"the output {output} is an existing folder; name a file instead")


def _refuse_missing(source: LeadSource, missing: dict[str, MissingModel]) -> None:
    if not missing:
        return
    counts = channel_counts(source)
    for channel, why in missing.items():
        if counts.get(channel):
            raise MissingModelError(
                f"{counts[channel]:,} {channel} leads in {source.path} but no model to "
                f"score them: {why.reason}"
            )


def rescore(options: RescoreOptions, progress: Progress | None = None) -> RescoreSummary:
    """Score every lead of `options.input` into `options.output`; the summary.

    Raises `RescoreError` (`InputError`, `MissingModelError`) with a one-line
    reason; nothing is written then.
    """
    started = time.perf_counter()
    scored_at = datetime.now(UTC)
    source = open_source(options.input)
    _check_output(options.output, source)
    models, missing = load_models(options.tracking_uri, options.alias)
    _refuse_missing(source, missing)
    frame_rules(models)  # two models typing a custom column differently: refused now
    for entry in models.values():
        if custom := list(entry.model.custom_fields):
            source = source.reading(custom, f"{entry.name} v{entry.version}")
    if progress is not None:
        progress.start(source.rows)
    tally: Tally
    if options.engine is Engine.spark:
        from serving.batch.spark import run_spark  # pyspark is an optional extra

        task = _task(options, scored_at)
        tally = run_spark(
            source, options.output, task, models, options.spark_master, options.batch_size
        )
        if progress is not None:
            progress.advance(tally.rows)
    else:
        task = _task(options, scored_at)
        tally = run_local(
            source, options.output, task, models, options.batch_size, progress, options.threads
        )
    return RescoreSummary(
        input=options.input,
        output=options.output,
        rejects=rejects_path(options.output),
        engine=options.engine.value,
        rows_read=tally.rows,
        rows_scored=tally.scored,
        rows_rejected=tally.rejected,
        grades=grades_by_channel(tally),
        models={c: f"{m.name} v{m.version}" for c, m in models.items()},
        seconds=time.perf_counter() - started,
        ignored_columns=source.ignored,
        lacking=dict(sorted(tally.lacking.items())),
    )
