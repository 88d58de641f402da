"""`leadscore report --html FILE`: the report's data drawn by the dashboard page, in one file.

The models section of the live dashboard shows what the API has loaded; a
report has no API, so it asks the registry which version holds the alias
now, with that version's validation metrics (no model is loaded for this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from data.contract import Channel, Role
from data.store.records import utc_now
from models.packaging import registered_name
from models.rep_packaging import rep_registered_name
from serving.dashboard.report import render_report

REPORTED = ("funnel_by_channel", "funnel_by_role", "speed", "workload", "backtest", "routed")


def _version(client: MlflowClient, name: str, alias: str) -> tuple[str, dict[str, float]]:
    found = client.get_model_version_by_alias(name, alias)
    metrics = client.get_run(found.run_id).data.metrics if found.run_id else {}
    return str(found.version), {k: v for k, v in metrics.items() if k.startswith("val_")}


def registry_models(tracking_uri: str, alias: str = "champion") -> dict[str, Any]:
    """What GET /v1/models would list, read from the registry's aliases."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    body: dict[str, Any] = {"models": [], "missing": [], "errors": [], "fit_models": []}
    for channel in Channel:
        name = registered_name(channel)
        try:
            version, metrics = _version(client, name, alias)
        except MlflowException as error:
            reason = f"no version of {name} carries the alias {alias!r} ({error.error_code})"
            body["missing"].append({"channel": channel.value, "name": name, "alias": alias,
                                    "reason": reason})  # fmt: skip
            continue
        body["models"].append({"channel": channel.value, "name": name, "alias": alias,
                               "version": version, "metrics": metrics})  # fmt: skip
    for role in (Role.closer, Role.account_manager):
        name = rep_registered_name(role)
        entry: dict[str, Any] = {"role": role.value, "name": name, "alias": alias}
        try:
            entry["version"], entry["metrics"] = _version(client, name, alias)
        except MlflowException:
            entry |= {"version": None, "missing_reason": f"no version carries {alias!r}"}
        body["fit_models"].append(entry)
    return body


def write_html_report(
    report: dict[str, Any], models: dict[str, Any], path: Path, title: str
) -> Path:
    """Write the self-contained HTML report; written whole or not at all."""
    data = {key: report[key] for key in REPORTED}
    data |= {"models": models, "period": report["period"], "generated_at": utc_now().isoformat()}
    page = render_report(data, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path
