"""A hand-built report data set following the insights contract, and what it should draw."""

from __future__ import annotations

import math
from typing import Any

STAGES = ["created", "contacted", "qualified", "routed", "won", "retained"]
PERIOD = {"start": "2026-08-01T00:00:00+00:00", "end": "2026-10-30T00:00:00+00:00"}
K = 20


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    centre = (successes + z * z / 2) / (trials + z * z)
    half = z * math.sqrt(successes * (trials - successes) / trials + z * z / 4) / (trials + z * z)
    return centre - half, centre + half


def group(key: str, counts: list[int], overall: list[int] | None = None) -> dict[str, Any]:
    """A funnel GROUP with its conversions computed as the contract defines them."""
    base = overall or counts
    conversions = []
    for i in range(len(STAGES) - 1):
        start, reached = counts[i], counts[i + 1]
        low, high = wilson(reached, start) if start else (None, None)
        overall_rate = base[i + 1] / base[i] if base[i] else 0.0
        conversions.append(
            {
                "from": STAGES[i],
                "to": STAGES[i + 1],
                "rate": reached / start if start else None,
                "low": low,
                "high": high,
                "shrunk_rate": (reached + K * overall_rate) / (start + K),
                "small": start < 30,
            }
        )
    return {
        "key": key,
        "counts": dict(zip(STAGES, counts, strict=True)),
        "conversions": conversions,
        "small": counts[0] < 30,
    }


def funnel(by: str, groups: dict[str, list[int]]) -> dict[str, Any]:
    total = [sum(column) for column in zip(*groups.values(), strict=True)]
    return {
        "period": PERIOD,
        "by": by,
        "stages": STAGES,
        "overall": group("all", total),
        "groups": [group(key, counts, total) for key, counts in sorted(groups.items())],
    }


def rate_row(key: str, leads: int, predicted: float, won: int, outside: bool) -> dict[str, Any]:
    low, high = wilson(won, leads)
    return {
        "key": key,
        "leads": leads,
        "predicted": predicted,
        "realised": won / leads,
        "low": low,
        "high": high,
        "outside": outside,
    }


