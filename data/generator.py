"""A synthetic but plausible two-year CRM history of a B2B company.

Conversion follows a hidden ground truth: channel-specific signals,
firmographics, seasonality, closer skill that differs by industry, segment and
region, and account-manager skill that changes retention. Every hidden effect
is a function of fields a model can see, plus Bernoulli noise, so the true
probabilities written to `truth/` are the best any model can do. Training
never reads `truth/`; tests and evaluations do.

Everything is vectorised with numpy, so a million leads take well under a
minute, and one seed always gives the same tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from data.contract import SEGMENT_UPPER_BOUNDS, Region, Role, Segment, Seniority
from data.tables import write_table

INDUSTRIES = (
    "software", "finance", "healthcare", "manufacturing", "retail",
    "education", "logistics", "energy", "media", "public_sector",
)  # fmt: skip
INDUSTRY_WEIGHTS = np.array([0.2, 0.13, 0.12, 0.12, 0.1, 0.07, 0.08, 0.06, 0.06, 0.06])
# How much each industry wants the product (hidden, on the log-odds scale).
INDUSTRY_FIT = np.array([0.6, 0.3, 0.1, 0.0, -0.1, -0.4, 0.2, -0.2, -0.1, -0.5])

REGIONS = tuple(r.value for r in Region)
REGION_WEIGHTS = np.array([0.42, 0.33, 0.15, 0.10])
REGION_FIT = np.array([0.1, 0.0, -0.1, -0.25])
COUNTRIES = {
    "north_america": ("US", "CA", "MX"),
    "emea": ("GB", "DE", "FR", "NL", "ES", "SE", "AE"),
    "apac": ("AU", "JP", "SG", "IN"),
    "latam": ("BR", "AR", "CL", "CO"),
}
SEGMENTS = tuple(s.value for s in Segment)
SEGMENT_FIT = np.array([-0.3, 0.25, 0.1])

SENIORITIES = tuple(s.value for s in Seniority)
SENIORITY_WEIGHTS = np.array([0.25, 0.33, 0.22, 0.12, 0.08])
SENIORITY_FIT = np.array([-0.5, -0.1, 0.25, 0.4, 0.35])
FUNCTIONS = ("Sales", "Marketing", "IT", "Operations", "Finance")
TITLE_FORMS = {
    "entry": ("{f} Analyst", "{f} Specialist", "{f} Coordinator"),
    "manager": ("{f} Manager", "Senior {f} Manager"),
    "director": ("Director of {f}", "Head of {f}"),
    "vp": ("VP {f}", "SVP {f}"),
    "c_level": ("CEO", "CFO", "CTO", "COO", "CMO"),
}

INBOUND_SOURCES = (
    "organic_search", "paid_search", "content", "webinar", "referral", "social", "event", "direct",
)  # fmt: skip
INBOUND_SOURCE_WEIGHTS = np.array([0.24, 0.18, 0.14, 0.1, 0.08, 0.1, 0.06, 0.1])
INBOUND_SOURCE_FIT = np.array([0.1, -0.1, 0.0, 0.2, 0.7, -0.4, 0.15, 0.05])
OUTBOUND_SOURCES = (
    "cold_call",
    "cold_email",
    "social_selling",
    "target_list",
    "dormant_reactivation",
)
OUTBOUND_SOURCE_WEIGHTS = np.array([0.25, 0.35, 0.15, 0.15, 0.10])
OUTBOUND_SOURCE_FIT = np.array([0.0, -0.2, 0.1, 0.2, 0.5])

NAME_PARTS = (
    ("Acme", "Blue", "North", "Bright", "Vertex", "Nova", "Summit", "Iron", "Silver", "Green",
     "Atlas", "Pioneer", "Quantum", "Harbor", "Cedar", "Falcon"),
    ("soft", "works", "labs", "data", "logic", "flow", "point", "line", "stone", "field"),
    ("Inc", "Ltd", "GmbH", "Group", "Corp", "SA", "LLC"),
)  # fmt: skip
FIRST_NAMES = ("Ana", "Ben", "Chloe", "David", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jon",
               "Kira", "Liam", "Maya", "Noah", "Olga", "Paul", "Rosa", "Sam", "Tara")  # fmt: skip
LAST_NAMES = ("Silva", "Meyer", "Okafor", "Tanaka", "Novak", "Garcia", "Brown", "Dubois",
              "Rossi", "Kowalski", "Haddad", "Larsen")  # fmt: skip

# Share of each optional field that CRMs leave empty.
MISSING_SHARE = {
    "source": 0.03, "company_industry": 0.12, "company_size": 0.15, "company_revenue": 0.35,
    "company_region": 0.04, "company_country": 0.08, "contact_title": 0.1,
    "contact_seniority": 0.18, "web_visits": 0.05, "time_on_site_sec": 0.12, "pages_viewed": 0.06,
    "content_downloads": 0.08, "webinar_attended": 0.1, "form_fills": 0.05, "specialist_id": 0.02,
    "touches": 0.02, "calls": 0.1, "emails_sent": 0.08, "replies": 0.06, "prospector_id": 0.01,
}  # fmt: skip

# The ideal customer profile is an interaction: an industry buys in some segments, not others.
ICP_FIT = np.random.default_rng(20_241_101).normal(0.0, 0.45, (len(INDUSTRIES), len(SEGMENTS)))

# --- drift (GeneratorConfig.drift): what a real two-year export shows and a model trained
# on its oldest part never learns. All of it reads fields a model sees (created_at included).
DRIFT_LEVEL = (-1.6, 1.6)
"""Qualification log-odds added at the start and at the end of the history (linear in
between): the conversion rate rises about four-fold."""
DRIFT_FLIP = ("company_industry", "finance", 1.0, -1.0)
"""A field value whose effect changes sign: (field, value, effect at the start, at the end)."""
NEW_SOURCES = ("partner", "intent_data")
"""A new inbound and a new outbound source that appear part-way through the history."""
NEW_SOURCE_FROM = 0.6
"""Share of the history before the new sources exist."""
NEW_SOURCE_SHARE = 0.2
"""Share of the channel's leads they bring once they exist."""
NEW_SOURCE_FIT = 0.8
_DRIFT_STREAM = 20_250_601
"""The new sources are drawn from their own random stream."""

