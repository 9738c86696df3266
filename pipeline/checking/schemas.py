"""Column-level validation: typed frames checked by pandera schemas named after rule ids."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa
from pandera import Check

from pipeline.core.contract import CHOICES, JOB_KINDS, RANKS, Col, SheetSpec
from pipeline.core.findings import Finding, make_finding
from pipeline.core.normalize import (
    Invalid,
    clean_id,
    clean_text,
    parse_choice,
    parse_count,
    parse_date,
    parse_flag,
    parse_time,
)
from pipeline.reading.read import RawTable

PARSERS: dict[str, Callable[[object], object]] = {
    "text": clean_text,
    "id": clean_id,
    "date": parse_date,
    "time": parse_time,
    "count": parse_count,
    "flag": parse_flag,
}
KIND_RULE = {"date": "bad-date", "time": "bad-date", "count": "bad-number", "choice": "bad-choice"}


def _parser(col: Col) -> Callable[[object], object]:
    if col.kind == "choice":
        table = CHOICES[col.choices or col.name]
        return lambda v: parse_choice(v, table)
    return PARSERS[col.kind]


def typed_frame(table: RawTable) -> pd.DataFrame:
    """Every value parsed for its column; unreadable values become Invalid markers."""
    frame = table.frame
    out = pd.DataFrame(index=frame.index)
    for col in table.spec.columns:
        if col.name in frame.columns:
            out[col.name] = pd.Series(_parse_column(_parser(col), frame[col.name]), index=frame.index, dtype=object)
    return out


def _parse_column(parse: Callable[[object], object], values: pd.Series) -> list[object]:
    """parse(v) for every value; a text typed again (会長, 男, 2020/3/5, an ID) is parsed once."""
    seen: dict[str, object] = {}
    out = []
    for v in values.tolist():
        if isinstance(v, str):
            parsed = seen.get(v, seen)
            if parsed is seen:
                parsed = seen[v] = parse(v)
        else:
            parsed = parse(v)
        out.append(parsed)
    return out


def _not_invalid(v: object) -> bool:
    return not isinstance(v, Invalid)


def schema_for(spec: SheetSpec) -> pa.DataFrameSchema:
    """A pandera schema whose check names are rule ids; severity stays in our registry."""
    columns = {}
    for col in spec.columns:
        checks = []
        if col.required:
            checks.append(Check(lambda s: s.notna(), name="required-value", ignore_na=False))
        if col.kind in KIND_RULE:
            checks.append(Check(_not_invalid, element_wise=True, name=KIND_RULE[col.kind]))
        # No dtype: every column holds parsed Python objects, and pandera's dtype check costs a failed
        # optional import per column per call.
        columns[col.name] = pa.Column(None, checks=checks, nullable=True, required=False, coerce=False)
    return pa.DataFrameSchema(columns, strict=False)


_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def _choices_text(col: Col) -> str:
    if col.choices == "階級":
        return "・".join(RANKS)
    if col.choices == "職種等区分":
        return "・".join(f"{k}{v}" for k, v in JOB_KINDS.items())
    canon = dict.fromkeys(CHOICES[col.choices or col.name].values())
    return "・".join(canon)


def message(rule: str, col: Col, raw: object, reason: str | None = None) -> str:
    """The Japanese message of a column-level finding; `reason` is why normalize refused a date that looks like one."""
    if rule == "bad-date" and reason:
        return f"「{col.name}」の「{raw}」は日付として受け付けられません。{reason}"
    if rule == "required-value":
        return f"「{col.name}」が空欄です。値を入力してください。"
    if rule == "bad-date" and col.kind == "time":
        return f"「{col.name}」の「{raw}」を時刻として読めません。「14:00」や「午後2時」の形で入力してください。"
    if rule == "bad-date":
        return (
            f"「{col.name}」の「{raw}」を日付として読めません。"
            "「令和2年3月5日」や「2020/3/5」の形で、実在する日付を入力してください。"
        )
    if rule == "bad-number":
        return f"「{col.name}」の「{raw}」は0以上の整数ではありません。「10」のように数字で入力してください。"
    if rule == "bad-choice":
        return f"「{col.name}」の「{raw}」は選べる値ではありません。{_choices_text(col)} のいずれかを入力してください。"
    raise KeyError(rule)


def validate_table(table: RawTable, typed: pd.DataFrame) -> list[Finding]:
    """Run the sheet's schema lazily and turn every failure case into a located finding."""
    spec = table.spec
    schema = _SCHEMAS.get(spec.name)
    if schema is None:  # built once per sheet kind, not per workbook
        schema = _SCHEMAS[spec.name] = schema_for(spec)
    try:
        schema.validate(typed, lazy=True)
        return []
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases
    findings = []
    for case in cases.itertuples(index=False):
        if case.check not in KIND_RULE.values() and case.check != "required-value":
            raise RuntimeError(f"unexpected schema failure: {case}")  # a bug, not bad input
        col = spec.col(case.column)
        row = int(case.index)
        raw = table.frame.at[row, col.name] if col.name in table.frame.columns else None
        reason = case.failure_case.reason if isinstance(case.failure_case, Invalid) else None
        findings.append(
            make_finding(
                case.check,
                message(case.check, col, raw, reason),
                sheet=table.sheet,
                row=table.excel_row(col.name, row),
                column=col.name,
                cell=table.cell(col.name, row),
            )
        )
    if spec.key_value:
        return findings
    return sorted(findings, key=lambda f: (f.row or 0, f.cell or ""))


def missing_keys(table: RawTable) -> list[Finding]:
    """署 sheet: a required 項目 that has no row at all."""
    return [
        make_finding(
            "required-value",
            f"シート「{table.sheet}」に「{c.name}」の行がありません。A列に「{c.name}」、B列に値を入力してください。",
            sheet=table.sheet,
            column=c.name,
        )
        for c in table.spec.columns
        if c.required and c.name not in table.frame.columns
    ]
