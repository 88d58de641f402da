"""Importing small hand-written deals, accounts and users exports into the tables the
fit models learn from, and refusing bad ones with a message rather than a traceback."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from data.contract import Customer, Opportunity, Rep, columns
from data.importing.account_import import import_accounts
from data.importing.deal_import import import_deals
from data.importing.fit_tables import closer_inputs
from data.importing.importer import import_export
from data.importing.mapping import load_mapping
from data.importing.record_mapping import load_record_mapping
from data.importing.user_import import DEFAULT_CAPACITY, import_users
from leadscore.cli import app

runner = CliRunner()

LEADS = """\
Id,CreatedDate,LeadSource,Company,Industry,NumberOfEmployees,AnnualRevenue,Country,Title,Status,IsConverted,ConvertedOpportunityId
00Q1,2023-01-05T10:00:00.000+0000,Web,Acme,Software,1200,,US,CTO,Closed - Converted,true,006A
00Q2,2023-02-05 11:30,Web,Beta,Finance,50,,DE,CFO,Closed - Not Converted,false,
"""
DEALS = """\
Id,OwnerId,AccountId,StageName,Amount,CreatedDate,CloseDate,LeadSource,Probability,IsWon
006A,005C1,001A,Closed Won,"$12,000",2023-01-10T10:00:00.000Z,2023-02-01,Web,100,true
006B,005C1,001B,Closed Lost,5000,2023-01-12T10:00:00.000Z,2023-03-01,Partner,0,false
006C,,001B,Prospecting,7000,2023-02-12T10:00:00.000Z,2023-06-01,Partner,10,false
006D,005C2,001C,Negotiation/Review,7000,2023-02-12T10:00:00.000Z,2023-06-01,Web,60,false
006E,005C2,001C,Closed Won,9000,2023-03-12T10:00:00.000Z,2023-03-01,Web,100,true
006F,005C2,001D,Closed Won,4000,2023-03-12T10:00:00.000Z,2023-04-01,Event,100,true
"""
ACCOUNTS = """\
Id,OwnerId,Name,Industry,NumberOfEmployees,BillingCountry,Customer_Since__c,Churn_Date__c,Contract_Value__c,Expansion_Value__c
001A,005M1,Acme,Software,1200,US,,,,1500
001B,005C1,Beta,Finance,50,Germany,,,,
001C,005M1,Gamma,Retail,300,FR,2023-01-01,2023-06-01,,
001D,,Delta,Retail,80,BR,,,,
001E,005M1,Eps,Retail,80,JP,2022-01-01,2023-05-01,2000,
"""
USERS = """\
Id,Name,IsActive,Email
005C1,Ana Silva,true,a@x
005C2,Ben Meyer,false,b@x
005M1,Chloe Okafor,true,c@x
005Z9,Dave Idle,true,d@x
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Leads and deals imported with the Salesforce presets, in that order."""
    out = tmp_path / "import"
    import_export(write(tmp_path, "leads.csv", LEADS), load_mapping("salesforce"), out)
    deals = load_record_mapping("salesforce", "deals")
    import_deals(write(tmp_path, "deals.csv", DEALS), deals, out)
    return out


def test_deals_become_opportunities_with_stage_outcomes_and_lead_links(tmp_path: Path) -> None:
    out = tmp_path / "import"
    import_export(write(tmp_path, "leads.csv", LEADS), load_mapping("salesforce"), out)
    mapping = load_record_mapping("salesforce", "deals")
    report = import_deals(write(tmp_path, "deals.csv", DEALS), mapping, out)
    deals = pd.read_parquet(out / "opportunities.parquet").set_index("opportunity_id")
    assert list(deals.reset_index().columns) == columns(Opportunity)
    assert deals.index.tolist() == ["006A", "006B", "006D", "006F"]
    assert deals["won"].map({True: "won", False: "lost"}).fillna("open").tolist() == [
        "won",
        "lost",
        "open",
        "won",
    ]
    assert deals.loc["006A", "closer_id"] == "005C1"
    # an open deal's CloseDate is a forecast, and only a won deal has a value
    assert deals["closed_at"].dt.strftime("%Y-%m-%d").fillna("open").tolist() == [
        "2023-02-01",
        "2023-03-01",
        "open",
        "2023-04-01",
    ]
    assert deals["value"].fillna(0).tolist() == [12_000, 0, 0, 4_000]
    # 006A is the deal lead 00Q1 became; the others have no imported lead
    assert deals["lead_id"].tolist() == ["00Q1", "deal-006B", "deal-006D", "deal-006F"]
    assert [(r.line, r.reason) for r in report.rejected] == [
        (4, "missing required field closer_id (OwnerId)"),
        (6, "closed (CloseDate) before it was created (CreatedDate)"),
    ]
    assert report.converted == 2
    assert any("1 deal(s) link to an imported lead" in n and "3 do not" in n for n in report.notes)
    assert any(n.startswith("Amount: known only after the outcome") for n in report.notes)


def test_a_deal_naming_its_lead_links_without_a_leads_export(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "deals.yaml",
        "table: deals\ncolumns:\n  opportunity_id: id\n  closer_id: owner\n"
        "  opened_at: created\n  closed_at: closed\n  lead_id: contacts\n"
        "outcome:\n  column: stage\n  won: [closedwon]\n  lost: [closedlost]\n",
    )
    export = write(
        tmp_path,
        "deals.csv",
        "id,owner,created,closed,contacts,stage\n"
        '1,Ana,2024-01-01,2024-02-01,"L7;L8",closedwon\n2,Ben,2024-01-02,,,appointmentscheduled\n',
    )
    report = import_deals(export, load_record_mapping(mapping, "deals"), tmp_path / "out")
    deals = pd.read_parquet(tmp_path / "out" / "opportunities.parquet")
    assert deals["lead_id"].tolist() == ["L7", "deal-2"]
    assert any("no leads imported" in w for w in report.warnings)


def test_accounts_become_customers_with_retention_judged_a_year_after_the_start(
    folder: Path, tmp_path: Path
) -> None:
    mapping = load_record_mapping("salesforce", "accounts")
    export = write(tmp_path, "accounts.csv", ACCOUNTS)
    report = import_accounts(export, mapping, folder, as_of=datetime(2024, 3, 1))
    customers = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
    assert list(customers.reset_index().columns) == columns(Customer)
    # 001A and 001D won a deal, 001C and 001E say customer since; 001B is a prospect and
    # 001D has no owner, so no account manager
    assert customers.index.tolist() == ["001A", "001E"]
    acme = customers.loc["001A"]
    assert (acme["lead_id"], acme["opportunity_id"]) == ("00Q1", "006A")
    assert acme["start_date"] == pd.Timestamp("2023-02-01")  # the won deal's close date
    assert acme["account_value"] == 12_000  # the won deal's amount
    assert acme["account_manager_id"] == "005M1"
    assert acme["retained_12m"]  # no churn, and a year has passed by the as-of date
    assert acme["expansion_value"] == 1500
    assert acme["company_region"] == "north_america"  # from the country
    # 001E churned 16 months after its start: retained; 001C has no deal amount, so it
    # cannot be a customer row
    assert customers.loc["001E", "retained_12m"]
    assert customers.loc["001E", "lead_id"] == "account-001E"
    assert any("no contract value" in w for w in report.warnings)
    assert any("no owner" in w for w in report.warnings)
    assert report.converted == 2


@pytest.mark.parametrize(
    ("churned_on", "as_of", "retained"),
    [
        ("2023-06-01", "2025-01-01", False),  # churned within the year
        ("2024-02-01", "2025-01-01", True),  # churned after it
        ("", "2025-01-01", True),
        ("", "2023-12-01", None),  # too early to tell
    ],
)
def test_retention_rule(tmp_path: Path, churned_on: str, as_of: str, retained: bool | None) -> None:
    export = write(
        tmp_path,
        "accounts.csv",
        "Id,OwnerId,Customer_Since__c,Churn_Date__c,Contract_Value__c\n"
        f"001X,005M1,2023-01-01,{churned_on},1000\n",
    )
    mapping = load_record_mapping("salesforce", "accounts")
    import_accounts(export, mapping, tmp_path / "out", as_of=datetime.fromisoformat(as_of))
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    value = customers["retained_12m"].iloc[0]
    assert (None if pd.isna(value) else bool(value)) == retained


def test_users_without_a_role_column_get_the_role_of_what_they_own(
    folder: Path, tmp_path: Path
) -> None:
    import_accounts(
        write(tmp_path, "accounts.csv", ACCOUNTS),
        load_record_mapping("salesforce", "accounts"),
        folder,
        as_of=datetime(2024, 3, 1),
    )
    mapping = load_record_mapping("salesforce", "users")
    report = import_users(write(tmp_path, "users.csv", USERS), mapping, folder)
    reps = pd.read_parquet(folder / "reps.parquet").set_index("rep_id")
    assert list(reps.reset_index().columns) == columns(Rep)
    assert reps["role"].to_dict() == {
        "005C1": "closer",
        "005C2": "closer",
        "005M1": "account_manager",
    }
    assert reps.loc["005C2", "active"] == False  # noqa: E712 (a numpy bool)
    assert reps.loc["005C1", "capacity"] == DEFAULT_CAPACITY["closer"]
    assert reps.loc["005M1", "capacity"] == DEFAULT_CAPACITY["account_manager"]
    assert any("capacity unknown for 3 user(s)" in w for w in report.warnings)
    assert any("1 user(s) have no role" in w for w in report.warnings)
    assert any("role: no role column; 3 inferred" in n for n in report.notes)


def test_a_role_column_is_read_through_its_value_map(tmp_path: Path) -> None:
    export = write(
        tmp_path,
        "users.csv",
        "Id,Name,UserRole.Name,Sales_Region__c,Capacity__c\n"
        "005A,Ana,Account Executive,EMEA,25\n005B,Ben,Customer Success Manager,APAC,\n"
        "005C,Cy,Regional VP,latam,\n",
    )
    report = import_users(export, load_record_mapping("salesforce", "users"), tmp_path / "o")
    reps = pd.read_parquet(tmp_path / "o" / "reps.parquet").set_index("rep_id")
    assert reps["role"].to_dict() == {"005A": "closer", "005B": "account_manager"}
    assert reps["region"].to_dict() == {"005A": "emea", "005B": "apac"}
    assert reps["capacity"].to_dict() == {"005A": 25, "005B": DEFAULT_CAPACITY["account_manager"]}
    assert any("'Regional VP'" in n for n in report.notes)


def test_deals_without_a_lead_are_learnt_from_their_account(folder: Path, tmp_path: Path) -> None:
    import_accounts(
        write(tmp_path, "accounts.csv", ACCOUNTS),
        load_record_mapping("salesforce", "accounts"),
        folder,
        as_of=datetime(2024, 3, 1),
    )
    inputs = closer_inputs(folder)
    assert (inputs.linked, inputs.built) == (1, 2)
    built = inputs.leads.set_index("lead_id").loc["deal-006B"]
    assert (built["company_industry"], built["company_region"], built["source"]) == (
        "Finance",
        "emea",
        "Partner",
    )
    assert built["created_at"] == pd.Timestamp("2023-01-12 10:00")


def test_a_post_contact_column_mapped_as_a_feature_is_not_imported(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "deals.yaml",
        "table: deals\ncolumns:\n  opportunity_id: Id\n  closer_id: OwnerId\n"
        "  opened_at: CreatedDate\n  source: Probability\n"
        "outcome:\n  column: StageName\n  won: [Closed Won]\n  lost: [Closed Lost]\n"
        "post_contact: [Probability]\n",
    )
    report = import_deals(
        write(tmp_path, "deals.csv", DEALS), load_record_mapping(mapping, "deals"), tmp_path / "o"
    )
    deals = pd.read_parquet(tmp_path / "o" / "deal_links.parquet")
    assert deals["source"].isna().all()
    assert "Probability" in report.dropped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: {opportunity_id: Id}\n", "table: missing"),
        ("table: accounts\ncolumns: {account_id: Id}\n", "maps a accounts export, not deals"),
        (
            "table: deals\ncolumns: {opportunity_id: Id, closer_id: O, opened_at: C, won: W}\n"
            "outcome: {column: S, won: [w], lost: [l]}\n",
            "'won' is not a field of a deals import",
        ),
        (
            "table: deals\ncolumns: {opportunity_id: Id, opened_at: C}\n"
            "outcome: {column: S, won: [w], lost: [l]}\n",
            "deals need 'closer_id'",
        ),
        ("table: users\ncolumns: {rep_id: Id, role: R}\nvalues: {role: {ae: boss}}\n", "boss"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    table = "users" if "users" in text else "deals"
    with pytest.raises(ValueError, match=message):
        load_record_mapping(write(tmp_path, "m.yaml", text), table)


def test_stages_outside_the_listed_ones_stop_the_import(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "deals.yaml",
        "table: deals\ncolumns: {opportunity_id: Id, closer_id: OwnerId, opened_at: CreatedDate}\n"
        "outcome: {column: StageName, won: [Closed Won], lost: [Closed Lost], "
        "open: [Prospecting]}\n",
    )
    with pytest.raises(ValueError, match="'Negotiation/Review'"):
        import_deals(
            write(tmp_path, "deals.csv", DEALS),
            load_record_mapping(mapping, "deals"),
            tmp_path / "o",
        )
    assert not (tmp_path / "o").exists()


def test_the_cli_imports_each_table_and_reports_errors_without_a_traceback(
    tmp_path: Path,
) -> None:
    out = tmp_path / "import"
    steps = [
        ("leads", LEADS, "leads.parquet"),
        ("deals", DEALS, "opportunities.parquet"),
        ("accounts", ACCOUNTS, "customers.parquet"),
        ("users", USERS, "reps.parquet"),
    ]
    for table, text, written in steps:
        export = write(tmp_path, f"{table}.csv", text)
        result = runner.invoke(
            app,
            [
                "import",
                "--input",
                str(export),
                "--table",
                table,
                "--mapping",
                "salesforce",
                "--out",
                str(out),
                "--as-of",
                "2024-03-01",
            ],
        )
        assert result.exit_code == 0, result.output
        assert (out / written).is_file()
        assert f"{table}: {table}.csv" in result.output
    bad = write(tmp_path, "bad.csv", "Id,OwnerId\n1,2\n")
    result = runner.invoke(
        app,
        [
            "import",
            "--input",
            str(bad),
            "--table",
            "opportunities",
            "--mapping",
            "hubspot",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "column(s) not in the file: 'Record ID'" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(
        app,
        [
            "import",
            "--input",
            str(bad),
            "--table",
            "contacts",
            "--mapping",
            "hubspot",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "unknown table 'contacts'" in result.output


def test_deals_imported_before_their_leads_are_linked_at_training(tmp_path: Path) -> None:
    out = tmp_path / "import"
    deals = load_record_mapping("salesforce", "deals")
    report = import_deals(write(tmp_path, "deals.csv", DEALS), deals, out)
    assert any("no leads imported" in w for w in report.warnings)
    assert closer_inputs(out).linked == 0
    import_export(write(tmp_path, "leads.csv", LEADS), load_mapping("salesforce"), out)
    inputs = closer_inputs(out)
    assert (inputs.linked, inputs.built) == (1, 2)
    won = inputs.opportunities.set_index("opportunity_id").loc["006A", "lead_id"]
    assert won == "00Q1"
