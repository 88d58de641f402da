"""The generated history as a CRM would export it: Salesforce or HubSpot, with planted problems.

Inbound leads only (both import presets map every row to inbound), undecided
ones included as real exports have them: a lead with an open opportunity, or
too young to be closed without one, shows an open status (one the preset's
`outcome.open` lists), and no decided lead does. The standard columns
follow each CRM's export names, so `leadscore import --mapping salesforce`
(or `hubspot`) reads the file; the CRM's own post-contact fields (status,
owner, rating, last activity, converted date) are always there, as in a real
export, and the presets leave them out. Three custom fields known from the
lead's creation are always there too (a sign-up plan, the lead's origin form,
time on site): honest and genuinely predictive (`data.generator.crm_fields`).

Plants:
- `leaks`: custom fields sales fills in after contact, which no preset can
  know: a free-text tag set, a lead-quality rating, the last activity and a
  decision date. Like real ones they are telling but not perfect, blank for
  leads nobody has worked yet (the newest), and some values appear only once a
  lead is decided ("Closed by Horizzon", "Lost to EINS").
- `no-dates`: no creation-date column; `no-ids`: no record-id column.

`write_crm_export` writes the CSV and, beside it, the preset with the custom
columns added as `extra:` (same name, `.yaml`), to import them as features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml

from data.generator.crm_fields import DATE_ONLY, DECIDED, dates, honest_fields, typed_in_fields
from data.generator.crm_records import salesforce_opportunity_ids
from data.importing.mapping import PRESETS
from data.labels import MATURITY_DAYS, export_time
from data.tables import read_table

Style = Literal["salesforce", "hubspot"]
STYLES: tuple[Style, ...] = ("salesforce", "hubspot")
PLANTS = frozenset({"leaks", "no-dates", "no-ids"})
STATES = ("won", "lost", "disqualified", "open_opportunity", "young")
"""A lead's state in the CRM at export time; the last two are undecided."""

HONEST = {"plan": "categorical", "origin": "categorical", "time_on_site": "numeric"}
LEAKS = {
    "tags": "categorical",
    "quality": "categorical",
    "last_activity": "categorical",
    "decided_on": "timestamp",
}
"""The custom fields by role, with their kind for the import mapping."""
COLUMNS: dict[str, tuple[str | None, str | None]] = {
    "lead_id": ("Id", "Record ID"),
    "first": ("FirstName", "First Name"),
    "last": ("LastName", "Last Name"),
    "email": ("Email", "Email"),
    "phone": ("Phone", "Phone Number"),
    "company": ("Company", "Company Name"),
    "title": ("Title", "Job Title"),
    "industry": ("Industry", "Industry"),
    "employees": ("NumberOfEmployees", "Number of Employees"),
    "revenue": ("AnnualRevenue", "Annual Revenue"),
    "country": ("Country", "Country/Region"),
    "source": ("LeadSource", "Original Source"),
    "created": ("CreatedDate", "Create Date"),
    "status": ("Status", "Lead Status"),
    "outcome": ("IsConverted", "Lifecycle Stage"),
    "owner": ("OwnerId", "Contact owner"),
    "rating": ("Rating", None),
    "activity_date": ("LastActivityDate", "Last Activity Date"),
    "won_date": ("ConvertedDate", "Became a Customer Date"),
    "plan": ("Signup_Plan__c", "Signup Plan"),
    "origin": ("Lead_Origin__c", "Lead Origin"),
    "time_on_site": ("Time_On_Site__c", "Time on Site"),
    "tags": ("Tags__c", "Tags"),
    "quality": ("Lead_Quality__c", "Lead Quality"),
    "last_activity": ("Last_Activity__c", "Last Activity"),
    "decided_on": ("Closed_On__c", "Decision Date"),
    "converted_opportunity": ("ConvertedOpportunityId", None),
    "activities": (None, "Number of Sales Activities"),
}
"""Each role's column in a Salesforce and a HubSpot export (None: the style lacks it)."""
NAMES: dict[Style, dict[str, str]] = {
    style: {role: name for role, names in COLUMNS.items() if (name := names[i]) is not None}
    for i, style in enumerate(STYLES)
}
"""Each style's column for a role; a role the style lacks is left out of its export."""
STATUSES: dict[str, tuple[str, str]] = {
    "won": ("Closed - Converted", "CONNECTED"),
    "lost": ("Closed - Not Converted", "BAD_TIMING"),
    "disqualified": ("Closed - Not Converted", "UNQUALIFIED"),
    "open_opportunity": ("Working - Contacted", "OPEN_DEAL"),
    "young": ("Working - Contacted", "IN_PROGRESS"),
    "new": ("Open - Not Contacted", "NEW"),
}
STATUS: dict[Style, dict[str, str]] = {
    style: {state: names[i] for state, names in STATUSES.items()} for i, style in enumerate(STYLES)
}
"""The lead status by state, from each CRM's standard picklist (HubSpot's internal values);
"new" is an undecided lead nobody has worked yet. The presets' `outcome.open` lists the
statuses of undecided leads."""
OPEN_STATUSES = {
    style: {s[k] for k in ("open_opportunity", "young", "new")} for style, s in STATUS.items()
}
"""The statuses of undecided leads: how a reader of the export tells them."""
LIFECYCLE = {
    "won": "Customer",
    "lost": "Other",
    "disqualified": "Lead",
    "open_opportunity": "Opportunity",
    "young": "Lead",
}
WORK_LAG_DAYS = 6.0
"""Mean days from a lead's creation to its first contact: the newest leads are not worked yet."""
NEVER_WORKED = 0.08
"""Share of leads without an opportunity that nobody ever reaches."""
OWNERS = ("Ana Silva", "Ben Meyer", "Chloe Okafor", "David Tanaka", "Eva Novak", "Farid Garcia")