def sample_report() -> dict[str, Any]:
    """Every section filled; a few edge cases inside (a step with no leads, n = 0, small groups)."""
    by_channel = funnel(
        "channel",
        {"inbound": [120, 90, 40, 30, 12, 8], "outbound": [200, 60, 20, 15, 0, 0]},
    )
    by_role = funnel(
        "role",
        {
            "inbound_specialist": [120, 90, 40, 0, 0, 0],
            "prospector": [200, 60, 20, 0, 0, 0],
            "closer": [45, 45, 45, 45, 12, 0],
            "account_manager": [12, 12, 12, 12, 12, 8],
        },
    )
    speed = {
        "period": PERIOD,
        "by_channel": [
            {
                "key": "inbound",
                "leads": 120,
                "first_touch_minutes": {"p50": 12.0, "p90": 95.0, "n": 90},
                "qualification_hours": {"p50": 20.0, "p90": 70.0, "n": 40},
            },
            {
                "key": "outbound",
                "leads": 200,
                "first_touch_minutes": {"p50": 240.0, "p90": 2880.0, "n": 60},
                "qualification_hours": {"p50": None, "p90": None, "n": 0},
            },
        ],
        "by_rep": [
            {
                "key": "IS001",
                "leads": 60,
                "first_touch_minutes": {"p50": 10.0, "p90": 80.0, "n": 45},
                "qualification_hours": {"p50": 18.0, "p90": 60.0, "n": 20},
            },
            {
                "key": "PR001",
                "leads": 200,
                "first_touch_minutes": {"p50": 240.0, "p90": 2880.0, "n": 60},
                "qualification_hours": {"p50": None, "p90": None, "n": 0},
            },
        ],
    }
    workload = {
        "reps": [
            {
                "rep_id": "IS001",
                "name": "Ana Silva",
                "role": "inbound_specialist",
                "load": 120,
                "capacity": 400,
                "utilisation": 0.3,
                "active": True,
                "available": True,
            },
            {
                "rep_id": "PR001",
                "name": "Bo Chen",
                "role": "prospector",
                "load": 200,
                "capacity": 600,
                "utilisation": 0.33,
                "active": True,
                "available": True,
            },
            {
                "rep_id": "CL001",
                "name": "Cy Diaz",
                "role": "closer",
                "load": 44,
                "capacity": 40,
                "utilisation": 1.1,
                "active": True,
                "available": True,
            },
            {
                "rep_id": "CL002",
                "name": None,
                "role": "closer",
                "load": 0,
                "capacity": 40,
                "utilisation": 0.0,
                "active": False,
                "available": True,
            },
            {
                "rep_id": "AM001",
                "name": "Di Evans",
                "role": "account_manager",
                "load": 12,
                "capacity": 60,
                "utilisation": 0.2,
                "active": True,
                "available": False,
            },
        ],
        "by_role": [
            {"role": "inbound_specialist", "load": 120, "capacity": 400},
            {"role": "prospector", "load": 200, "capacity": 600},
            {"role": "closer", "load": 44, "capacity": 40},
            {"role": "account_manager", "load": 12, "capacity": 60},
        ],
    }
    grades = [
        ("A", 80, 0.31, 10, True),
        ("B", 160, 0.15, 22, False),
        ("C", 240, 0.06, 15, False),
        ("D", 320, 0.02, 6, False),
    ]
    deciles = [(str(d), 80, 0.01 * d * d / 3, max(1, d * d // 4), False) for d in range(1, 11)]
    backtest = {
        "horizon_days": 90,
        "versions": [
            {
                "model": "lead-score-inbound",
                "version": "3",
                "leads": 800,
                "by_grade": [rate_row(*g) for g in grades],
                "by_decile": [rate_row(*d) for d in deciles],
            },
        ],
        "warnings": [
            "lead-score-inbound v3: grade A realised 0.12 (0.07-0.21) below predicted 0.31"
        ],
    }
    routed = {
        "assignments": [
            {
                "kind": "lead",
                "subject_id": f"L{i}",
                "rep_id": f"CL00{i}",
                "policy": "expected_value",
                "propensity": 0.8,
                "objective": 0.31,
                "explored": i == 2,
                "assigned_at": f"2026-10-2{i}T10:00:00+00:00",
                "runners_up": [
                    {"rep_id": "CL009", "fit": 0.27, "expected_value": 0.27, "propensity": 0.1}
                ],
            }
            for i in (1, 2, 3)
        ]
    }
    models = {
        "models": [
            {
                "channel": "inbound",
                "name": "lead-score-inbound",
                "alias": "champion",
                "version": "3",
                "run_id": "abc",
                "metrics": {"val_roc_auc": 0.81, "val_brier": 0.1},
            },
        ],
        "missing": [
            {
                "channel": "outbound",
                "name": "lead-score-outbound",
                "alias": "champion",
                "reason": "no version has the alias",
                "served_by": "the rule score serves it",
            },
        ],
        "errors": [],
        "fit_models": [
            {
                "role": "closer",
                "name": "closer-fit",
                "alias": "champion",
                "version": "2",
                "metrics": {"val_roc_auc": 0.66},
                "missing_reason": None,
            },
        ],
    }
    return {
        "funnel_by_channel": by_channel,
        "funnel_by_role": by_role,
        "speed": speed,
        "workload": workload,
        "backtest": backtest,
        "routed": routed,
        "models": models,
        "drift": drift(),
    }


def drift_field(name: str, psi: float, band: str, new: float | None = None) -> dict[str, Any]:
    return {
        "field": name,
        "kind": "categorical" if new is not None else "numeric",
        "psi": psi,
        "band": band,
        "missing_then": 0.1,
        "missing_now": 0.12,
        "new_share": new,
        "new_categories": [{"value": "tiktok", "share": new}] if new else [],
        "bins": [],
    }


def drift() -> dict[str, Any]:
    """One model shifted (a new source category), one trained before drift monitoring."""
    score_bins = [
        {"key": f"{10 * i + 1}-{min(10 * i + 10, 99)}", "then": 0.1, "now": 0.05 if i < 5 else 0.15}
        for i in range(10)
    ]
    shifted = {
        "model": "lead-score-inbound",
        "version": "4",
        "leads": 640,
        "message": None,
        "reference_rows": 12000,
        "reference_window": [PERIOD["start"], PERIOD["end"]],
        "score_psi": 0.11,
        "score_band": "moving",
        "score_bins": score_bins,
        "grades": [{"key": g, "then": 0.25, "now": 0.25} for g in "ABCD"],
        "fields": [
            drift_field("source", 3.55, "shifted", 0.4),
            drift_field("company_size", 0.18, "moving"),
            drift_field("web_visits", 0.02, "stable"),
        ],
        "calibration": None,
    }
    old = {
        "model": "lead-score-outbound",
        "version": "2",
        "leads": 210,
        "message": "no training reference (trained before drift monitoring); retrain",
        "reference_rows": None,
        "reference_window": None,
        "score_psi": None,
        "score_band": None,
        "score_bins": [],
        "grades": [],
        "fields": [],
        "calibration": None,
    }
    return {
        "period": PERIOD,
        "min_leads": 100,
        "models": [shifted, old],
        "warnings": ["lead-score-inbound v4: source shifted (PSI 3.55)"],
    }


def funnel_bars(body: dict[str, Any]) -> int:
    """Bars the funnel chart draws: one per group (and overall) per step with a rate."""
    groups = [body["overall"], *body["groups"]]
    return sum(c["rate"] is not None for g in groups for c in g["conversions"])


def funnel_whiskers(body: dict[str, Any]) -> int:
    groups = [body["overall"], *body["groups"]]
    return sum(c["low"] is not None for g in groups for c in g["conversions"])


def speed_bars(body: dict[str, Any]) -> int:
    fields = ("first_touch_minutes", "qualification_hours")
    return sum(
        row[f][p] is not None for row in body["by_channel"] for f in fields for p in ("p50", "p90")
    )


def backtest_bars(body: dict[str, Any]) -> int:
    return sum(2 * (len(v["by_grade"]) + len(v["by_decile"])) for v in body["versions"])


def model_rows(body: dict[str, Any]) -> int:
    return len(body["models"]) + len(body["missing"]) + len(body["fit_models"])
