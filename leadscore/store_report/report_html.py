"""`leadscore report --html FILE`: the report's data drawn by the dashboard page, in one file.

The models section of the live dashboard shows what the API has loaded; a
report has no API, so it asks the registry which version holds the alias
now, with that version's validation metrics (no model is loaded for this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow import MlflowClient

from data.contract import Channel, Role
from data.store.store_records import utc_now
from models.packaging import registered_name
from models.rep_packaging import rep_registered_name
from serving.dashboard.report import REPORT_KEYS, render_report
from training.gate import current_holder

REPORTED = tuple(key for key in REPORT_KEYS if key != "models")
"""The report's sections that come from the store; the models come from the registry."""


def _validation_metrics(client: MlflowClient, name: str, version: str) -> dict[str, float]:
    run_id = client.get_model_version(name, version).run_id
    metrics = client.get_run(run_id).data.metrics if run_id else {}
    return {k: v for k, v in metrics.items() if k.startswith("val_")}


def registry_models(tracking_uri: str, alias: str = "champion") -> dict[str, Any]:
    """What GET /v1/models would list, read from the registry's aliases."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    body: dict[str, Any] = {"models": [], "missing": [], "errors": [], "fit_models": []}
    for channel in Channel:
        name = registered_name(channel)
        entry: dict[str, Any] = {"channel": channel.value, "name": name, "alias": alias}
        version = current_holder(client, name, alias)
        if version is None:
            reason = f"no version of {name} carries the alias {alias!r}"
            body["missing"].append(entry | {"reason": reason})
            continue
        metrics = _validation_metrics(client, name, version)
        body["models"].append(entry | {"version": version, "metrics": metrics})
    for role in (Role.closer, Role.account_manager):
        name = rep_registered_name(role)
        entry = {"role": role.value, "name": name, "alias": alias}
        version = current_holder(client, name, alias)
        if version is None:
            entry |= {"version": None, "missing_reason": f"no version carries {alias!r}"}
        else:
            entry |= {"version": version, "metrics": _validation_metrics(client, name, version)}
        body["fit_models"].append(entry)
    return body


def write_html_report(
    report: dict[str, Any], models: dict[str, Any], path: Path, title: str
) -> Path:
    """Write the self-contained HTML report; written whole or not at all."""
    data = {key: report[key] for key in REPORTED if key in report}
    data |= {"models": models, "period": report["period"], "generated_at": utc_now().isoformat()}
    page = render_report(data, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path
