"""The generated history's deals, accounts and users as a CRM exports them.

The companion of `data.generator.crm_export` (the leads): Salesforce Opportunity, Account and
User exports, or HubSpot deals, companies and owners, in their field names and value
formats, so that `leadscore import --table deals|accounts|users --mapping salesforce`
(or hubspot) reads them into the opportunities, customers and reps the generator wrote.

The generator has no accounts: every lead with a deal is one account, a customer when
the deal was won (its start date the customer-since date, a churn date within a year
when it was not retained). Real exports' mess is there: a few deals and accounts without
an owner, an inactive user, post-outcome columns (the amount at close, probability,
forecast category, next step, loss reason) and, for open deals, a forecast close date.
Salesforce deals link to their lead from the lead side (the lead export's
ConvertedOpportunityId, written by `data.generator.crm_export`); HubSpot deals name their contact
(Associated Contact IDs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from data.generator.crm_fields import DATE_ONLY, dates
from data.importing.mapping import PRESETS
from data.importing.record_mapping import PRESET_FILES, RecordTable
from data.tables import read_table

BLANK_OWNER_SHARE = 0.01
"""Deals and prospect accounts exported without an owner (a user since deleted, say)."""
SF_USER = "005Dn00000"
"""Salesforce user ids: this prefix and the generated rep id, 15 characters."""
SF_ACCOUNT, SF_OPPORTUNITY = "001Dn000", "006Dn000"
SF_STAGES_OPEN = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
HS_STAGES_OPEN = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
SF_ROLES = {
    "closer": "Account Executive",
    "account_manager": "Account Manager",
    "inbound_specialist": "SDR",
    "prospector": "BDR",
}
REGION_LABELS = {"north_america": "North America", "emea": "EMEA", "apac": "APAC", "latam": "LATAM"}
LOSS_REASONS = ("Price", "Competitor", "No Decision", "Timing", "Lost to EINS")
SF_TIME = "%Y-%m-%dT%H:%M:%S.000Z"
HS_TIME = "%Y-%m-%d %H:%M:%S"
FILES: dict[str, dict[RecordTable, str]] = {
    "salesforce": {"deals": "opportunities", "accounts": "accounts", "users": "users"},
    "hubspot": {"deals": "deals", "accounts": "companies", "users": "owners"},
}
"""Each CRM's word for the table, as in the export's file name."""
DEAL_COLUMNS: dict[str, dict[str, str]] = {
    "salesforce": {
        "Id": "id",
        "Name": "name",
        "AccountId": "account",
        "OwnerId": "owner",
        "StageName": "stage",
        "Amount": "amount",
        "Probability": "probability",
        "ForecastCategoryName": "forecast_category",
        "NextStep": "next_step",
        "CreatedDate": "created",
        "CloseDate": "close_date",
        "LeadSource": "source",
        "IsClosed": "closed",
        "IsWon": "won",
        "Loss_Reason__c": "loss_reason",
    },
    "hubspot": {
        "Record ID": "id",
        "Deal Name": "name",
        "Pipeline": "pipeline",
        "Deal Stage": "stage",
        "Amount": "amount",
        "Deal probability": "probability",
        "Create Date": "created",
        "Close Date": "close_date",
        "Deal owner": "owner",
        "Associated Company IDs": "account",
        "Associated Contact IDs": "contact",
        "Original Source Type": "source",
        "Closed Lost Reason": "loss_reason",
        "Next step": "next_step",
    },
}
"""Each style's deal export: its columns in order, each with the role it holds."""
ACCOUNT_COLUMNS: dict[str, dict[str, str]] = {
    "salesforce": {
        "Id": "id",
        "Name": "name",
        "OwnerId": "owner",
        "Type": "type",
        "Industry": "industry",
        "NumberOfEmployees": "employees",
        "AnnualRevenue": "revenue",
        "BillingCountry": "country",
        "Sales_Region__c": "region",
        "Customer_Since__c": "customer_since",
        "Churn_Date__c": "churn_date",
        "Expansion_Value__c": "expansion",
        "Phone": "phone",
    },
    "hubspot": {
        "Record ID": "id",
        "Company name": "name",
        "Company owner": "owner",
        "Lifecycle Stage": "type",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Annual Revenue": "revenue",
        "Country/Region": "country",
        "Sales Region": "region",
        "Became a Customer Date": "customer_since",
        "Churn Date": "churn_date",
        "Expansion Value": "expansion",
    },
}
"""Each style's account (company) export, as `DEAL_COLUMNS`."""
USER_COLUMNS: dict[str, dict[str, str]] = {
    "salesforce": {
        "Id": "id",
        "Name": "name",
        "Email": "email",
        "Title": "role",
        "UserRole.Name": "role",
        "Sales_Region__c": "region",
        "IsActive": "active",
    },
    "hubspot": {"Name": "id", "Email": "email", "Teams": "team", "Active": "active"},
}
"""Each style's user (owner) export, as `DEAL_COLUMNS`."""


