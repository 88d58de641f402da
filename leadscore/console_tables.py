"""Rich tables the CLI and the demo print."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from rich.table import Table

from data.contract import Role
from data.history_summary import HistorySummary
from serving.batch.summary import RescoreSummary
from serving.routing.batch_assignment import BatchRouting
from training.leakage import ColumnCheck
from training.pipeline import ChannelReport
from training.rep_evidence import CLAIMS
from training.rep_pipeline import RepReport
from training.reports import Skipped
from training.routing_evaluation.doubly_robust import RoutingEstimate
from training.routing_evaluation.doubly_robust_summary import routing_ope_rows
from training.routing_evaluation.simulated import RoutingEvaluation
from training.routing_evaluation.simulated_summary import summary_rows


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
    table = Table(
        title="Validation on the newest period (model vs logistic baseline)", title_justify="left"
    )
    for column in (
        "model",
        "v",
        "served",
        "AUC (95% CI)",
        "base AUC",
        "PR AUC",
        "log loss",
        "ECE",
        "lift@10%",
        alias,
    ):
        table.add_column(column, justify="right" if column != "model" else "left")
    for r in reports:
        m, b = r.metrics, r.baseline
        table.add_row(
            r.model_name.removeprefix("lead-score-"),
            r.version,
            "LightGBM" if r.served == "lightgbm" else "baseline",
            f"{m['roc_auc']:.3f} ({r.roc_auc_interval[0]:.3f}-{r.roc_auc_interval[1]:.3f})",
            f"{b['roc_auc']:.3f}",
            f"{m['pr_auc']:.3f}",
            f"{m['log_loss']:.4f}",
            f"{m['ece']:.4f}",
            f"{m['lift_top_decile']:.2f}",
            _gate_verdict(r.gate.promote, r.gate.champion_version),
        )
    return table


def leakage_table(reports: list[ChannelReport]) -> Table | None:
    """Every column the leakage guard dropped, suspects or was told to keep, with its evidence."""
    rows = [(r, c) for r in reports if r.leakage is not None for c in r.leakage.reported]
    if not rows:
        return None
    table = Table(title="Leakage guard (known only after first contact?)", title_justify="left")
    for column in ("model", "column", "decision", "AUC alone", "AUC others", "evidence"):
        table.add_column(column, justify="right" if column.startswith("AUC") else "left")
    for report, check in rows:
        table.add_row(
            report.channel,
            check.column,
            check.decision,
            _figure(check.single_column_auc),
            _figure(check.others_auc),
            "\n".join(_evidence(check)),
        )
    return table


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _evidence(check: ColumnCheck) -> list[str]:
    """One short line per kind of evidence, with its figure."""
    lines = []
    for kind in check.evidence:
        if kind == "later than created" and check.later_share is not None:
            lines.append(f"{check.later_share:.0%} later than created")
        elif kind == "fills as worked" and check.filled_newest is not None:
            lines.append(
                f"filled {check.filled_newest:.0%} of newest {check.newest_leads:,} leads, "
                f"{check.filled_older or 0:.0%} of older"
            )
        elif kind == "decided-only values" and check.decided_only_share is not None:
            shown = ", ".join(check.decided_only_values[:2])
            lines.append(f"decided-only values on {check.decided_only_share:.0%} ({shown})")
        elif kind == "post-contact name":
            lines.append(f"name: '{check.name_hint}'")
        else:
            lines.append(kind)
    return lines


def verdict_notes(reports: list[ChannelReport]) -> list[str]:
    """Plain words on model vs baseline, so a tie is read as a tie, and the gate's decision."""
    notes: list[str] = []
    for r in reports:
        notes.extend(f"{r.channel}: WARNING: {note}" for note in r.notes)
        if r.intervals is not None and r.intervals.roc_auc_difference is not None:
            low, high = r.intervals.roc_auc_difference
            base_low, base_high = r.intervals.by_model["baseline"]["roc_auc"]
            gain = r.metrics["roc_auc"] - r.baseline["roc_auc"]
            figures = (
                f"AUC gain {gain:+.3f}, 95% CI {low:+.3f} to {high:+.3f}; baseline AUC "
                f"{r.baseline['roc_auc']:.3f} ({base_low:.3f}-{base_high:.3f}), "
                f"{r.rows['validation']:,} validation leads"
            )
            if low > 0:
                verdict = "the model ranks leads better than the logistic baseline"
            elif high < 0:
                verdict = (
                    "the logistic baseline ranks leads better than the model, so the "
                    "baseline is what was registered"
                )
            else:
                verdict = "model and logistic baseline tie"
            notes.append(f"{r.channel}: {verdict} ({figures}).")
        notes.append(f"{r.channel}: {_gate_words(r.gate.promote, r.gate.reason)}")
    return notes


