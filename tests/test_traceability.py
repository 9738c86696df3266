"""Every registered rule has a test case, a documentation row, and (for 要綱 rules) a check quoting its article."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.checks import CHECK_RULES, CHECKS
from pipeline.findings import INPUT, OUTPUT, RULES
from pipeline.schemas import KIND_RULE
from tests import test_read, test_rules, test_run

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
TESTED = {c[1] for c in test_rules.FAILING} | ({"file-unreadable"} if test_read.UNREADABLE else set())
TESTED |= {"write-failed"} if hasattr(test_run, "test_write_failure_is_a_finding_not_a_traceback") else set()
DOC_ROWS = {
    m[1]: m[2].strip() for m in re.finditer(r"^\| `([a-z-]+)` \| ([^|]+) \|", DOC.read_text("utf-8"), flags=re.M)
}
# Rules produced outside checks.py: by the reader and by the pandera schemas.
PRODUCED = {"file-unreadable", "sheet-missing", "column-missing", "formula-no-value", "required-value", "write-failed"}
PRODUCED |= set(KIND_RULE.values()) | {r for rules in CHECK_RULES.values() for r in rules}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_a_failing_test_case(rule):
    assert rule in TESTED, f"{rule} has no case in tests/test_rules.py FAILING"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_a_documentation_row(rule):
    assert rule in DOC_ROWS, f"{rule} has no row in docs/rules.md"
    assert DOC_ROWS[rule] == RULES[rule].article


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_is_produced_by_some_check(rule):
    assert rule in PRODUCED


def test_documentation_lists_no_unknown_rule():
    assert set(DOC_ROWS) <= set(RULES)


@pytest.mark.parametrize("rule", sorted(r for r, v in RULES.items() if v.article not in (INPUT, OUTPUT)))
def test_yoko_check_docstring_quotes_its_article(rule):
    fns = [CHECKS[name] for name, rules in CHECK_RULES.items() if rule in rules]
    assert fns
    first_article = RULES[rule].article.split(",")[0].split("(")[0].strip()
    assert any(first_article in (fn.__doc__ or "") for fn in fns), f"{rule}: docstring must quote {first_article}"