@dataclass(frozen=True)
class CrmRecords:
    """The written exports by table (deals, accounts, users) and how to read them back."""

    csv: dict[RecordTable, Path]
    mapping: dict[RecordTable, Path]
    """The preset, plus what this export has beyond it (HubSpot's contact link)."""
    rep_ids: dict[str, str]
    """The CRM's id of each generated rep (Salesforce user id, HubSpot owner name)."""
    opportunity_ids: dict[str, str]
    """The CRM's id of each generated opportunity."""


def write_crm_records(
    history_dir: Path, folder: Path, style: str = "salesforce", seed: int = 0
) -> CrmRecords:
    """Write the deals, accounts and users of the history in `history_dir` as `style`
    exports, `folder`/export-STYLE-TABLE.csv, each with its mapping beside it."""
    if style not in FILES:
        raise ValueError(f"style must be one of {', '.join(FILES)}, got {style!r}")
    rng = np.random.default_rng(seed)
    leads = read_table(history_dir, "leads")
    opportunities = read_table(history_dir, "opportunities")
    customers = read_table(history_dir, "customers")
    reps = read_table(history_dir, "reps")
    rep_ids = _rep_ids(reps, style)
    opp_ids = _opportunity_ids(opportunities, style)
    frames: dict[RecordTable, pd.DataFrame] = {
        "deals": deals_frame(leads, opportunities, rep_ids, opp_ids, style, rng),
        "accounts": accounts_frame(leads, opportunities, customers, rep_ids, style, rng),
        "users": users_frame(reps, rep_ids, style),
    }
    csv: dict[RecordTable, Path] = {}
    mappings: dict[RecordTable, Path] = {}
    folder.mkdir(parents=True, exist_ok=True)
    for table, frame in frames.items():
        path = folder / f"export-{style}-{FILES[style][table]}.csv"
        frame.to_csv(path, index=False)
        csv[table] = path
        mappings[table] = _write_mapping(path, style, table)
    return CrmRecords(csv, mappings, rep_ids, opp_ids)


