"""File names: valid on Windows and Linux, within Windows' path limit, never colliding (property tests)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.write import EDITED_TAG, MAX_FOLDER, MAX_NAME, MAX_REL, Names, edited_sibling, safe_name

WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{d}" for p in ("COM", "LPT") for d in "123456789"}
# Text as clerks and hostile workbooks give it: Japanese, separators, dots, spaces, controls, emoji.
names = st.text(
    alphabet=st.sampled_from(list('一番町交番連絡協議会佐藤　洋子神ABCcon.. /\\:*?"<>|\t\n\x00~_-・（）😀prnAUX1')),
    max_size=400,
)


def valid_everywhere(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME
        and len((name).encode("utf-8")) <= 255
        and not WINDOWS_BAD.search(name)
        and not name.startswith(".")
        and not name.endswith((" ", "."))
        and ".." not in name
        and name.split(".")[0].strip().upper() not in RESERVED
    )


@settings(max_examples=400, deadline=None)
@given(names, st.sampled_from(["", ".docx", ".pdf"]))
def test_safe_name_is_valid_everywhere_and_idempotent(stem, suffix):
    name = safe_name(stem, suffix)
    assert valid_everywhere(name) and name.endswith(suffix)
    assert safe_name(name[: len(name) - len(suffix)], suffix) == name
    # The edited sibling (…_新版.docx) fits as well.
    assert valid_everywhere(edited_sibling(name)) if suffix else True


@settings(max_examples=200, deadline=None)
@given(st.lists(names, max_size=30), st.sampled_from(["宮城第01警察署/委嘱状", "x" * MAX_FOLDER + "/開催結果報告書"]))
def test_names_never_collide_and_fit_windows_max_path(stems, folder):
    taken = Names()
    paths = [taken.take(folder, s) for s in stems]
    assert len({p.casefold() for p in paths}) == len(paths)
    for p in paths:
        assert len(edited_sibling(p)) <= MAX_REL  # an output folder 100 characters deep stays under 260
        assert valid_everywhere(p.rsplit("/", 1)[1])


def test_long_names_are_shortened_deterministically_and_stay_apart():
    a = "一番町交番連絡協議会_" + "長" * 200 + "A"
    b = "一番町交番連絡協議会_" + "長" * 200 + "B"
    assert safe_name(a, ".docx") == safe_name(a, ".docx") != safe_name(b, ".docx")
    assert len(safe_name(a, ".docx").encode("utf-8")) <= 255 - len(EDITED_TAG.encode("utf-8"))


def test_case_and_reserved_names():
    taken = Names()
    assert taken.take("f", "Report") == "f/Report.docx"
    assert taken.take("f", "REPORT") == "f/REPORT_2.docx"  # Windows would see the same file
    assert safe_name("CON", ".docx") == "_CON.docx"
    assert safe_name("con.txt") == "_con.txt"
    assert safe_name("..\\..\\etc/passwd") not in ("", ".", "..") and "/" not in safe_name("../x")