@dataclass(frozen=True)
class CrmExport:
    csv: Path
    mapping: Path
    """The style's preset plus the custom columns of this export as `extra:`."""
    honest: tuple[str, ...]
    """Custom columns known from the lead's creation."""
    leaks: tuple[str, ...]
    """Custom columns filled in after contact (planted)."""


def write_crm_export(
    history_dir: Path,
    out_csv: Path,
    style: Style = "salesforce",
    plant: frozenset[str] | set[str] = frozenset(),
    seed: int = 0,
) -> CrmExport:
    """Write the inbound leads of the history in `history_dir` as a `style` export."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    if unknown := set(plant) - PLANTS:
        raise ValueError(f"unknown plant(s) {', '.join(sorted(unknown))}; known: {sorted(PLANTS)}")
    leads = read_table(history_dir, "leads")
    frame = crm_frame(leads, read_table(history_dir, "opportunities"), style, set(plant), seed)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_csv, index=False)
    names = NAMES[style]
    custom = HONEST | (LEAKS if "leaks" in plant else {})
    mapping = yaml.safe_load((PRESETS / f"{style}.yaml").read_text(encoding="utf-8"))
    mapping["extra"] = {names[role]: {"kind": kind} for role, kind in custom.items()}
    mapping_path = out_csv.with_suffix(".yaml")
    header = f"# The {style} preset plus the custom columns of {out_csv.name}.\n"
    mapping_path.write_text(header + yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    leaks = tuple(names[role] for role in LEAKS) if "leaks" in plant else ()
    return CrmExport(out_csv, mapping_path, tuple(names[role] for role in HONEST), leaks)


def crm_states(leads: pd.DataFrame, opportunities: pd.DataFrame) -> np.ndarray:
    """Each lead's state in the CRM at export time (one of `STATES`)."""
    as_of = export_time(leads, opportunities)
    last = opportunities.sort_values("opened_at").drop_duplicates("lead_id", keep="last")
    won = leads["lead_id"].map(last.set_index("lead_id")["won"]).astype("boolean")
    has_opp = leads["lead_id"].isin(last["lead_id"]).to_numpy()
    age = as_of - pd.to_datetime(leads["created_at"])
    young = (age < pd.Timedelta(days=MATURITY_DAYS)).to_numpy()
    return np.select(
        [won.fillna(False).to_numpy(bool), (~won).fillna(False).to_numpy(bool), has_opp, young],
        ["won", "lost", "open_opportunity", "young"],
        "disqualified",
    )