HISTORICAL_REGION_LOYALTY = 0.7
"""How often the historical (pre-leadscore) routing sent a lead to a closer of its region."""
ASSIGNMENTS = ("historical", "territory")


@dataclass(frozen=True)
class GeneratorConfig:
    leads: int = 50_000
    seed: int = 7
    start: datetime = datetime(2024, 11, 1)
    days: int = 730
    inbound_share: float = 0.55
    inbound_specialists: int = 6
    prospectors: int = 8
    closers: int = 12
    account_managers: int = 8
    drift: bool = False
    """A drifting history: the conversion rate rises several-fold, one effect changes sign
    and new sources appear part-way (`DRIFT_*`, `NEW_SOURCE*`). Off, tables are unchanged."""
    rep_effects: bool = True
    """Off, no closer or account manager changes an outcome: every hidden skill is zero
    (the draws are kept, so everything else is the same history)."""
    assignment: str = "historical"
    """How deals and customers found their owners: `historical` (a closer of the lead's
    region 70% of the time, else anyone; account managers at random) or `territory` (only
    reps of the lead's region, as territory rules assign)."""

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"assignment must be one of {', '.join(ASSIGNMENTS)}, not {self.assignment!r}"
            )

    @property
    def region_loyalty(self) -> float:
        """How often a deal went to a closer of the lead's region (when one exists)."""
        return 1.0 if self.assignment == "territory" else HISTORICAL_REGION_LOYALTY

    @property
    def as_of(self) -> np.datetime64:
        """The day the export was taken: later events are not known yet."""
        return np.datetime64(self.start, "us") + np.timedelta64(self.days, "D")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def _segment_codes(size: np.ndarray) -> np.ndarray:
    codes = np.full(size.shape, len(SEGMENT_UPPER_BOUNDS), dtype=np.int64)
    for code, (_, upper) in reversed(list(enumerate(SEGMENT_UPPER_BOUNDS))):
        codes[size < upper] = code
    return codes


