"""The `leadscore` command line: one sub-command per job.

Commands only translate options into calls on the packages and print what
came back; the work itself lives in `data`, `training` and `serving`, where
tests call it as plain functions. Each group of commands has its module; this
one puts them on the `app` the console script runs.
"""

from __future__ import annotations

import typer

from leadscore.cli.data_commands import export, generate, import_
from leadscore.cli.demo_command import demo
from leadscore.cli.model_commands import report, retrain, train
from leadscore.cli.serving_commands import rescore, route, serve
from leadscore.cli.store_commands import db_app, keys_app

app = typer.Typer(
    no_args_is_help=True,
    help="Open ML lead scoring and assignment: inbound and outbound lead scores, "
    "closer and account-manager fit.",
)


@app.callback()
def main() -> None:
    """leadscore: generate, import, train, serve, rescore, demo."""


# In this order in `leadscore --help`.
app.command()(generate)
app.command("import")(import_)
app.command()(train)
app.command()(retrain)
app.command()(export)
app.command()(route)
app.command()(serve)
app.command()(rescore)
app.command()(report)
app.command()(demo)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
