"""The generated leads: when they came, who they are and the signals their intent left.

A latent intent drives the observed signals; a model sees only the signals. Fields are
then blanked as real CRMs leave them, and channel-specific ones are blank on the other
channel. The order of the random draws is part of the contract: one seed, one history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.generator.generator_config import GeneratorConfig
from data.generator.history_drift import with_new_sources
from data.generator.vectors import ids, sigmoid
from data.generator.world import (
    COUNTRIES,
    FUNCTIONS,
    INBOUND_SOURCE_WEIGHTS,
    INBOUND_SOURCES,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    OUTBOUND_SOURCE_WEIGHTS,
    OUTBOUND_SOURCES,
    REGION_WEIGHTS,
    REGIONS,
    SENIORITIES,
    SENIORITY_WEIGHTS,
    TITLE_FORMS,
    company_names,
)

MISSING_SHARE = {
    "source": 0.03,
    "company_industry": 0.12,
    "company_size": 0.15,
    "company_revenue": 0.35,
    "company_region": 0.04,
    "company_country": 0.08,
    "contact_title": 0.1,
    "contact_seniority": 0.18,
    "web_visits": 0.05,
    "time_on_site_sec": 0.12,
    "pages_viewed": 0.06,
    "content_downloads": 0.08,
    "webinar_attended": 0.1,
    "form_fills": 0.05,
    "specialist_id": 0.02,
    "touches": 0.02,
    "calls": 0.1,
    "emails_sent": 0.08,
    "replies": 0.06,
    "prospector_id": 0.01,
}
"""Share of each optional field that CRMs leave empty."""
INBOUND_ONLY = (
    "web_visits",
    "time_on_site_sec",
    "pages_viewed",
    "content_downloads",
    "webinar_attended",
    "demo_requested",
    "form_fills",
    "specialist_id",
)
OUTBOUND_ONLY = ("touches", "calls", "emails_sent", "replies", "meeting_booked", "prospector_id")


@dataclass(frozen=True)
class GeneratedLeads:
    leads: pd.DataFrame
    quarter_end: np.ndarray
    """1.0 for a lead created in the last month of a quarter, else 0.0."""
    elapsed: np.ndarray
    """Share of the history gone by when each lead was created."""


def generate_leads(config: GeneratorConfig, rng: np.random.Generator) -> GeneratedLeads:
    """The leads table of the history, in order of creation, with blanks as CRMs have them."""
    n = config.leads
    created = _creation_times(config, rng)
    inbound = rng.random(n) < config.inbound_share
    firmographics, seniority = _firmographics(rng, n)
    source, signals = _signals(config, rng, inbound, seniority)
    elapsed = (created - np.datetime64(config.start, "us")) / np.timedelta64(config.days, "D")
    if config.drift:
        source = with_new_sources(config.seed, elapsed, inbound, source)
    leads = pd.DataFrame(
        {
            "lead_id": ids("L", np.arange(1, n + 1)),
            "channel": np.where(inbound, "inbound", "outbound"),
            "source": source.astype(object),
            "created_at": created,
            **firmographics,
            **signals,
        }
    )
    _blank_missing(leads, rng, inbound)
    created_month = created.astype("datetime64[M]").view("int64") % 12 + 1
    quarter_end = (created_month % 3 == 0).astype(float)
    return GeneratedLeads(leads, quarter_end, elapsed)


def _creation_times(config: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    """Weekday-heavy, growing volume, more leads before quarter ends; sorted."""
    dates = np.datetime64(config.start, "D") + np.arange(config.days)
    weekday = (dates.view("int64") + 3) % 7  # 0 = Monday
    month = dates.astype("datetime64[M]").view("int64") % 12 + 1
    growth = 1.0 + 0.5 * np.arange(config.days, dtype=float) / config.days
    day_weights = growth * np.where(weekday < 5, 1.0, 0.35)
    day_weights *= np.where(month % 3 == 0, 1.15, 1.0)
    day_idx = rng.choice(config.days, config.leads, p=day_weights / day_weights.sum())
    seconds = rng.normal(14 * 3600, 3 * 3600, config.leads).clip(0, 86_399).astype("int64")
    created = dates[day_idx].astype("datetime64[us]") + seconds.astype("timedelta64[s]")
    return np.asarray(created[np.argsort(created, kind="stable")])


def _firmographics(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The company and contact columns, and each contact's seniority code."""
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_WEIGHTS)
    region = rng.choice(len(REGIONS), n, p=REGION_WEIGHTS)
    size = np.round(np.exp(rng.normal(4.6, 1.6, n))).clip(1, 200_000).astype("int64")
    revenue = np.round(size * np.exp(rng.normal(11.8, 0.6, n)), -3)
    seniority = rng.choice(len(SENIORITIES), n, p=SENIORITY_WEIGHTS)
    country = np.empty(n, dtype=object)
    for r, name in enumerate(REGIONS):
        at = region == r
        country[at] = rng.choice(COUNTRIES[name], at.sum())
    title = np.empty(n, dtype=object)
    function = rng.choice(FUNCTIONS, n)
    for s, name in enumerate(SENIORITIES):
        at = np.flatnonzero(seniority == s)
        forms = rng.choice(TITLE_FORMS[name], at.size)
        title[at] = [form.format(f=fn) for form, fn in zip(forms, function[at], strict=True)]
    columns = {
        "company_name": company_names(rng, n),
        "company_industry": np.array(INDUSTRIES, dtype=object)[industry],
        "company_size": size,
        "company_revenue": revenue,
        "company_region": np.array(REGIONS, dtype=object)[region],
        "company_country": country,
        "contact_title": title,
        "contact_seniority": np.array(SENIORITIES, dtype=object)[seniority],
    }
    return columns, seniority


