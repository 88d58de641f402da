"""`python -m leadscore`: the same CLI as the `leadscore` command."""

from leadscore.cli import app

app()
