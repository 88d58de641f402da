"""Rich tables of the insights report (`leadscore report`), from `gather_report`'s dict."""

from __future__ import annotations

from typing import Any

from rich.table import Table

FLAG_SMALL = "*"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _stage_cell(count: int, conversion: dict[str, Any] | None) -> str:
    """The count, and the conversion from the stage before: rate (95% interval).

    A small group shows its shrunk rate after a `~`, the figure to rank by.
    """
    if conversion is None or conversion["rate"] is None:
        return f"{count:,}"
    rate = f"{_percent(conversion['rate'])} ({_percent(conversion['low'])}-"
    rate += f"{_percent(conversion['high'])})"
    if conversion["small"] and conversion["shrunk_rate"] != conversion["rate"]:
        rate += f" ~{_percent(conversion['shrunk_rate'])}"
    return f"{count:,}\n{rate}"


def funnel_table(funnel: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column(funnel["by"])
    for stage in funnel["stages"]:
        table.add_column(stage, justify="right")
    for group in [funnel["overall"], *funnel["groups"]]:
        by_target = {c["to"]: c for c in group["conversions"]}
        cells = [_stage_cell(group["counts"][s], by_target.get(s)) for s in funnel["stages"]]
        table.add_row(group["key"] + (f" {FLAG_SMALL}" if group["small"] else ""), *cells)
    table.caption = (
        "count, then the conversion from the stage before with its 95% interval; "
        f"{FLAG_SMALL} fewer than 30 leads: ~ the rate shrunk toward the overall one"
    )
    return table


def _spread(figures: dict[str, Any]) -> str:
    if figures["n"] == 0:
        return "-"
    return f"{figures['p50']:,.1f} / {figures['p90']:,.1f} (n {figures['n']})"


def speed_table(speed: dict[str, Any]) -> Table:
    table = Table(title="Speed-to-lead (p50 / p90)", title_justify="left")
    for column in ("by", "key", "leads", "first touch, minutes", "qualified, hours"):
        table.add_column(column, justify="right" if column not in ("by", "key") else "left")
    for by, rows in (("channel", speed["by_channel"]), ("rep", speed["by_rep"])):
        for row in rows:
            table.add_row(
                by,
                row["key"],
                f"{row['leads']:,}",
                _spread(row["first_touch_minutes"]),
                _spread(row["qualification_hours"]),
            )
    return table


def workload_table(workload: dict[str, Any]) -> Table:
    table = Table(title="Workload now (active reps)", title_justify="left")
    for column in ("role", "load", "capacity", "utilisation"):
        table.add_column(column, justify="left" if column == "role" else "right")
    for row in workload["by_role"]:
        share = row["load"] / row["capacity"] if row["capacity"] else None
        table.add_row(row["role"], f"{row['load']:,}", f"{row['capacity']:,}", _percent(share))
    return table


def backtest_table(backtest: dict[str, Any], period: dict[str, str], by: str) -> Table:
    days = backtest["horizon_days"]
    title = (
        f"Score backtest by {by}: scores given {period['start'][:10]} to "
        f"{period['end'][:10]}, won within {days} days"
    )
    table = Table(title=title, title_justify="left")
    for column in ("model", "version", by, "leads", "predicted", "realised (95%)", ""):
        table.add_column(column, justify="right" if column not in ("model", "") else "left")
    for version in backtest["versions"]:
        for cell in version["by_grade" if by == "grade" else "by_decile"]:
            table.add_row(
                version["model"],
                version["version"],
                cell["key"],
                f"{cell['leads']:,}",
                f"{cell['predicted']:.3f}",
                f"{cell['realised']:.3f} ({cell['low']:.3f}-{cell['high']:.3f})",
                "[yellow]outside[/yellow]" if cell["outside"] else "",
            )
    return table


def _band(psi: float | None, band: str | None) -> str:
    if psi is None or band is None:
        return "-"
    colour = {"stable": "green", "moving": "yellow", "shifted": "red"}[band]
    return f"{psi:.3f} [{colour}]{band}[/{colour}]"


def _new(item: dict[str, Any]) -> str:
    if not item["new_share"]:
        return ""
    named = ", ".join(f"{c['value']} {c['share']:.0%}" for c in item["new_categories"])
    return f"{item['new_share']:.0%}: {named}"


def drift_table(drift: dict[str, Any]) -> Table:
    """Per live model: the score, then every input field worst first (PSI and band),
    missing rate then -> now and the categories never seen in training."""
    period = drift["period"]
    title = (
        f"Drift against the training rows: leads scored {period['start'][:10]} to "
        f"{period['end'][:10]} (PSI < 0.1 stable, 0.1-0.25 moving, > 0.25 shifted)"
    )
    table = Table(title=title, title_justify="left")
    for column in ("model", "version", "leads", "field", "PSI", "missing then -> now", "new"):
        table.add_column(column, justify="right" if column in ("leads", "PSI") else "left")
    for model in drift["models"]:
        head = [model["model"], model["version"], f"{model['leads']:,}"]
        if model["message"] and not model["fields"]:
            table.add_row(*head, model["message"], "-", "", "")
            continue
        table.add_row(
            *head,
            "score" + (f" ({model['message']})" if model["message"] else ""),
            _band(model["score_psi"], model["score_band"]),
            "",
            "",
        )
        for item in model["fields"]:
            missing = f"{_percent(item['missing_then'])} -> {_percent(item['missing_now'])}"
            table.add_row(
                "", "", "", item["field"], _band(item["psi"], item["band"]), missing, _new(item)
            )
    return table