def _write_mapping(csv: Path, style: str, table: RecordTable) -> Path:
    preset = PRESET_FILES[style][table]
    mapping = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text(encoding="utf-8"))
    if style == "hubspot" and table == "deals":
        mapping["columns"]["lead_id"] = "Associated Contact IDs"
    path = csv.with_suffix(".yaml")
    header = f"# The {preset} preset, as {csv.name} needs it.\n"
    path.write_text(header + yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return path


def _rep_ids(reps: pd.DataFrame, style: str) -> dict[str, str]:
    if style == "salesforce":
        return {rep: SF_USER + rep for rep in reps["rep_id"]}
    # HubSpot's label exports name owners: a repeated name gets a number, as people do.
    seen: dict[str, int] = {}
    ids = {}
    for rep, name in zip(reps["rep_id"], reps["name"], strict=True):
        seen[name] = seen.get(name, 0) + 1
        ids[rep] = name if seen[name] == 1 else f"{name} {seen[name]}"
    return ids


def _opportunity_ids(opportunities: pd.DataFrame, style: str) -> dict[str, str]:
    ids = opportunities["opportunity_id"].astype(str)
    if style == "salesforce":
        return dict(zip(ids, salesforce_opportunity_ids(ids), strict=True))
    return dict(zip(ids, ids.str[1:].astype(int).add(9_000_000_000).astype(str), strict=True))


def salesforce_opportunity_ids(opportunity_ids: pd.Series) -> pd.Series:
    """Generated opportunity ids (O0000042) as Salesforce's 15-character ids."""
    return SF_OPPORTUNITY + opportunity_ids.astype(str).str[1:]


def account_ids(lead_ids: pd.Series, style: str) -> pd.Series:
    """One account per lead with a deal: its id in the CRM."""
    if style == "salesforce":
        return SF_ACCOUNT + lead_ids.str[1:]
    return lead_ids.str[1:].astype(int).add(5_000_000_000).astype(str)


def _with_blanks(values: pd.Series, share: float, rng: np.random.Generator) -> pd.Series:
    return values.where(rng.random(len(values)) >= share, "")


def deals_frame(
    leads: pd.DataFrame,
    opportunities: pd.DataFrame,
    rep_ids: dict[str, str],
    opp_ids: dict[str, str],
    style: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The opportunities as `style` exports them."""
    deals = opportunities.merge(
        leads[["lead_id", "source", "company_name"]], on="lead_id", how="left"
    )
    n = len(deals)
    won = deals["won"].fillna(False).astype(bool).to_numpy()
    lost = (~deals["won"].fillna(True).astype(bool)).to_numpy()
    open_ = ~(won | lost)
    opened = pd.to_datetime(deals["opened_at"])
    forecast = opened + pd.to_timedelta(rng.uniform(20, 120, n), unit="D")
    close = pd.to_datetime(deals["closed_at"]).where(~open_, forecast)
    typical = pd.Series(np.round(np.exp(rng.normal(9.5, 0.6, n)), -1), index=deals.index)
    amount = deals["value"].where(won, typical).round(0).astype("Int64")
    open_stages = SF_STAGES_OPEN if style == "salesforce" else HS_STAGES_OPEN
    stage = np.where(
        won,
        "Closed Won" if style == "salesforce" else "closedwon",
        np.where(
            lost,
            "Closed Lost" if style == "salesforce" else "closedlost",
            rng.choice(open_stages, n),
        ),
    )
    probability = np.where(won, 100, np.where(lost, 0, rng.choice([10, 20, 40, 60, 80], n)))
    owner = _with_blanks(deals["closer_id"].map(rep_ids), BLANK_OWNER_SHARE, rng)
    account = account_ids(deals["lead_id"], style)
    source = deals["source"].str.replace("_", " ").str.title().fillna("")
    name = deals["company_name"].fillna("Unknown") + " - New Business"
    loss = np.where(lost, rng.choice(LOSS_REASONS, n), "")
    next_step = np.where(
        open_, rng.choice(["Send proposal", "Demo follow-up", "Legal review"], n), ""
    )
    salesforce = style == "salesforce"
    values = {
        "id": deals["opportunity_id"].map(opp_ids),
        "name": name,
        "account": account,
        "owner": owner,
        "stage": stage,
        "amount": amount,
        "probability": probability if salesforce else probability / 100,
        "forecast_category": np.where(won, "Closed", np.where(lost, "Omitted", "Pipeline")),
        "next_step": next_step,
        "created": opened.dt.strftime(SF_TIME if salesforce else HS_TIME),
        "close_date": dates(close, DATE_ONLY),
        "source": source,
        "closed": np.where(open_, "false", "true"),
        "won": np.where(won, "true", "false"),
        "loss_reason": loss,
        "pipeline": "Sales Pipeline",
        "contact": deals["lead_id"],
    }
    return _laid_out(values, DEAL_COLUMNS[style])


def accounts_frame(
    leads: pd.DataFrame,
    opportunities: pd.DataFrame,
    customers: pd.DataFrame,
    rep_ids: dict[str, str],
    style: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One account per lead with a deal, a customer when the deal was won."""
    accounts = (
        opportunities[["lead_id", "closer_id"]]
        .merge(leads, on="lead_id", how="left")
        .merge(
            customers[
                ["lead_id", "account_manager_id", "start_date", "retained_12m", "expansion_value"]
            ],
            on="lead_id",
            how="left",
        )
    )
    n = len(accounts)
    customer = accounts["start_date"].notna().to_numpy()
    owner_rep = accounts["account_manager_id"].where(customer, accounts["closer_id"])
    owner = owner_rep.map(rep_ids)
    owner = owner.where(customer | (rng.random(n) >= 2 * BLANK_OWNER_SHARE), "")
    start = pd.to_datetime(accounts["start_date"])
    retained = accounts["retained_12m"].astype("boolean")
    churn_early = start + pd.to_timedelta(rng.uniform(20, 360, n), unit="D")
    churn_late = start + pd.to_timedelta(rng.uniform(400, 700, n), unit="D")
    as_of = max(
        pd.to_datetime(opportunities["opened_at"]).max(),
        pd.to_datetime(opportunities["closed_at"]).max(),
    )
    late = retained.fillna(False).to_numpy(bool) & (rng.random(n) < 0.2) & (churn_late <= as_of)
    churn = churn_early.where((~retained).fillna(False).to_numpy(bool)).where(~late, churn_late)
    expansion = accounts["expansion_value"].round(0).astype("Int64")
    region = accounts["company_region"].map(REGION_LABELS).fillna("")
    industry = accounts["company_industry"].str.title().fillna("")
    salesforce = style == "salesforce"
    values = {
        "id": account_ids(accounts["lead_id"], style),
        "name": accounts["company_name"],
        "owner": owner,
        "type": np.where(
            customer,
            "Customer - Direct" if salesforce else "Customer",
            "Prospect" if salesforce else "Opportunity",
        ),
        "industry": industry,
        "employees": accounts["company_size"],
        "revenue": accounts["company_revenue"].round(0).astype("Int64"),
        "country": accounts["company_country"],
        "region": region,
        "customer_since": dates(start, DATE_ONLY),
        "churn_date": dates(churn, DATE_ONLY),
        "expansion": expansion,
    }
    if salesforce:
        values["phone"] = [f"+1 555 {x:07d}" for x in rng.integers(0, 10**7, n)]
    return _laid_out(values, ACCOUNT_COLUMNS[style])


def users_frame(reps: pd.DataFrame, rep_ids: dict[str, str], style: str) -> pd.DataFrame:
    """Every rep as a user; the last closer has left (inactive)."""
    closers = reps.index[reps["role"] == "closer"]
    active = pd.Series(True, index=reps.index)
    if len(closers):
        active[closers[-1]] = False
    region = reps["region"].map(REGION_LABELS)
    email = reps["name"].str.lower().str.replace(" ", ".") + "@example.com"
    values = {
        "id": reps["rep_id"].map(rep_ids),
        "name": reps["name"],
        "email": email,
        "role": reps["role"].map(SF_ROLES),
        "region": region.fillna(""),
        "team": (region + " Sales").fillna(""),
        "active": np.where(active, "true", "false")
        if style == "salesforce"
        else np.where(active, "Yes", "No"),
    }
    return _laid_out(values, USER_COLUMNS[style])


def _laid_out(values: dict[str, object], columns: dict[str, str]) -> pd.DataFrame:
    """The export's columns in its order, each filled with the values of its role."""
    return pd.DataFrame({column: values[role] for column, role in columns.items()})
