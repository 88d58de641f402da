"""Import a CRM's deals (opportunities) export into the contract `opportunities` table.

Beside it, `deal_links.parquet` holds what only an import has: each deal's account,
source and channel, and where its lead came from, from which training builds the
closer-fit row of a deal whose lead is not imported (`data.importing.fit_tables`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from data.contract import Opportunity, arrow_schema
from data.importing.import_report import ImportReport
from data.importing.importer import write_all
from data.importing.record_import import (
    RecordRows,
    as_arrow,
    read_if_there,
    read_records,
    stop_if_empty,
)
from data.importing.record_mapping import RecordMapping

LINK_COLUMN, LINK_LEADS, LINK_NONE = "deal column", "leads export", "none"
DEAL_LINKS = pa.schema(
    (name, pa.string())
    for name in ("opportunity_id", "account_id", "source", "channel", "lead_link")
)
"""deal_links.parquet: each deal's account, source and channel, and how its lead was found."""


def import_deals(path: Path, mapping: RecordMapping, out: Path) -> ImportReport:
    """Import a deals (opportunities) export into `out`/opportunities.parquet.

    Won and lost come from the stage; the close date and amount are kept only for
    decided (and, for the amount, won) deals: an open deal's are forecasts. A deal's
    lead is the mapped lead column, else the leads import's converted-opportunity link,
    else a derived id (`deal-<opportunity id>`) whose closer-fit row is built from the
    deal's account at training.
    """
    report = ImportReport(source=path.name, table="deals", counted="won")
    rows = read_records(path, mapping, report)
    mapping = rows.mapping
    assert mapping.outcome is not None  # a deals mapping always has one
    won, lost = _won_and_lost(rows, path)
    out_ = rows.out
    out_["won"] = (
        pd.Series(pd.NA, index=out_.index, dtype="boolean").mask(won, True).mask(lost, False)
    )
    _set_close_dates(rows, won | lost)
    if "value" in out_:
        out_["value"] = out_["value"].where(won)
    links = _deal_leads(out_, mapping, out, report)
    kept = rows.kept()
    deals = out_[kept].reset_index(drop=True)
    links = links[kept.to_numpy()].reset_index(drop=True)
    stop_if_empty(path, report, deals)
    report.converted = int(deals["won"].fillna(False).sum())
    decided_count = int(deals["won"].notna().sum())
    report.notes.append(
        f"{decided_count:,} decided deals ({report.converted:,} won), "
        f"{len(deals) - decided_count:,} open; stages won: {', '.join(mapping.outcome.won)}; "
        f"lost: {', '.join(mapping.outcome.lost)}; any other stage is open"
    )
    _note_links(links, deals, out, report, mapping)
    detail = pd.DataFrame(
        {
            "opportunity_id": deals["opportunity_id"],
            "account_id": deals.get("account_id"),
            "source": deals.get("source"),
            "channel": mapping.channel,
            "lead_link": links,
        }
    )
    write_all(
        {
            "opportunities": as_arrow(deals, arrow_schema(Opportunity)),
            "deal_links": as_arrow(detail, DEAL_LINKS),
        },
        out,
    )
    return report


def _won_and_lost(rows: RecordRows, path: Path) -> tuple[pd.Series, pd.Series]:
    """Which deals are won and which lost, by their stage; refuses a stage outside the
    mapping's won, lost and open ones (when it lists open ones)."""
    used, mapping = rows.used, rows.mapping
    assert mapping.outcome is not None  # a deals mapping always has one
    stage = used[mapping.outcome.column].str.lower()
    won, lost = stage.isin(mapping.outcome.won), stage.isin(mapping.outcome.lost)
    if mapping.outcome.open is not None:
        known = won | lost | stage.isin(mapping.outcome.open)
        unexpected = sorted(set(used[mapping.outcome.column][~known].fillna("(blank)")))
        if unexpected:
            shown = ", ".join(repr(v) for v in unexpected[:5])
            raise ValueError(
                f"{path}: stage column '{mapping.outcome.column}' has values outside won, lost "
                f"and open: {shown}; list them in {mapping.where('outcome')}"
            )
    return won, lost


def _set_close_dates(rows: RecordRows, decided: pd.Series) -> None:
    """Keep the close date of decided deals only (an open deal's is a forecast); reject a
    decided deal without one or closed before it was created."""
    out_, mapping = rows.out, rows.mapping
    closed = out_["closed_at"] if "closed_at" in out_ else pd.Series(pd.NaT, index=out_.index)
    column = mapping.columns.get("closed_at", "(no close date column)")
    rows.reject(decided & closed.isna(), f"closed deal without a close date ({column})")
    opened = out_["opened_at"]
    rows.reject(
        decided & (closed.dt.normalize() < opened.dt.normalize()),
        f"closed ({column}) before it was created ({mapping.columns['opened_at']})",
    )
    # A date-only close on the day of creation reads as before it: it closed then.
    out_["closed_at"] = closed.where(closed >= opened, opened).where(decided)


def _deal_leads(
    deals: pd.DataFrame, mapping: RecordMapping, out: Path, report: ImportReport
) -> pd.Series:
    """Fill `deals.lead_id` (column, leads export link, or derived); how each was found."""
    how = pd.Series(LINK_NONE, index=deals.index, dtype=object)
    lead = (
        deals["lead_id"] if "lead_id" in deals else pd.Series(None, index=deals.index, dtype=object)
    )
    how[lead.notna()] = LINK_COLUMN
    converted = read_if_there(out, "lead_links")
    if converted is not None:
        by_deal = converted.drop_duplicates("opportunity_id").set_index("opportunity_id")["lead_id"]
        from_leads = deals["opportunity_id"].map(by_deal)
        fill = lead.isna() & from_leads.notna()
        lead = lead.where(~fill, from_leads)
        how[fill] = LINK_LEADS
    derived = "deal-" + deals["opportunity_id"].astype(str)
    deals["lead_id"] = lead.where(lead.notna(), derived)
    return how


def _note_links(
    links: pd.Series, deals: pd.DataFrame, out: Path, report: ImportReport, mapping: RecordMapping
) -> None:
    counts = links.value_counts()
    by_column, by_leads = int(counts.get(LINK_COLUMN, 0)), int(counts.get(LINK_LEADS, 0))
    leads = read_if_there(out, "leads")
    linked = by_column + by_leads
    if leads is not None:
        linked = int(deals["lead_id"].isin(leads["lead_id"]).sum())
    built = len(deals) - linked
    lead_column = mapping.columns.get("lead_id")
    parts = []
    if lead_column:
        parts.append(f"{by_column:,} name their lead in {lead_column}")
    if by_leads:
        parts.append(f"{by_leads:,} are linked by the leads export's converted-opportunity column")
    where = "; ".join(parts) or "no deal names its lead"
    report.notes.append(
        f"{linked:,} deal(s) link to an imported lead ({where}); {built:,} do not: their "
        "closer-fit rows are built from their account (industry, size, region) and the deal's "
        "source"
    )
    if leads is None:
        report.warnings.append(
            f"no leads imported into {out} yet: deals link to leads imported later through "
            "the leads' converted-opportunity column, at training; without leads every deal "
            "is learnt from its account"
        )
    if "account_id" not in deals or deals["account_id"].isna().all():
        report.warnings.append(
            "no deal names its account: a deal without an imported lead is learnt from its "
            "source alone"
        )
