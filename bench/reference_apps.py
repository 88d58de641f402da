"""The two reference endpoints `bench/serve.py` measures our API against.

Served by uvicorn exactly like the API (one worker, same settings):

    uvicorn bench.reference_apps:hello_app --factory
    uvicorn bench.reference_apps:booster_app --factory    # needs MLFLOW_TRACKING_URI

`hello_app` answers a constant: the ceiling of FastAPI + uvicorn on this
machine; `plain_hello_app` answers it as a bare ASGI callable, the ceiling of
uvicorn alone (what a route costs that skips FastAPI's stack, as the scoring
route does). `booster_app` is DESIGN.md's "bare booster endpoint": a plain FastAPI
endpoint taking the lead as a JSON object, mapping it straight to a numpy row
(the inbound model's features, computed per value in plain Python) and calling
`Booster.predict(row, num_threads=1)`. No validation, no calibration, no
reasons; `RowMapper` is checked by the benchmark to give the feature spec's
exact matrix on the benchmark leads.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import FastAPI

from data.contract import Seniority
from features.derivations import title_function
from features.spec import Feature, FeatureSpec, Kind

MODEL_URI = "models:/lead-score-inbound@champion"

Lead = Mapping[str, Any]
Step = Callable[[Lead], float]

_SENIORITY = {level.value: float(rank) for rank, level in enumerate(Seniority, start=1)}
_NAN = float("nan")


def _number(value: Any) -> float:
    return _NAN if value is None else float(value)


def _ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return _NAN
    out = numerator / denominator
    return out if math.isfinite(out) else _NAN


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed


def _calendar(part: Callable[[datetime], int]) -> Callable[[Any], float]:
    def derive(value: Any) -> float:
        time = _time(value)
        return _NAN if time is None else float(part(time))

    return derive


def _title(value: Any) -> Any:
    return None if value is None else title_function(np.array([value], dtype=object))[0]


# Scalar twins of `features.derivations`, argument values raw from the JSON lead.
_DERIVE: dict[str, Callable[..., Any]] = {
    "ratio": lambda a, b: _ratio(_number(a), _number(b)),
    "per_minute_ratio": lambda s, b: _ratio(_number(s) / 60.0, _number(b)),
    "seniority_rank": lambda v: _SENIORITY.get(v, _NAN) if v is not None else _NAN,
    "title_function": _title,
    "month": _calendar(lambda t: t.month),
    "month_in_quarter": _calendar(lambda t: (t.month - 1) % 3 + 1),
    "weekday": _calendar(lambda t: t.weekday()),
    "hour": _calendar(lambda t: t.hour),
}


class RowMapper:
    """A JSON lead to the model's one-row feature matrix, one closure per feature."""

    def __init__(self, spec: FeatureSpec) -> None:
        self._steps = [self._step(feature, spec) for feature in spec.features]

    @staticmethod
    def _step(feature: Feature, spec: FeatureSpec) -> Step:
        fields = feature.fields
        if feature.derive is None:
            raw: Callable[[Lead], Any] = lambda lead: lead.get(fields[0])  # noqa: E731
        elif feature.derive in _DERIVE:
            derive = _DERIVE[feature.derive]
            raw = lambda lead: derive(*(lead.get(f) for f in fields))  # noqa: E731
        else:
            raise NotImplementedError(f"no scalar twin of derivation {feature.derive!r}")
        if feature.kind is not Kind.categorical:
            return lambda lead: _number(raw(lead))
        codes = {v: float(i) for i, v in enumerate(spec.vocabularies[feature.name])}

        def code(lead: Lead) -> float:
            value = raw(lead)
            return _NAN if value is None else codes.get(str(value), _NAN)

        return code

    def row(self, lead: Lead) -> np.ndarray:
        return np.array([[step(lead) for step in self._steps]], dtype=np.float64)


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.post("/hello")
    async def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app


HELLO = b'{"message":"hello"}'


def plain_hello_app() -> Callable[[Any, Any, Any], Awaitable[None]]:
    """The same answer with no framework: reads the body, sends two ASGI messages."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json"), (b"content-length", b"19")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": HELLO})

    return app


def booster_app() -> FastAPI:
    """Loads the inbound champion from the registry at MLFLOW_TRACKING_URI."""
    from models.packaging import load_lead_model

    model = load_lead_model(MODEL_URI)
    booster = model.booster
    mapper = RowMapper(model.spec)
    app = FastAPI()

    @app.post("/predict")
    async def predict(lead: dict[str, Any]) -> dict[str, float]:
        return {"probability": float(booster.predict(mapper.row(lead), num_threads=1)[0])}

    return app


def ours_without_store() -> FastAPI:
    """Our API as `leadscore serve` configures it from the environment, but with no
    store: no key check, no score history, no journal. `bench/serve.py --breakdown`
    measures it, to show what those cost per request."""
    from leadscore.settings import get_settings
    from serving.app import create_app

    config = get_settings().serving()
    return create_app(
        config.model_copy(update={"database_url": None, "auth": "none", "journal_dir": None})
    )