def _ids(prefix: str, numbers: np.ndarray, width: int = 7) -> np.ndarray:
    """Ids like L0000042, vectorised (and fine with no rows)."""
    if numbers.size == 0:
        return np.array([], dtype=object)
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    return np.char.add(np.char.add(first, " "), last)


def _reps(config: GeneratorConfig, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    counts = {
        Role.inbound_specialist: config.inbound_specialists,
        Role.prospector: config.prospectors,
        Role.closer: config.closers,
        Role.account_manager: config.account_managers,
    }
    prefix = {Role.inbound_specialist: "IS", Role.prospector: "PR", Role.closer: "CL",
              Role.account_manager: "AM"}  # fmt: skip
    capacity = {Role.inbound_specialist: 400, Role.prospector: 600, Role.closer: 40,
                Role.account_manager: 60}  # fmt: skip
    for role, count in counts.items():
        names = _names(rng, count)
        for i in range(count):
            region = (
                REGIONS[i % len(REGIONS)] if role in (Role.closer, Role.account_manager) else None
            )
            industries = (
                sorted(rng.choice(INDUSTRIES, 2, replace=False).tolist())
                if role is Role.closer
                else []
            )
            rows.append(
                {
                    "rep_id": f"{prefix[role]}{i + 1:03d}",
                    "name": str(names[i]),
                    "role": role.value,
                    "region": region,
                    "segment": None,
                    "industries": industries,
                    "capacity": capacity[role],
                    "active": True,
                }
            )
    return pd.DataFrame(rows)


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


def generate(config: GeneratorConfig) -> dict[str, pd.DataFrame]:
    """All tables of one synthetic CRM history, plus `truth_*` tables."""
    rng = np.random.default_rng(config.seed)
    n = config.leads
    reps = _reps(config, rng)

    # --- when: weekday-heavy, growing volume, more leads before quarter ends
    day_weights = np.arange(config.days, dtype=float)
    dates = np.datetime64(config.start, "D") + np.arange(config.days)
    weekday = (dates.view("int64") + 3) % 7  # 0 = Monday
    month = dates.astype("datetime64[M]").view("int64") % 12 + 1
    day_weights = (1.0 + 0.5 * day_weights / config.days) * np.where(weekday < 5, 1.0, 0.35)
    day_weights *= np.where(month % 3 == 0, 1.15, 1.0)
    day_idx = rng.choice(config.days, n, p=day_weights / day_weights.sum())
    seconds = rng.normal(14 * 3600, 3 * 3600, n).clip(0, 86_399).astype("int64")
    created = dates[day_idx].astype("datetime64[us]") + seconds.astype("timedelta64[s]")
    order = np.argsort(created, kind="stable")
    created = created[order]
    created_month = created.astype("datetime64[M]").view("int64") % 12 + 1
    quarter_end = (created_month % 3 == 0).astype(float)

    inbound = rng.random(n) < config.inbound_share
    channel = np.where(inbound, "inbound", "outbound")

    # --- who
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
    company = np.char.add(
        np.char.add(rng.choice(NAME_PARTS[0], n), rng.choice(NAME_PARTS[1], n)),
        np.char.add(" ", rng.choice(NAME_PARTS[2], n)),
    ).astype(object)

    # --- latent intent drives the observed signals (the model sees only the signals)
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
    webinar = rng.random(n) < _sigmoid(-2.2 + 0.5 * intent + 3.0 * (in_src == 3))
    demo = rng.random(n) < _sigmoid(-1.9 + 1.1 * intent)
    form_fills = 1 + rng.poisson(np.exp(-1.2 + 0.4 * intent))

    touches = 3 + rng.poisson(5, n)
    calls = rng.binomial(touches, 0.35)
    emails = touches - calls
    replies = rng.binomial(touches, _sigmoid(-2.6 + 0.7 * intent + 0.15 * (seniority - 2)))
    meeting = rng.random(n) < _sigmoid(-2.4 + 1.6 * np.minimum(replies, 3) / 3 + 0.6 * intent)

    specialist = rng.integers(1, config.inbound_specialists + 1, n)
    prospector = rng.integers(1, config.prospectors + 1, n)
    elapsed = (created - np.datetime64(config.start, "us")) / np.timedelta64(config.days, "D")
    if config.drift:
        source = _with_new_sources(config, elapsed, inbound, source)

    leads = pd.DataFrame(
        {
            "lead_id": _ids("L", np.arange(1, n + 1)),
            "channel": channel,
            "source": source.astype(object),
            "created_at": created,
            "company_name": company,
            "company_industry": np.array(INDUSTRIES, dtype=object)[industry],
            "company_size": size,
            "company_revenue": revenue,
            "company_region": np.array(REGIONS, dtype=object)[region],
            "company_country": country,
            "contact_title": title,
            "contact_seniority": np.array(SENIORITIES, dtype=object)[seniority],
            "web_visits": web_visits,
            "time_on_site_sec": time_on_site,
            "pages_viewed": pages,
            "content_downloads": downloads,
            "webinar_attended": webinar,
            "demo_requested": demo,
            "form_fills": form_fills,
            "specialist_id": _ids("IS", specialist, 3).astype(object),
            "touches": touches,
            "calls": calls,
            "emails_sent": emails,
            "replies": replies,
            "meeting_booked": meeting,
            "prospector_id": _ids("PR", prospector, 3).astype(object),
        }
    )
    _nullable(leads)
    for column, share in MISSING_SHARE.items():
        _blank(leads, column, rng.random(n) < share)
    inbound_only = ["web_visits", "time_on_site_sec", "pages_viewed", "content_downloads",
                    "webinar_attended", "demo_requested", "form_fills",
                    "specialist_id"]  # fmt: skip
    outbound_only = [
        "touches",
        "calls",
        "emails_sent",
        "replies",
        "meeting_booked",
        "prospector_id",
    ]
    for column in inbound_only:
        _blank(leads, column, ~inbound)
    for column in outbound_only:
        _blank(leads, column, inbound)

    drift = _drift_logit(leads, elapsed) if config.drift else None
    truth = _qualification_truth(leads, quarter_end, drift)
    qualified = rng.random(n) < truth["p_qualified"].to_numpy()
    opportunities, customers, lead_truth, closer_effects, customer_truth, am_effects = _deals(
        config, rng, leads, reps, truth, qualified
    )
    return {
        "leads": leads,
        "reps": reps,
        "opportunities": opportunities,
        "customers": customers,
        "truth_leads": lead_truth,
        "truth_closer_effects": closer_effects,
        "truth_customers": customer_truth,
        "truth_account_manager_effects": am_effects,
    }


def _observed(leads: pd.DataFrame, column: str, fill: float = 0.0) -> np.ndarray:
    values = pd.to_numeric(leads[column].astype("Float64"), errors="coerce")
    return values.fillna(fill).to_numpy(dtype=float)


def _category_effect(
    leads: pd.DataFrame, column: str, levels: tuple[str, ...], effects: np.ndarray
) -> np.ndarray:
    mapping = dict(zip(levels, effects, strict=True))
    return leads[column].map(mapping).fillna(0.0).to_numpy(dtype=float)


def _with_new_sources(
    config: GeneratorConfig, elapsed: np.ndarray, inbound: np.ndarray, source: np.ndarray
) -> np.ndarray:
    """`source` with the new sources from `NEW_SOURCE_FROM` on. Drawn last, from their own
    stream: the leads are those of the same seed without drift, but for their source."""
    rng = np.random.default_rng([config.seed, _DRIFT_STREAM])
    new = (elapsed >= NEW_SOURCE_FROM) & (rng.random(len(elapsed)) < NEW_SOURCE_SHARE)
    return np.where(new, np.where(inbound, NEW_SOURCES[0], NEW_SOURCES[1]), source)


def _drift_logit(leads: pd.DataFrame, elapsed: np.ndarray) -> np.ndarray:
    """Qualification log-odds that move with time: the level, the flipping effect and the
    new sources (read from the fields as the CRM shows them, blanks neutral)."""
    start, end = DRIFT_LEVEL
    column, value, early, late = DRIFT_FLIP
    flips = (leads[column].to_numpy(dtype=object) == value).astype(float)
    new_source = leads["source"].isin(NEW_SOURCES).to_numpy(dtype=float)
    return np.asarray(
        start
        + (end - start) * elapsed
        + flips * (early + (late - early) * elapsed)
        + NEW_SOURCE_FIT * new_source,
        dtype=np.float64,
    )


def _qualification_truth(
    leads: pd.DataFrame, quarter_end: np.ndarray, drift: np.ndarray | None = None
) -> pd.DataFrame:
    """P(qualified) and the closer-independent part of the win log-odds, from
    what the CRM shows (missing fields count as neutral); `drift` adds log-odds."""
    inbound = (leads["channel"] == "inbound").to_numpy()
    fit = (
        _category_effect(leads, "company_industry", INDUSTRIES, INDUSTRY_FIT)
        + _category_effect(leads, "company_region", REGIONS, REGION_FIT)
        + _category_effect(leads, "contact_seniority", SENIORITIES, SENIORITY_FIT)
    )
    size = pd.to_numeric(leads["company_size"], errors="coerce").to_numpy(dtype=float)
    seg = np.where(np.isnan(size), -1, _segment_codes(np.nan_to_num(size, nan=0.0)))
    fit += np.where(seg >= 0, SEGMENT_FIT[np.clip(seg, 0, 2)], 0.0)
    industry = leads["company_industry"].map({name: i for i, name in enumerate(INDUSTRIES)})
    industry_code = industry.fillna(-1).to_numpy(dtype=np.int64)
    known = (industry_code >= 0) & (seg >= 0)
    fit += np.where(known, ICP_FIT[industry_code.clip(0), seg.clip(0)], 0.0)
    seniority = leads["contact_seniority"].map({name: i for i, name in enumerate(SENIORITIES)})
    rank = seniority.fillna(-1).to_numpy(dtype=np.int64)

    visits = _observed(leads, "web_visits", 1.0)
    pages = _observed(leads, "pages_viewed", 0.0)
    demo = _observed(leads, "demo_requested")
    buys_software = np.isin(industry_code, [0, 1])
    inbound_logit = (
        -2.9
        + 1.4 * demo * np.where(seg == 2, 1.6, np.where(seg == 0, 0.55, 1.0))
        + 0.35 * np.log1p(pages)
        + 0.6 * (_observed(leads, "content_downloads") >= 2)
        + _observed(leads, "webinar_attended") * np.where(buys_software, 0.9, 0.2)
        + 0.2 * np.log1p(_observed(leads, "time_on_site_sec") / 60.0)
        + 0.5 * (pages / np.maximum(visits, 1.0) > 6)
        + _category_effect(leads, "source", INBOUND_SOURCES, INBOUND_SOURCE_FIT)
    )
    touches = _observed(leads, "touches", 0.0)
    replies = _observed(leads, "replies", 0.0)
    meeting = _observed(leads, "meeting_booked")
    outbound_logit = (
        -3.2
        + meeting * np.where(rank >= 3, 2.7, np.where(rank == 0, 1.2, 1.9))
        + 0.7 * (replies >= 2)
        + 1.2 * np.where(touches > 0, replies / np.maximum(touches, 1.0), 0.0)
        - 0.06 * np.maximum(touches - 10, 0)
        + _category_effect(leads, "source", OUTBOUND_SOURCES, OUTBOUND_SOURCE_FIT)
    )
    qual_logit = np.where(inbound, inbound_logit, outbound_logit) + fit + 0.3 * quarter_end
    if drift is not None:
        qual_logit = qual_logit + drift
    # Win odds once qualified: firmographic fit again, bigger companies are harder.
    win_base = -1.0 + 0.8 * fit + np.where(seg == 2, -0.35, 0.0) + 0.25 * quarter_end
    win_base += np.where(inbound, 0.3 * _observed(leads, "demo_requested"), 0.0)
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "p_qualified": _sigmoid(qual_logit),
            "win_logit_base": win_base,
            "segment_code": seg,
        }
    )


