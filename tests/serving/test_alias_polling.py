"""Alias polling: running API processes pick up a new champion by themselves, with no
failed request during the switch, and keep serving when the registry does not answer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models.packaging import load_lead_model, registered_name
from serving.app import create_app, poll_aliases
from serving.model_store import ModelStore
from serving.registry import AliasWatcher, RegistryLoader
from tests.serving.conftest import CHAMPION, CHANNELS, Registry
from tests.serving.helpers import free_port, leads_json, rows_of, start_server, wait_ready

pytestmark = pytest.mark.slow


def alias_on_champions(registry: Registry, alias: str) -> dict[str, str]:
    """Give `alias` to each channel's champion, so a test can move it without touching
    the champion other tests score with; channel -> version."""
    versions = {}
    for channel in CHANNELS:
        name = registered_name(channel)
        version = str(registry.client.get_model_version_by_alias(name, CHAMPION).version)
        registry.client.set_registered_model_alias(name, alias, version)
        versions[channel] = version
    return versions


def test_a_check_reloads_only_when_the_alias_moved(registry: Registry) -> None:
    alias = "poll_check"
    before = alias_on_champions(registry, alias)
    loader = RegistryLoader(registry.tracking_uri, alias, registered_name, load_lead_model)
    store = ModelStore(loader, slots=CHANNELS)
    store.load()
    watcher = AliasWatcher(store, loader)
    first = store.current
    assert watcher.check() == []
    assert store.current is first  # nothing moved: nothing downloaded, nothing swapped

    new = registry.register("inbound", alias)
    assert watcher.check() == [f"inbound: v{before['inbound']} -> v{new}"]
    assert store.current is not None
    assert store.current.loaded["inbound"].version == new
    assert store.current.loaded["outbound"].version == before["outbound"]


class _RegistryDown:
    """A loader whose registry does not answer."""

    alias = "champion"

    def alias_version(self, slot: str) -> str | None:
        raise ConnectionError("registry unreachable")


def test_a_registry_that_does_not_answer_is_logged_and_the_models_keep_serving(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    loader = RegistryLoader(registry.tracking_uri, CHAMPION, registered_name, load_lead_model)
    store = ModelStore(loader, slots=CHANNELS)
    serving = store.load()
    down: AliasWatcher[Any] = AliasWatcher(store, _RegistryDown())  # type: ignore[arg-type]

    async def poll_for_a_while() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(poll_aliases([down], 0.05), timeout=0.5)

    with caplog.at_level(logging.WARNING, logger="serving.app"):
        asyncio.run(poll_for_a_while())
    failures = [r for r in caplog.records if "registry did not answer" in r.getMessage()]
    assert len(failures) >= 3  # it kept polling after the first failure
    assert store.current is serving


def test_get_models_says_when_the_champion_was_promoted_and_what_it_replaced(
    registry: Registry,
) -> None:
    alias = "poll_lineage"
    before = alias_on_champions(registry, alias)
    with TestClient(
        create_app(registry.settings(model_alias=alias, model_poll_seconds=0.2))
    ) as app:
        new = registry.register("outbound", alias)
        # What the gate writes when it moves the alias (training.flow.record_lineage).
        for key, value in {
            "promoted_at": "2026-12-03T06:00:00+00:00",
            "replaced_version": before["outbound"],
        }.items():
            registry.client.set_model_version_tag("lead-score-outbound", new, key, value)
        deadline = time.monotonic() + 10
        while True:
            models = {m["channel"]: m for m in app.get("/v1/models").json()["models"]}
            if models["outbound"]["version"] == new or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert models["outbound"]["version"] == new  # picked up without a reload call
    assert models["outbound"]["promoted_at"] == "2026-12-03T06:00:00+00:00"
    assert models["outbound"]["replaced_version"] == before["outbound"]
    assert models["inbound"]["version"] == before["inbound"]


@dataclass
class Answers:
    """What one client thread saw: (sent, received, versions in the answer) per request."""

    ok: list[tuple[float, float, frozenset[str]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _score_until(base: str, leads: list[dict[str, Any]], stop: threading.Event) -> Answers:
    answers = Answers()
    with httpx.Client(base_url=base, timeout=10) as client:  # one keep-alive connection
        while not stop.is_set():
            sent = time.monotonic()
            try:
                response = client.post("/v1/leads/score", json=leads)
            except httpx.HTTPError as error:
                answers.failures.append(f"{type(error).__name__}: {error}")
                continue
            if response.status_code != 200:
                answers.failures.append(f"{response.status_code}: {response.text[:200]}")
                continue
            versions = frozenset(s["model"]["version"] for s in response.json())
            answers.ok.append((sent, time.monotonic(), versions))
    return answers


def test_a_new_champion_is_switched_in_under_load_with_no_failed_request(
    registry: Registry, sample: pd.DataFrame, tmp_path: Path
) -> None:
    alias, poll, clients = "poll_switch", 1.0, 4
    old = alias_on_champions(registry, alias)["inbound"]
    config = registry.settings(
        port=free_port(), model_alias=alias, model_poll_seconds=poll, journal=False
    )
    server = start_server(config, tmp_path)
    base = f"http://127.0.0.1:{config.port}"
    leads = leads_json(rows_of(sample, "inbound").iloc[:8])
    stop = threading.Event()
    results: list[Answers] = []
    try:
        wait_ready(server, base, 60)
        threads = [
            threading.Thread(target=lambda: results.append(_score_until(base, leads, stop)))
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2)  # under load before the move
        new = registry.register("inbound", alias)
        moved = time.monotonic()
        time.sleep(poll + 4)  # the interval, the download, and answers after the switch
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=20)

    assert len(results) == clients
    failures = [f for r in results for f in r.failures]
    answers = [a for r in results for a in r.ok]
    first_new = min(received for _, received, v in answers if v == frozenset({new}))
    print(  # the figures the README quotes
        f"\nswitch under load: {len(answers) + len(failures)} requests of {len(leads)} leads "
        f"from {clients} clients, {len(failures)} failed; first answer by v{new} "
        f"{first_new - moved:.2f} s after the alias moved (polling every {poll:.0f} s)"
    )
    assert failures == []
    # Never a mix within one request: every answer was made by one version.
    assert all(len(versions) == 1 for _, _, versions in answers)
    assert {v for _, _, versions in answers for v in versions} == {old, new}
    # The switch came within the interval plus the download and load of the new version.
    assert first_new - moved < poll + 3
    # Once a client got the new version it never got the old one again.
    for result in results:
        seen = [versions for _, _, versions in sorted(result.ok)]
        switched = seen.index(frozenset({new}))
        assert all(v == frozenset({new}) for v in seen[switched:])
        assert switched > 0  # it scored with the old version before