def rep_verdict_notes(reports: list[RepReport]) -> list[str]:
    """The rep-fit gate's decision in words, with the gains over the lead-only model and
    over the placebo (owners shuffled within territory and segment), and what routing
    does when the fit is not promoted."""
    notes = []
    for r in reports:
        rows = f"{r.rows['validation']:,} validation rows"
        if r.intervals is not None and r.intervals.roc_auc_difference is not None:
            low, high = r.intervals.roc_auc_difference
            gain = r.metrics["roc_auc"] - r.baseline["roc_auc"]
            notes.append(
                f"{r.model_name}: AUC gain over the same model without rep features "
                f"{gain:+.3f}, 95% CI {low:+.3f} to {high:+.3f}, {rows}."
            )
        if r.placebo and r.placebo_gain is not None:
            low, high = r.placebo_gain
            gain = r.metrics["roc_auc"] - r.placebo["roc_auc"]
            notes.append(
                f"{r.model_name}: AUC gain over the same model with owners shuffled within "
                f"territory and segment (placebo AUC {r.placebo['roc_auc']:.3f}) {gain:+.3f}, "
                f"95% CI {low:+.3f} to {high:+.3f}, {rows}."
            )
        notes.append(f"{r.model_name}: {_gate_words(r.gate.promote, r.gate.reason)}")
        if not r.gate.promote:
            notes.append(f"{r.model_name}: {_routing_words(r)}")
    return notes


def _routing_words(report: RepReport) -> str:
    """What routing does with a fit model that was not promoted."""
    who = f"{CLAIMS[Role(report.role)].role}s"
    if report.gate.champion_version:
        return f"routing keeps using champion v{report.gate.champion_version} to choose {who}."
    return f"{who} are chosen by weighted round-robin, as before, until a fit model is promoted."


def _gate_words(promoted: bool, reason: str) -> str:
    return f"{'promoted' if promoted else 'not promoted'}: {reason}."


def outcome_table(trained: list[str], skipped: list[Skipped], failed: list[Skipped]) -> Table:
    """Every model asked for: trained, skipped (with the reason) or failed (with the error)."""
    table = Table(title="Models asked for", title_justify="left")
    for column in ("model", "status", "why"):
        table.add_column(column)
    for name in trained:
        table.add_row(name, "trained", "")
    for item in skipped:
        table.add_row(item.model_name, "skipped", item.reason, style="yellow")
    for item in failed:
        table.add_row(item.model_name, "FAILED", item.reason, style="red")
    return table


def rep_fit_table(reports: list[RepReport], alias: str) -> Table:
    table = Table(
        title="Rep fit on the newest period (model vs the same model without rep "
        "features, and vs its placebo: owners shuffled within territory and segment)",
        title_justify="left",
    )
    for column in (
        "model",
        "v",
        "AUC (95% CI)",
        "base AUC",
        "placebo AUC",
        "log loss",
        "ECE",
        alias,
        "verdict",
    ):
        table.add_column(column, justify="left" if column in ("model", "verdict") else "right")
    for r in reports:
        m, b = r.metrics, r.baseline
        table.add_row(
            r.model_name,
            r.version,
            f"{m['roc_auc']:.3f} ({r.roc_auc_interval[0]:.3f}-{r.roc_auc_interval[1]:.3f})",
            f"{b['roc_auc']:.3f}",
            f"{r.placebo['roc_auc']:.3f}" if r.placebo else "-",
            f"{m['log_loss']:.4f}",
            f"{m['ece']:.4f}",
            _gate_verdict(r.gate.promote, r.gate.champion_version),
            rep_verdict(r),
        )
    return table