def _closer_effects(
    rng: np.random.Generator, closer_ids: list[str], reps: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    focus = reps.set_index("rep_id")["industries"]
    for cid in closer_ids:
        general = rng.normal(0, 0.25)
        ind = rng.normal(0, 0.35, len(INDUSTRIES))
        for name in focus[cid]:
            ind[INDUSTRIES.index(name)] += 0.6  # a closer's focus industries are real strengths
        seg = rng.normal(0, 0.4, len(SEGMENTS))
        rows.append(
            {"closer_id": cid, "general": general, "region_match": 0.35,
             **{f"industry_{x}": v for x, v in zip(INDUSTRIES, ind, strict=True)},
             **{f"segment_{x}": v for x, v in zip(SEGMENTS, seg, strict=True)}}
        )  # fmt: skip
    return pd.DataFrame(rows)


def closer_effect(
    effects: pd.DataFrame, closer_region: np.ndarray, leads: pd.DataFrame, segment_code: np.ndarray
) -> np.ndarray:
    """Log-odds added to `win_logit_base` for each (lead, closer) row pair.

    `effects`, `closer_region`, `leads` and `segment_code` are aligned row by
    row; missing lead fields add nothing.
    """
    out = effects["general"].to_numpy(dtype=float).copy()
    industry = leads["company_industry"].to_numpy(dtype=object)
    for name in INDUSTRIES:
        out += np.where(industry == name, effects[f"industry_{name}"].to_numpy(dtype=float), 0.0)
    for code, name in enumerate(SEGMENTS):
        out += np.where(segment_code == code, effects[f"segment_{name}"].to_numpy(dtype=float), 0.0)
    region = leads["company_region"].to_numpy(dtype=object)
    out += np.where(region == closer_region, effects["region_match"].to_numpy(dtype=float), 0.0)
    return out


def _without_effects(effects: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """`effects` with every hidden skill set to zero (no rep changes an outcome)."""
    zero = effects.copy()
    numbers = [c for c in zero.columns if c != id_column]
    zero[numbers] = 0.0
    return zero


def historical_closer_weights(
    lead_regions: np.ndarray,
    closer_regions: np.ndarray,
    loyalty_share: float = HISTORICAL_REGION_LOYALTY,
) -> np.ndarray:
    """The pre-leadscore routing: mostly a closer of the lead's region, else anyone.

    Returns a (leads x closers) matrix of assignment probabilities.
    """
    n_closers = len(closer_regions)
    same = lead_regions[:, None] == closer_regions[None, :]
    n_same = same.sum(axis=1, keepdims=True)
    regional = np.where(n_same > 0, same / np.maximum(n_same, 1), 1.0 / n_closers)
    loyalty = np.where(n_same > 0, loyalty_share, 0.0)
    return loyalty * regional + (1 - loyalty) / n_closers


def _deals(
    config: GeneratorConfig,
    rng: np.random.Generator,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    truth: pd.DataFrame,
    qualified: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n = len(leads)
    closers = reps[reps["role"] == Role.closer.value]
    closer_ids = closers["rep_id"].tolist()
    closer_regions = closers["region"].to_numpy(dtype=object)
    effects = _closer_effects(rng, closer_ids, reps)
    if not config.rep_effects:
        effects = _without_effects(effects, "closer_id")
    seg = truth["segment_code"].to_numpy()
    base = truth["win_logit_base"].to_numpy()

    # Expected P(win) over the historical routing: the best a lead-only model can know.
    weights = historical_closer_weights(
        leads["company_region"].to_numpy(dtype=object), closer_regions, config.region_loyalty
    )
    p_win_by_closer = np.empty((n, len(closer_ids)))
    for j in range(len(closer_ids)):
        row = effects.iloc[[j] * n].reset_index(drop=True)
        p_win_by_closer[:, j] = _sigmoid(
            base + closer_effect(row, np.full(n, closer_regions[j], dtype=object), leads, seg)
        )
    p_win_marginal = (weights * p_win_by_closer).sum(axis=1)

    chosen = (rng.random(n)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    chosen = np.minimum(chosen, len(closer_ids) - 1)
    won = rng.random(n) < p_win_by_closer[np.arange(n), chosen]

    created = leads["created_at"].to_numpy()
    opened = created + (rng.gamma(2.0, 4.0, n) * 86_400e6).astype("timedelta64[us]")
    closed = opened + (rng.gamma(3.0, 12.0, n) * 86_400e6).astype("timedelta64[us]")
    size = pd.to_numeric(leads["company_size"], errors="coerce").fillna(150).to_numpy(dtype=float)
    value = np.round(np.exp(rng.normal(8.7, 0.5, n)) * np.power(size, 0.35), -1)

    as_of = config.as_of
    has_opp = qualified & (opened <= as_of)
    is_closed = has_opp & (closed <= as_of)
    idx = np.flatnonzero(has_opp)
    opportunities = pd.DataFrame(
        {
            "opportunity_id": _ids("O", np.arange(1, idx.size + 1)),
            "lead_id": leads["lead_id"].to_numpy()[idx],
            "closer_id": np.array(closer_ids, dtype=object)[chosen[idx]],
            "opened_at": opened[idx],
            "closed_at": pd.Series(closed[idx]).where(is_closed[idx]),
            "won": pd.Series(won[idx], dtype="boolean").where(is_closed[idx]),
            "value": pd.Series(value[idx]).where(is_closed[idx] & won[idx]),
        }
    )

    customers, customer_truth, am_effects = _customers(config, rng, leads, reps, opportunities, seg)
    lead_truth = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "p_qualified": truth["p_qualified"].to_numpy(),
            "win_logit_base": base,
            "p_won": truth["p_qualified"].to_numpy() * p_win_marginal,
        }
    )
    return opportunities, customers, lead_truth, effects, customer_truth, am_effects


def _customers(
    config: GeneratorConfig,
    rng: np.random.Generator,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    opportunities: pd.DataFrame,
    segment_code: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Won deals become customers of a randomly chosen account manager (the
    historical policy); retention depends on the manager's hidden skill."""
    ams = reps[reps["role"] == Role.account_manager.value]
    am_ids = ams["rep_id"].to_numpy(dtype=object)
    am_effects = pd.DataFrame(
        {
            "account_manager_id": am_ids,
            "general": rng.normal(0, 0.3, len(am_ids)),
            **{f"segment_{s}": rng.normal(0, 0.45, len(am_ids)) for s in SEGMENTS},
            "growth": rng.normal(0, 0.3, len(am_ids)),
        }
    )
    if not config.rep_effects:
        am_effects = _without_effects(am_effects, "account_manager_id")
    won = opportunities[opportunities["won"].fillna(False).astype(bool)].reset_index(drop=True)
    m = len(won)
    lead_rows = leads.set_index("lead_id").loc[won["lead_id"]].reset_index()
    pos = pd.Index(leads["lead_id"]).get_indexer(won["lead_id"])
    seg = segment_code[pos]
    am = rng.integers(0, len(am_ids), m)
    if config.assignment == "territory":
        am = _within_territory(
            rng, am, lead_rows["company_region"].to_numpy(dtype=object),
            ams["region"].to_numpy(dtype=object),
        )  # fmt: skip
    eff = am_effects.iloc[am].reset_index(drop=True)
    seg_eff = np.zeros(m)
    for code, name in enumerate(SEGMENTS):
        seg_eff += np.where(seg == code, eff[f"segment_{name}"].to_numpy(), 0.0)
    fit = _category_effect(lead_rows, "company_industry", INDUSTRIES, INDUSTRY_FIT)
    value = won["value"].to_numpy(dtype=float)
    retain_base = 1.1 + 0.8 * fit - 0.15 * np.log(value / 8000)
    retain_logit = retain_base + eff["general"].to_numpy() + seg_eff
    retained = rng.random(m) < _sigmoid(retain_logit)
    expansion = np.round(
        value * rng.gamma(1.5, 0.12, m) * np.exp(eff["growth"].to_numpy()) * retained, -1
    )
    start = won["closed_at"].to_numpy(dtype="datetime64[us]") + np.timedelta64(7, "D")
    known = np.asarray(start + np.timedelta64(365, "D") <= config.as_of, dtype=bool)
    customers = pd.DataFrame(
        {
            "customer_id": _ids("C", np.arange(1, m + 1)),
            "lead_id": won["lead_id"].to_numpy(),
            "opportunity_id": won["opportunity_id"].to_numpy(),
            "account_manager_id": am_ids[am],
            "start_date": start,
            "company_industry": lead_rows["company_industry"].to_numpy(dtype=object),
            # `.array` keeps the nullable Int64 dtype; `.to_numpy()` turned it into float.
            "company_size": lead_rows["company_size"].astype("Int64").array,
            "company_region": lead_rows["company_region"].to_numpy(dtype=object),
            "account_value": value,
            "retained_12m": pd.Series(retained, dtype="boolean").where(known),
            "expansion_value": pd.Series(expansion).where(known),
        }
    )
    customer_truth = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "retain_logit_base": retain_base,
            "segment_code": seg,
            "p_retained": _sigmoid(retain_logit),
        }
    )
    return customers, customer_truth, am_effects


def _within_territory(
    rng: np.random.Generator, drawn: np.ndarray, regions: np.ndarray, rep_regions: np.ndarray
) -> np.ndarray:
    """`drawn` reps, redrawn among the reps of each row's region where it has any."""
    chosen = drawn.copy()
    for region in np.unique(rep_regions[pd.notna(rep_regions)]):
        rows = np.flatnonzero(regions == region)
        chosen[rows] = rng.choice(np.flatnonzero(rep_regions == region), rows.size)
    return chosen


def write_history(config: GeneratorConfig, out: Path) -> dict[str, Path]:
    """Generate and write the contract tables to `out` and the truth to `out/truth`."""
    tables = generate(config)
    paths = {
        name: write_table(tables[name], out, name)
        for name in ("leads", "reps", "opportunities", "customers")
    }
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name.startswith("truth_"):
            path = truth_dir / f"{name.removeprefix('truth_')}.parquet"
            frame.to_parquet(path, index=False)
            paths[name] = path
    routing = {"assignment": config.assignment, "region_loyalty": config.region_loyalty,
               "rep_effects": config.rep_effects}  # fmt: skip
    paths["truth_routing"] = truth_dir / "routing.json"
    paths["truth_routing"].write_text(json.dumps(routing, indent=2))
    return paths
