"""The options `leadscore train` and `leadscore retrain` share, declared once, and how they
turn into a `TrainingRequest`.

Where the two commands word an option differently, the alias is built by one factory so
the option's name and checks stay the same and only its help differs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from data.contract import Channel
from data.labels import MATURITY_DAYS
from leadscore.cli.data_commands import export_store_into
from leadscore.jobs.training_job import TrainingRequest
from leadscore.settings import Settings, get_settings
from training.training_config import TrainingConfig


class ModelsOption(StrEnum):
    all = "all"
    lead_score = "lead-score"
    rep_fit = "rep-fit"
    closer_fit = "closer-fit"
    account_manager_fit = "account-manager-fit"


FIT_ROLES: dict[ModelsOption, tuple[str, ...]] = {
    ModelsOption.all: ("closer", "account_manager"),
    ModelsOption.rep_fit: ("closer", "account_manager"),
    ModelsOption.closer_fit: ("closer",),
    ModelsOption.account_manager_fit: ("account_manager",),
}
"""The rep-fit roles each --models value trains."""


class TargetOption(StrEnum):
    won = "won"
    qualified = "qualified"


def _from_store(help: str) -> Any:
    return typer.Option("--from-store", help=help)


def _decided_after_days(help: str) -> Any:
    return typer.Option(min=0, help=help)


def _drift_report(help: str) -> Any:
    return typer.Option(exists=True, dir_okay=False, help=help)


def _min_outcomes(help: str) -> Any:
    return typer.Option(min=1, help=help)


Models = Annotated[
    ModelsOption,
    typer.Option(help="all four, only the lead scores, both fit models (rep-fit), or one of them."),
]
Target = Annotated[
    TargetOption, typer.Option(help="What counts as converted: a won deal or qualified.")
]
Seed = Annotated[int, typer.Option(help="Random seed of the boosting.")]
Channels = Annotated[
    list[Channel] | None,
    typer.Option(help="Train only this channel (repeatable); default: both."),
]

TrainData = Annotated[
    Path | None,
    typer.Option(
        help="Folder with leads.parquet and opportunities.parquet (generated), or "
        "the tables `leadscore import` wrote (leads, deals, accounts, users); "
        "default: data/ in LEADSCORE_HOME."
    ),
]
TrainAlias = Annotated[
    str, typer.Option(help="Registry alias to move when the new model is at least as good.")
]
TrainMinOutcomes = Annotated[
    int,
    _min_outcomes(
        "Converted and other leads needed in each of the train, calibration and "
        "validation periods; fewer and training refuses.",
    ),
]
TrainTimeFeatures = Annotated[
    bool,
    typer.Option(
        help="Use calendar features of the creation date (only those that can "
        "extrapolate are used anyway); --no-time-features leaves them all out.",
    ),
]
TrainDriftReport = Annotated[
    Path | None,
    _drift_report(
        "A drift report (JSON file) that prompted this training: attached to each "
        "run and named in the lineage tags.",
    ),
]
TrainFromStore = Annotated[
    bool,
    _from_store(
        "Train on the operational store: export it (each lead as first scored, "
        "won/lost events, routing decisions) into store-export/ in LEADSCORE_HOME, "
        "then train on that folder.",
    ),
]
TrainDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="With --from-store: the store's SQLAlchemy URL; default "
        "LEADSCORE_DATABASE_URL, else leadscore.db in LEADSCORE_HOME."
    ),
]
TrainDecidedAfterDays = Annotated[
    int,
    _decided_after_days(
        "With --from-store: a lead created fewer days than this before the newest "
        "one is left undecided, even when won or lost.",
    ),
]

RetrainData = Annotated[
    Path | None,
    typer.Option(
        help="Training folder, as for `train`: generated or imported tables; "
        "default: data/ in LEADSCORE_HOME."
    ),
]
RetrainAlias = Annotated[
    str, typer.Option(help="Registry alias the gate moves (the one the API serves).")
]
RetrainMinOutcomes = Annotated[
    int,
    _min_outcomes(
        "Converted and other leads needed in each period; fewer and the model is skipped (exit 0).",
    ),
]
RetrainTimeFeatures = Annotated[
    bool,
    typer.Option(
        help="Use calendar features of the creation date; --no-time-features leaves them out."
    ),
]
RetrainDriftReport = Annotated[
    Path | None,
    _drift_report(
        "The drift report (a JSON file) that prompted this retraining: attached to "
        "each run and named in the lineage tags.",
    ),
]
RetrainFromStore = Annotated[
    bool,
    _from_store(
        "Retrain on the operational store (exported into store-export/ in "
        "LEADSCORE_HOME first), as `train --from-store`.",
    ),
]
RetrainDatabaseUrl = Annotated[
    str | None, typer.Option(help="With --from-store: the store's SQLAlchemy URL.")
]
RetrainDecidedAfterDays = Annotated[
    int,
    _decided_after_days(
        "With --from-store: a lead created fewer days than this before the newest "
        "one is left undecided.",
    ),
]


def store_export_dir(settings: Settings) -> Path:
    """Where `train --from-store` writes the store's export: store-export/ in LEADSCORE_HOME."""
    return settings.home / "store-export"


def store_or_folder(
    console: Console,
    data: Path | None,
    from_store: bool,
    database_url: str | None,
    decided_after_days: int,
) -> Path | None:
    """`--data`, or with `--from-store` the folder the store was just exported into."""
    if not from_store:
        if database_url is not None or decided_after_days != MATURITY_DAYS:
            given = "--database-url" if database_url is not None else "--decided-after-days"
            raise typer.BadParameter("only with --from-store", param_hint=given)
        return data
    if data is not None:
        raise typer.BadParameter(
            "train from a folder (--data) or from the store (--from-store), not both",
            param_hint="--from-store",
        )
    settings = get_settings()
    return export_store_into(
        console, database_url or settings.database, store_export_dir(settings), decided_after_days
    )


def training_request(
    data: Path | None,
    models: ModelsOption,
    channel: list[Channel] | None,
    config: TrainingConfig,
    alias: str,
    *,
    accept_jump: bool = False,
    drift_report: Path | None = None,
) -> TrainingRequest:
    """The models `--models` and `--channel` ask for, on the chosen source's folder: --data,
    else data/ in LEADSCORE_HOME (a store export resolves to a folder before this)."""
    lead_scores = models in (ModelsOption.all, ModelsOption.lead_score)
    channels = tuple(c.value for c in channel) if channel else ("inbound", "outbound")
    return TrainingRequest(
        folder=data if data is not None else get_settings().data_dir,
        lead_channels=channels if lead_scores else (),
        fit_roles=() if models is ModelsOption.lead_score else FIT_ROLES[models],
        config=config,
        alias=alias,
        accept_jump=accept_jump,
        drift_report=drift_report,
    )
