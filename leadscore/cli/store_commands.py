"""`leadscore db` and `leadscore keys`: the operational store's schema and its API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from data.store import Store
from leadscore.console import make_console
from leadscore.settings import get_settings

db_app = typer.Typer(
    no_args_is_help=True, help="The operational store (roster, history, outcomes)."
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (LEADSCORE_DATABASE_URL, default SQLite in LEADSCORE_HOME)."""
    from data.store import current_revision, head_revision, upgrade

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    before = current_revision(settings.database)
    upgrade(settings.database)
    make_console().print(
        f"database {_redacted(settings.database)}: schema {before or 'empty'} -> {head_revision()}"
    )


keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys: create (shown once), list, revoke. "
    "Scopes: score, route, outcomes, read, admin.",
)


def _key_store() -> Store:
    from data.store import upgrade

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database)
    return Store(settings.database)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. crm-sync.")],
    scope: Annotated[
        list[str],
        typer.Option(help="score, route, outcomes, read or admin (repeatable; admin is all)."),
    ],
) -> None:
    """Create a key and print it once: only its hash is stored."""
    console = make_console()
    try:
        with _key_store() as store:
            key, token = store.create_api_key(name, scope)
    except ValueError as error:
        console.print(f"[red]error:[/red] --scope/--name: {error}", soft_wrap=True)
        raise typer.Exit(1) from error
    console.print(f"key {key.key_id} '{key.name}' with scopes {', '.join(key.scopes)}")
    console.print("The key (shown this once; send it as 'Authorization: Bearer <key>'):")
    typer.echo(token)


@keys_app.command("list")
def keys_list() -> None:
    """The keys, active and revoked (never their secrets)."""
    from rich.table import Table

    with _key_store() as store:
        found = store.list_api_keys()
    table = Table(title=f"{len(found)} API key(s)", title_justify="left")
    for column in ("id", "name", "scopes", "created", "revoked"):
        table.add_column(column)
    for key in found:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        table.add_row(
            key.key_id, key.name, ", ".join(key.scopes), f"{key.created_at:%Y-%m-%d %H:%M}", revoked
        )
    make_console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The id `keys list` shows.")]) -> None:
    """Revoke a key; a running API refuses it within seconds."""
    from data.store import NotFoundError

    console = make_console()
    try:
        with _key_store() as store:
            key = store.revoke_api_key(key_id)
    except NotFoundError as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from error
    console.print(f"key {key.key_id} '{key.name}' revoked")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
