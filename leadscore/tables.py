"""Rich tables the CLI and the demo print."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from data.summary import HistorySummary
from serving.batch.summary import RescoreSummary
from training.pipeline import ChannelReport


def summary_table(summary: HistorySummary, folder: Path) -> Table:
    table = Table(title=f"CRM history in {folder}", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    for name, count in summary.rows.items():
        table.add_row(f"{name} rows", f"{count:,}")
    for channel, count in summary.leads_by_channel.items():
        table.add_row(f"{channel} leads", f"{count:,}")
    table.add_row("won rate (closed opportunities)", f"{summary.win_rate:.1%}")
    table.add_row("won rate (all leads)", f"{summary.lead_win_rate:.1%}")
    return table


def training_table(reports: list[ChannelReport], alias: str) -> Table:
    table = Table(title="Validation on the newest period (model vs logistic baseline)",
                  title_justify="left")  # fmt: skip
    for column in ("model", "v", "AUC (95% CI)", "base AUC", "PR AUC",
                   "log loss", "ECE", "lift@10%", alias):  # fmt: skip
        table.add_column(column, justify="right" if column != "model" else "left")
    for r in reports:
        m, b = r.metrics, r.baseline
        table.add_row(
            r.model_name.removeprefix("lead-score-"),
            r.version,
            f"{m['roc_auc']:.3f} ({r.roc_auc_interval[0]:.3f}-{r.roc_auc_interval[1]:.3f})",
            f"{b['roc_auc']:.3f}",
            f"{m['pr_auc']:.3f}",
            f"{m['log_loss']:.4f}",
            f"{m['ece']:.4f}",
            f"{m['lift_top_decile']:.2f}",
            "promoted" if r.gate.promote else f"kept v{r.gate.champion_version}",
        )
    return table


def rescore_table(summary: RescoreSummary) -> Table:
    table = Table(title=f"Re-scored {summary.input}", title_justify="left")
    for column in ("channel", "model", "leads", "A", "B", "C", "D"):
        table.add_column(column, justify="left" if column in ("channel", "model") else "right")
    for channel, grades in summary.grades.items():
        total = sum(grades.values())
        shares = [f"{grades.get(g, 0) / total:.0%}" for g in "ABCD"]
        table.add_row(channel, summary.models.get(channel, "-"), f"{total:,}", *shares)
    table.add_row("rejected", "", f"{summary.rows_rejected:,}", "", "", "", "", style="yellow")
    return table