def _signals(
    config: GeneratorConfig, rng: np.random.Generator, inbound: np.ndarray, seniority: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each lead's source and the engagement its latent intent left: web and content
    signals (inbound), touches and replies (outbound), and the rep who worked it."""
    n = len(inbound)
    intent = rng.normal(0, 1, n)
    in_src = rng.choice(len(INBOUND_SOURCES), n, p=INBOUND_SOURCE_WEIGHTS)
    out_src = rng.choice(len(OUTBOUND_SOURCES), n, p=OUTBOUND_SOURCE_WEIGHTS)
    source = np.where(
        inbound, np.array(INBOUND_SOURCES)[in_src], np.array(OUTBOUND_SOURCES)[out_src]
    )
    web_visits = 1 + rng.poisson(np.exp(0.4 + 0.45 * intent))
    pages = web_visits + rng.poisson(web_visits * np.exp(0.6 + 0.25 * intent))
    time_on_site = np.round(pages * rng.gamma(2.0, 35.0 * np.exp(0.15 * intent)), 1)
    downloads = rng.poisson(np.exp(-1.0 + 0.5 * intent + 0.8 * (in_src == 2)))
    webinar = rng.random(n) < sigmoid(-2.2 + 0.5 * intent + 3.0 * (in_src == 3))
    demo = rng.random(n) < sigmoid(-1.9 + 1.1 * intent)
    form_fills = 1 + rng.poisson(np.exp(-1.2 + 0.4 * intent))

    touches = 3 + rng.poisson(5, n)
    calls = rng.binomial(touches, 0.35)
    replies = rng.binomial(touches, sigmoid(-2.6 + 0.7 * intent + 0.15 * (seniority - 2)))
    meeting = rng.random(n) < sigmoid(-2.4 + 1.6 * np.minimum(replies, 3) / 3 + 0.6 * intent)

    specialist = rng.integers(1, config.inbound_specialists + 1, n)
    prospector = rng.integers(1, config.prospectors + 1, n)
    return source, {
        "web_visits": web_visits,
        "time_on_site_sec": time_on_site,
        "pages_viewed": pages,
        "content_downloads": downloads,
        "webinar_attended": webinar,
        "demo_requested": demo,
        "form_fills": form_fills,
        "specialist_id": ids("IS", specialist, 3).astype(object),
        "touches": touches,
        "calls": calls,
        "emails_sent": touches - calls,
        "replies": replies,
        "meeting_booked": meeting,
        "prospector_id": ids("PR", prospector, 3).astype(object),
    }


def _blank_missing(leads: pd.DataFrame, rng: np.random.Generator, inbound: np.ndarray) -> None:
    """Blank what CRMs leave empty, and each channel's fields on the other channel."""
    _nullable(leads)
    for column, share in MISSING_SHARE.items():
        _blank(leads, column, rng.random(len(leads)) < share)
    for column in INBOUND_ONLY:
        _blank(leads, column, ~inbound)
    for column in OUTBOUND_ONLY:
        _blank(leads, column, inbound)


def _nullable(frame: pd.DataFrame) -> None:
    """Switch numeric and boolean columns to pandas' nullable types, so a blank is NA."""
    for column in frame.columns:
        kind = frame[column].dtype.kind
        if kind in "iu":
            frame[column] = frame[column].astype("Int64")
        elif kind == "f":
            frame[column] = frame[column].astype("Float64")
        elif kind == "b":
            frame[column] = frame[column].astype("boolean")


def _blank(frame: pd.DataFrame, column: str, hide: np.ndarray) -> None:
    if frame[column].dtype == object:
        values = frame[column].to_numpy(dtype=object, copy=True)
        values[hide] = None
        frame[column] = values
    else:
        frame[column] = frame[column].mask(hide)
