"""Every registered rule is produced by a real run of a test case, has a documentation row, and (for 要綱 rules)
a check quoting its article.

"Produced" means found in the findings of an actual run: the FAILING cases of tests/test_rules.py, the
UNREADABLE files of tests/test_read.py, and one reports run of the CLI over two workbooks that name the same
警察署 (duplicate-station) where a document path is taken by a folder (write-failed). A rule that is only
registered, declared or decorated is not produced.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from unittest import mock

import pytest

from pipeline.checking.checks import CHECK_RULES, CHECKS
from pipeline.checking.result import Options
from pipeline.checking.validate import validate_workbook
from pipeline.core.findings import INPUT, OUTPUT, RULES
from tests import test_read, test_rules
from tests.builders import AS_OF, baseline, write_book

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
DOC_ROWS = {
    m[1]: m[2].strip() for m in re.finditer(r"^\| `([a-z-]+)` \| ([^|]+) \|", DOC.read_text("utf-8"), flags=re.M)
}
# The CLI case below plants these; the other rules are planted by test_rules.FAILING and test_read.UNREADABLE.
CLI_CASE = "reports: two workbooks of テスト警察署, a folder where the first 委嘱状 .docx goes"
CLI_RULES = {"write-failed", "duplicate-station", "output-link"}
DECLARED = {c[1] for c in test_rules.FAILING} | ({"file-unreadable"} if test_read.UNREADABLE else set())
DECLARED |= CLI_RULES
# A bug of ours stands in for itself: validation raising where no input can make it (tests/test_crash.py).
CRASH_CASE = "reports: validation raises an unexpected exception"
DECLARED |= {"internal-error"}


def _cli_run(tmp: Path) -> set[str]:
    """Rule ids in 検証結果.json of `reports` over two copies of one station's workbook, one 委嘱状 path taken.

    SPEC section 6: two workbooks naming the same 警察署 warn duplicate-station. SPEC section 4 names the file
    委嘱状/<協議会名>_<氏名>_<委嘱日 YYYYMMDD>.docx under the station folder; a folder there stands in for a file
    Word keeps locked (write-failed). Exit code 1: an error finding.
    """
    from pipeline.cli import main  # imported here: the CLI is being reshaped (issue #8), the other rules do not need it

    inp, out = tmp / "in", tmp / "out"
    write_book(inp / "テスト署.xlsx", baseline())
    write_book(inp / "テスト署 - コピー.xlsx", baseline())
    taken = out / "テスト警察署" / "委嘱状" / "一番町交番連絡協議会_佐藤　一郎_20240401.docx"
    taken.mkdir(parents=True)
    (taken / "keep.txt").write_text("not a document")
    outside = tmp / "outside"  # SPEC section 6: a link the run did not create blocks that output (output-link)
    outside.mkdir()
    (out / "テスト警察署" / "開催結果報告書").symlink_to(outside, target_is_directory=True)
    code = main(["reports", "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()])
    report = json.loads((out / "検証結果.json").read_text("utf-8"))
    rules = {f["rule"] for w in report["workbooks"] for f in w["findings"]}
    assert code == 1, f"exit code {code}; findings {sorted(rules)}"
    assert (taken / "keep.txt").read_text() == "not a document"
    assert list(outside.iterdir()) == []
    return rules


@pytest.fixture(scope="module")
def produced(tmp_path_factory) -> dict[str, set[str]]:
    """rule id -> the cases whose real run reported it."""
    out: dict[str, set[str]] = defaultdict(set)
    for case in test_rules.FAILING:
        result = test_rules.run_failing_case(case[0], tmp_path_factory.mktemp("rules"))
        for f in result.findings:
            out[f.rule].add(f"test_rules.FAILING[{case[0]}]")
    for case_id, make, _ in test_read.UNREADABLE:
        tmp = tmp_path_factory.mktemp("unreadable")
        path = tmp / "station.xlsx"
        path.write_bytes(make(tmp))
        for f in validate_workbook(path, Options(as_of=AS_OF)).findings:
            out[f.rule].add(f"test_read.UNREADABLE[{case_id}]")
    with mock.patch("pipeline.checking.validate.build_book", side_effect=RuntimeError("injected")):
        from pipeline.report import RunOptions
        from pipeline.run.steps import reports

        inp = tmp_path_factory.mktemp("crash")
        write_book(inp / "テスト署.xlsx", baseline())
        for wr in reports(inp, inp / "out", RunOptions(as_of=AS_OF)).workbooks:
            for f in wr.findings:
                out[f.rule].add(CRASH_CASE)
    try:
        for rule in _cli_run(tmp_path_factory.mktemp("cli")):
            out[rule].add(CLI_CASE)
    except Exception as e:  # fails test_rule_is_produced_by_a_real_run for CLI_RULES only, with this reason
        out["_errors"].add(f"{CLI_CASE}: {type(e).__name__}: {e}")
    return out


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_a_failing_test_case(rule):
    assert rule in DECLARED, f"{rule} has no case in tests/test_rules.py FAILING"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_is_produced_by_a_real_run(rule, produced):
    assert produced.get(rule), f"no test run reported {rule}; {sorted(produced.get('_errors', []))}"


def test_every_failing_case_produces_its_own_rule(produced):
    missing = [c[0] for c in test_rules.FAILING if f"test_rules.FAILING[{c[0]}]" not in produced.get(c[1], set())]
    assert missing == []


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_has_a_documentation_row(rule):
    assert rule in DOC_ROWS, f"{rule} has no row in docs/rules.md"
    assert DOC_ROWS[rule] == RULES[rule].article


def test_documentation_lists_no_unknown_rule():
    assert set(DOC_ROWS) <= set(RULES)


@pytest.mark.parametrize("rule", sorted(r for r, v in RULES.items() if v.article not in (INPUT, OUTPUT)))
def test_yoko_check_docstring_quotes_its_article(rule):
    fns = [CHECKS[name] for name, rules in CHECK_RULES.items() if rule in rules]
    assert fns
    first_article = RULES[rule].article.split(",")[0].split("(")[0].strip()
    assert any(first_article in (fn.__doc__ or "") for fn in fns), f"{rule}: docstring must quote {first_article}"
