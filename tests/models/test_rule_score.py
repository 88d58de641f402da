"""The cold-start rule score: rules, clipping, grades, reasons and file errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models.rule_score import DEFAULT_RULES, RuleScore, RuleScoreError, load_rule_score

RULES = """
base: 10
rules:
  both:
    - {field: contact_seniority, in: [director, vp, c_level], points: 15}
    - {field: company_size, at_most: 9, points: -10}
    - {field: contact_title, present: false, points: -5}
  inbound:
    - {field: demo_requested, equals: true, points: 30}
    - {field: content_downloads, at_least: 2, points: 10}
    - {field: web_visits, at_least: 3, at_most: 5, points: 4}
  outbound:
    - {field: meeting_booked, equals: true, points: 30}
"""


def lead(**fields: Any) -> dict[str, Any]:
    return {"lead_id": "L1", "channel": "inbound", "contact_title": "CTO", **fields}


@pytest.fixture
def rules(tmp_path: Path) -> RuleScore:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return load_rule_score(path).rules


def test_rules_fire_as_configured(rules: RuleScore) -> None:
    records = [
        lead(),  # base only
        lead(demo_requested=True),
        lead(demo_requested=False, content_downloads=2),
        lead(contact_seniority="vp", web_visits=4),
        lead(web_visits=6, company_size=5, contact_title=None),
        lead(channel="outbound", meeting_booked=True, demo_requested=True),  # inbound rule skipped
    ]
    scored = rules.score_records(records, reasons=3)
    assert scored.score.tolist() == [10, 40, 20, 29, 1, 40]


def test_the_score_is_clipped_and_the_probability_is_score_over_100(rules: RuleScore) -> None:
    high = lead(demo_requested=True, content_downloads=5, contact_seniority="c_level", web_visits=4)
    low = lead(company_size=1, contact_title=None)
    scored = rules.score_records([high, low])
    assert scored.score.tolist() == [69, 1]  # 10+30+10+15+4; 10-10-5 -> 1
    assert scored.probability.tolist() == [0.69, 0.01]
    assert scored.reasons is None


def test_clipping_at_99(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("base: 90\nrules:\n  both:\n    - {field: replies, at_least: 1, points: 50}\n")
    scored = load_rule_score(path).rules.score_records([lead(channel="outbound", replies=3)])
    assert scored.score.tolist() == [99]


def test_grades_follow_the_points_total(rules: RuleScore) -> None:
    records = [
        lead(demo_requested=True, contact_seniority="vp", content_downloads=3),  # 65
        lead(demo_requested=True),  # 40
        lead(content_downloads=3),  # 20
        lead(),  # 10
    ]
    assert rules.score_records(records).grade.tolist() == ["A", "B", "C", "D"]
    custom = RuleScore.model_validate({"base": 10, "grades": {"A": 10, "B": 5, "C": 1}})
    assert custom.score_records([lead()]).grade.tolist() == ["A"]


def test_reasons_are_the_fired_rules_ups_first_then_downs(rules: RuleScore) -> None:
    record = lead(
        demo_requested=True,
        contact_seniority="vp",
        content_downloads=3,
        web_visits=4,
        company_size=3,
        contact_title=None,
    )
    scored = rules.score_records([record], reasons=3)
    assert scored.reasons is not None
    got = [(r.field, r.value, r.effect) for r in scored.reasons[0]]
    assert got == [
        ("demo_requested", True, 30),
        ("contact_seniority", "vp", 15),
        ("content_downloads", 3, 10),  # web_visits (+4) is the fourth gain: left out
        ("company_size", 3, -10),
        ("contact_title", None, -5),
    ]
    one = rules.score_records([record], reasons=1).reasons
    assert one is not None and [r.effect for r in one[0]] == [30, -10]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{field: company_headcount, at_least: 2, points: 5}", "unknown field 'company_headcount'"),
        ("{field: replies, points: 5}", "field 'replies': give exactly one"),
        ("{field: replies, equals: 1, at_least: 2, points: 5}", "field 'replies': give exactly"),
        ("{field: source, at_least: 2, points: 5}", "field 'source' is not a number"),
        ("{field: contact_seniority, equals: boss, points: 5}", "field 'contact_seniority'"),
        ("{field: replies, at_least: 2}", "points"),
    ],
)
def test_a_bad_rule_names_the_file_the_rule_and_the_field(
    tmp_path: Path, rule: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    good = "{field: meeting_booked, equals: true, points: 30}"
    path.write_text(f"rules:\n  outbound:\n    - {good}\n    - {rule}\n")
    with pytest.raises(RuleScoreError) as error:
        load_rule_score(path)
    message = str(error.value)
    assert str(path) in message and "rules.outbound rule 1" in message
    assert expected in message


def test_an_unknown_field_lists_the_lead_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  both:\n    - {field: headcount, at_least: 2, points: 5}\n")
    with pytest.raises(RuleScoreError, match="lead fields are: lead_id, channel, source"):
        load_rule_score(path)


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [unclosed\n")
    with pytest.raises(RuleScoreError, match=r"broken\.yaml"):
        load_rule_score(path)
    with pytest.raises(RuleScoreError, match=r"missing\.yaml"):
        load_rule_score(tmp_path / "missing.yaml")


def test_the_default_rules_load_and_reward_engagement() -> None:
    loaded = load_rule_score("default")
    assert loaded.path == DEFAULT_RULES and len(loaded.version) == 12
    cold, hot = lead(channel="outbound"), lead(channel="outbound", meeting_booked=True, replies=3)
    scores = loaded.rules.score_records([cold, hot]).score.tolist()
    assert scores[1] > scores[0]
