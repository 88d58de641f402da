"""The generated company's world: what its leads can be and the reps who work them.

Values and how common each is; how much each value helps a lead convert is hidden
truth (`data.generator.truth`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.contract import SEGMENT_UPPER_BOUNDS, Region, Role, Segment, Seniority
from data.generator.generator_config import GeneratorConfig

INDUSTRIES = (
    "software",
    "finance",
    "healthcare",
    "manufacturing",
    "retail",
    "education",
    "logistics",
    "energy",
    "media",
    "public_sector",
)
INDUSTRY_WEIGHTS = np.array([0.2, 0.13, 0.12, 0.12, 0.1, 0.07, 0.08, 0.06, 0.06, 0.06])

REGIONS = tuple(r.value for r in Region)
REGION_WEIGHTS = np.array([0.42, 0.33, 0.15, 0.10])
COUNTRIES = {
    "north_america": ("US", "CA", "MX"),
    "emea": ("GB", "DE", "FR", "NL", "ES", "SE", "AE"),
    "apac": ("AU", "JP", "SG", "IN"),
    "latam": ("BR", "AR", "CL", "CO"),
}
SEGMENTS = tuple(s.value for s in Segment)

SENIORITIES = tuple(s.value for s in Seniority)
SENIORITY_WEIGHTS = np.array([0.25, 0.33, 0.22, 0.12, 0.08])
FUNCTIONS = ("Sales", "Marketing", "IT", "Operations", "Finance")
TITLE_FORMS = {
    "entry": ("{f} Analyst", "{f} Specialist", "{f} Coordinator"),
    "manager": ("{f} Manager", "Senior {f} Manager"),
    "director": ("Director of {f}", "Head of {f}"),
    "vp": ("VP {f}", "SVP {f}"),
    "c_level": ("CEO", "CFO", "CTO", "COO", "CMO"),
}

INBOUND_SOURCES = (
    "organic_search",
    "paid_search",
    "content",
    "webinar",
    "referral",
    "social",
    "event",
    "direct",
)
INBOUND_SOURCE_WEIGHTS = np.array([0.24, 0.18, 0.14, 0.1, 0.08, 0.1, 0.06, 0.1])
OUTBOUND_SOURCES = (
    "cold_call",
    "cold_email",
    "social_selling",
    "target_list",
    "dormant_reactivation",
)
OUTBOUND_SOURCE_WEIGHTS = np.array([0.25, 0.35, 0.15, 0.15, 0.10])

COMPANY_NAME_STARTS = (
    "Acme",
    "Blue",
    "North",
    "Bright",
    "Vertex",
    "Nova",
    "Summit",
    "Iron",
    "Silver",
    "Green",
    "Atlas",
    "Pioneer",
    "Quantum",
    "Harbor",
    "Cedar",
    "Falcon",
)
COMPANY_NAME_ENDS = (
    "soft",
    "works",
    "labs",
    "data",
    "logic",
    "flow",
    "point",
    "line",
    "stone",
    "field",
)
COMPANY_FORMS = ("Inc", "Ltd", "GmbH", "Group", "Corp", "SA", "LLC")
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Eva",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sam",
    "Tara",
)
LAST_NAMES = (
    "Silva",
    "Meyer",
    "Okafor",
    "Tanaka",
    "Novak",
    "Garcia",
    "Brown",
    "Dubois",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Larsen",
)

REP_PREFIX = {
    Role.inbound_specialist: "IS",
    Role.prospector: "PR",
    Role.closer: "CL",
    Role.account_manager: "AM",
}
REP_CAPACITY = {
    Role.inbound_specialist: 400,
    Role.prospector: 600,
    Role.closer: 40,
    Role.account_manager: 60,
}
"""Open leads (or accounts) a rep of each role can hold."""


def segment_codes(company_size: pd.Series) -> np.ndarray:
    """The segment code of each company (-1 if the size is unknown)."""
    size = pd.to_numeric(company_size, errors="coerce").to_numpy(dtype=float)
    known = np.nan_to_num(size, nan=0.0)
    codes = np.full(known.shape, len(SEGMENT_UPPER_BOUNDS), dtype=np.int64)
    for code, (_, upper) in reversed(list(enumerate(SEGMENT_UPPER_BOUNDS))):
        codes[known < upper] = code
    return np.where(np.isnan(size), -1, codes)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` full names like "Ana Silva"."""
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    return np.char.add(np.char.add(first, " "), last)


def company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` company names like "Novaworks GmbH"."""
    return np.char.add(
        np.char.add(rng.choice(COMPANY_NAME_STARTS, n), rng.choice(COMPANY_NAME_ENDS, n)),
        np.char.add(" ", rng.choice(COMPANY_FORMS, n)),
    ).astype(object)


def make_reps(config: GeneratorConfig, rng: np.random.Generator) -> pd.DataFrame:
    """The team: closers and account managers each cover a region, closers two industries."""
    counts = {
        Role.inbound_specialist: config.inbound_specialists,
        Role.prospector: config.prospectors,
        Role.closer: config.closers,
        Role.account_manager: config.account_managers,
    }
    rows = []
    for role, count in counts.items():
        names = person_names(rng, count)
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
                    "rep_id": f"{REP_PREFIX[role]}{i + 1:03d}",
                    "name": str(names[i]),
                    "role": role.value,
                    "region": region,
                    "segment": None,
                    "industries": industries,
                    "capacity": REP_CAPACITY[role],
                    "active": True,
                }
            )
    return pd.DataFrame(rows)
