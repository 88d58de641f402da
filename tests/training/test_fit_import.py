"""From CRM exports to registered fit models, as a user runs it: `leadscore generate
--export salesforce`, `leadscore import` of each table, `leadscore train --models ...`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from data.importing.fit_tables import read_fit_table
from data.tables import MissingTableError
from leadscore.cli import app
from leadscore.settings import get_settings
from training.splits import time_split
from training.training_config import NotEnoughDataError, TrainingConfig

pytestmark = pytest.mark.slow

runner = CliRunner()
EXPORTS = {
    "leads": "export-salesforce.csv",
    "deals": "export-salesforce-opportunities.csv",
    "accounts": "export-salesforce-accounts.csv",
    "users": "export-salesforce-users.csv",
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated history and its Salesforce exports: leads, opportunities, accounts, users."""
    folder = tmp_path_factory.mktemp("crm")
    result = runner.invoke(
        app,
        [
            "generate",
            "--out",
            str(folder),
            "--leads",
            "20000",
            "--seed",
            "3",
            "--export",
            "salesforce",
        ],
    )
    assert result.exit_code == 0, result.output
    return folder


def import_tables(exports: Path, out: Path, tables: list[str]) -> None:
    for table in tables:
        result = runner.invoke(
            app,
            [
                "import",
                "--input",
                str(exports / EXPORTS[table]),
                "--table",
                table,
                "--mapping",
                "salesforce",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output


def outcome_rows(output: str) -> dict[str, str]:
    """model -> status, from the "Models asked for" table."""
    table = output[output.index("Models asked for") :]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) >= 2 and cells[1] in ("trained", "skipped", "FAILED"):
            rows[cells[0]] = cells[1]
    return rows


def registered(home: Path) -> dict[str, list[str]]:
    uri = get_settings().tracking_uri
    client = MlflowClient(uri, uri)
    return {
        model.name: [str(v.version) for v in client.search_model_versions(f"name='{model.name}'")]
        for model in client.search_registered_models()
    }


def test_without_accounts_the_closer_fit_trains_and_the_account_manager_fit_says_why(
    exports: Path, tmp_path: Path, home: Path
) -> None:
    data = tmp_path / "import"
    import_tables(exports, data, ["leads", "deals", "users"])
    result = runner.invoke(app, ["train", "--data", str(data), "--models", "rep-fit"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "IndexError" not in result.output
    assert outcome_rows(result.output) == {
        "closer-fit": "trained",
        "account-manager-fit": "skipped",
    }
    assert "no accounts imported into" in result.output
    assert "--table accounts" in result.output
    assert "built from their account" in result.output  # outbound deals have no lead
    assert registered(home) == {"closer-fit": ["1"]}


def test_the_closer_fit_alone_trains_on_deals_and_users(
    exports: Path, tmp_path: Path, home: Path
) -> None:
    data = tmp_path / "import"
    import_tables(exports, data, ["deals", "users"])  # no leads: every row from its account
    result = runner.invoke(app, ["train", "--data", str(data), "--models", "closer-fit"])
    assert result.exit_code == 0, result.output
    assert outcome_rows(result.output) == {"closer-fit": "trained"}
    assert registered(home) == {"closer-fit": ["1"]}


def test_a_missing_table_skips_its_model_with_the_reason(
    exports: Path, tmp_path: Path, home: Path
) -> None:
    data = tmp_path / "import"
    import_tables(exports, data, ["deals"])
    result = runner.invoke(app, ["train", "--data", str(data), "--models", "all"])
    assert result.exit_code == 0, result.output
    rows = outcome_rows(result.output)
    assert set(rows.values()) == {"skipped"}
    assert set(rows) == {
        "lead-score-inbound",
        "lead-score-outbound",
        "closer-fit",
        "account-manager-fit",
    }
    assert "no users imported" in result.output
    assert "no leads imported" in result.output
    with pytest.raises(MissingTableError, match="--table users"):
        read_fit_table(data, "reps")


def test_three_crm_exports_and_a_roster_become_registered_fit_models(
    exports: Path, tmp_path: Path, home: Path
) -> None:
    data = tmp_path / "import"
    import_tables(exports, data, ["leads", "deals", "accounts", "users"])
    customers = pd.read_parquet(data / "customers.parquet")
    assert customers["retained_12m"].notna().sum() > 300
    result = runner.invoke(
        app, ["train", "--data", str(data), "--models", "rep-fit", "--min-outcomes", "15"]
    )
    assert result.exit_code == 0, result.output
    assert outcome_rows(result.output) == {
        "closer-fit": "trained",
        "account-manager-fit": "trained",
    }
    assert registered(home) == {"closer-fit": ["1"], "account-manager-fit": ["1"]}


def test_a_time_split_of_nothing_says_so() -> None:
    with pytest.raises(NotEnoughDataError, match="no dated rows"):
        time_split(pd.Series([], dtype="datetime64[us]"), TrainingConfig())