def crm_frame(
    leads: pd.DataFrame, opportunities: pd.DataFrame, style: Style, plant: set[str], seed: int
) -> pd.DataFrame:
    """The inbound leads as `style` exports them, its column names and value formats."""
    rng = np.random.default_rng(seed)
    as_of = export_time(leads, opportunities)
    inbound = (leads["channel"] == "inbound").to_numpy()
    states = crm_states(leads, opportunities)[inbound]
    leads = leads[inbound].reset_index(drop=True)
    n = len(leads)
    created = pd.to_datetime(leads["created_at"])
    closed = leads["lead_id"].map(
        opportunities.dropna(subset=["closed_at"]).groupby("lead_id")["closed_at"].max()
    )
    # The deal a lead became, as Salesforce's lead export links it (the newest one).
    opportunity_of = (
        opportunities.sort_values("opened_at")
        .drop_duplicates("lead_id", keep="last")
        .set_index("lead_id")["opportunity_id"]
    )
    with_opp = np.isin(states, ("won", "lost", "open_opportunity"))
    decided = np.isin(states, DECIDED)
    worked_at = created + pd.to_timedelta(rng.exponential(WORK_LAG_DAYS, n), unit="D")
    worked = with_opp | ((worked_at <= as_of).to_numpy() & (rng.random(n) >= NEVER_WORKED))
    first = pd.Series(rng.choice(["Ana", "Ben", "Chloe", "David", "Eva", "Farid", "Hugo"], n))
    last = pd.Series(rng.choice(["Silva", "Meyer", "Okafor", "Tanaka", "Novak", "Rossi"], n))
    domain = leads["company_name"].fillna("example").str.split().str[0].str.lower()
    owner = leads["specialist_id"].str.extract(r"(\d+)$", expand=False).astype("Int64")
    hot = rng.random(n) + 0.4 * np.isin(states, ("won", "open_opportunity"))
    activities = 1 + rng.poisson(np.minimum((as_of - created).dt.days, 60) / 10)
    columns = {
        "lead_id": leads["lead_id"],
        "first": first,
        "last": last,
        "email": (first + "." + last).str.lower() + "@" + domain + ".com",
        "phone": [f"+1 555 {number:07d}" for number in rng.integers(0, 10**7, n)],
        "company": leads["company_name"],
        "title": leads["contact_title"],
        "industry": leads["company_industry"].str.title(),
        "employees": leads["company_size"],
        "revenue": leads["company_revenue"].round(0).astype("Int64"),
        "country": leads["company_country"],
        "source": leads["source"].str.replace("_", " ").str.title(),
        "created": created.dt.strftime(
            "%Y-%m-%dT%H:%M:%S.000Z" if style == "salesforce" else "%Y-%m-%d %H:%M"
        ),
        # Sales-ops closes out the leads nobody reached once they are decided, so only
        # undecided ones still show as new.
        "status": pd.Series(np.where(worked | decided, states, "new")).map(STATUS[style]),
        "outcome": (
            pd.Series(np.where(states == "won", "true", "false"))
            if style == "salesforce"
            else pd.Series(states).map(LIFECYCLE)
        ),
        "owner": (
            "005Dn00000" + owner.astype(str).str.zfill(8)
            if style == "salesforce"
            else owner.map(lambda i: OWNERS[int(i) % len(OWNERS)], na_action="ignore")
        ),
        "rating": np.where(worked, np.select([hot > 1, hot > 0.5], ["Hot", "Warm"], "Cold"), ""),
        "activities": np.where(worked, activities, 0),
        "activity_date": dates(worked_at.where(worked & (worked_at <= as_of)), DATE_ONLY),
        "won_date": dates(closed.where(states == "won"), DATE_ONLY),
        "converted_opportunity": leads["lead_id"]
        .map(salesforce_opportunity_ids(opportunity_of).set_axis(opportunity_of.index))
        .fillna(""),
        **honest_fields(leads, states, rng),
    }
    if "leaks" in plant:
        columns |= typed_in_fields(states, worked, worked_at, closed, as_of, rng)
    names = NAMES[style]
    frame = pd.DataFrame({names[role]: v for role, v in columns.items() if role in names})
    dropped = {"no-dates": names["created"], "no-ids": names["lead_id"]}
    return frame.drop(columns=[column for key, column in dropped.items() if key in plant])