def rep_verdict(report: RepReport) -> str:
    """The fit gate's finding in a few words: does the owner matter on this history?"""
    claim = CLAIMS[Role(report.role)]
    if _beats_both(report):
        return f"the {claim.role} changes {claim.outcome}"
    if report.gate.reason.startswith(claim.no_evidence):
        return claim.no_evidence
    return "see the gate's reason below"


def _beats_both(report: RepReport) -> bool:
    gain = report.intervals.roc_auc_difference if report.intervals else None
    placebo = report.placebo_gain
    return bool(gain and gain[0] > 0 and placebo and placebo[0] > 0)


def routing_table(result: BatchRouting) -> Table:
    assigned = result.assignments["rep_id"].notna().sum()
    table = Table(
        title=f"Batch routing: {assigned:,} of {len(result.assignments):,} leads "
        "assigned under capacity",
        title_justify="left",
    )
    table.add_column("closer")
    table.add_column("new leads", justify="right")
    table.add_column("mean fit", justify="right")
    by_rep = result.assignments.dropna(subset=["rep_id"]).groupby("rep_id")["fit"]
    for rep_id, load in sorted(result.loads.items()):
        fit = by_rep.mean().get(rep_id)
        table.add_row(rep_id, str(load), "-" if fit is None or fit != fit else f"{fit:.3f}")
    table.caption = f"load Gini {result.gini:.3f}"
    if result.mean_fit_chosen != result.mean_fit_chosen:  # NaN: no fit model scored closers
        table.caption = f"weighted round-robin (no closer-fit model); {table.caption}"
    return table


def model_expectation_line(result: BatchRouting) -> str:
    """The model's own P(win) of its choices, labelled as what it is: not a measured lift."""
    return (
        f"The model's own expectation, not a measured lift: mean fit (its P(win)) of the "
        f"chosen closers {result.mean_fit_chosen:.3f}, of all closers "
        f"{result.mean_fit_round_robin:.3f}; picking the best of noisy fits looks better "
        "than it is."
    )


def measured_lift_lines(version: str | None, lifts: list[str]) -> list[str]:
    """What the registered closer-fit version's run measured (doubly robust, with interval
    and verdict), or why there is no measured lift to show."""
    if version is None:
        return ["No closer-fit model: round-robin, nothing to measure."]
    if not lifts:
        return [
            f"No measured lift: the run of closer-fit v{version} has no routing evaluation "
            "(retrain to get one); the mean fits above are the model's own expectation."
        ]
    return [
        f"Measured on closer-fit v{version}'s validation period (doubly robust, from the "
        "history alone):",
        *(f"  {line}" for line in lifts),
    ]


def routing_estimate_table(estimate: RoutingEstimate) -> Table:
    return _figures_table(
        "Closer routing on the validation period, estimated from the history alone (doubly robust)",
        "figure (95% interval), verdict",
        routing_ope_rows(estimate),
    )


def policy_table(evaluation: RoutingEvaluation) -> Table:
    return _figures_table(
        "Closer routing replayed on the validation period (true win "
        "probabilities from the generator)",
        "figure (95% interval)",
        summary_rows(evaluation),
        justify="right",
    )


def _figures_table(
    title: str,
    header: str,
    rows: Iterable[tuple[str, str]],
    justify: Literal["left", "right"] = "left",
) -> Table:
    """What was measured, one figure per row."""
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column(header, justify=justify)
    for what, figure in rows:
        table.add_row(what, figure)
    return table


def _gate_verdict(promoted: bool, champion_version: str | None) -> str:
    if promoted:
        return "promoted"
    return f"kept v{champion_version}" if champion_version else "not promoted"


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
