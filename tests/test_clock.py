"""The default as-of date is today in Japan, whatever the machine's time zone; SOURCE_DATE_EPOCH fixes the clock."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.core import clock
from tests.builders import baseline, meeting, write_book

ROOT = Path(__file__).resolve().parents[1]


def test_source_date_epoch_fixes_the_clock(monkeypatch):
    epoch = int(dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC).timestamp())  # still the 30th in UTC
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    assert clock.now() == dt.datetime(2026, 12, 1, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert clock.today() == dt.date(2026, 12, 1)
    assert clock.stamp(clock.now()) == "2026年12月1日 08:30"


def test_a_meeting_held_this_morning_in_japan_is_not_in_the_future_on_a_utc_minus_12_machine(tmp_path):
    """A machine 21 hours behind Japan (TZ=Etc/GMT+12) still takes Japan's date as the default as-of date."""
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    sheets = baseline()
    sheets["会議"].append(meeting("M9", today, 会議種別="臨時", 回次=None, 報告日=None, 参加委員数=1))
    write_book(tmp_path / "in" / "テスト署.xlsx", sheets)
    env = {**os.environ, "TZ": "Etc/GMT+12"}
    env.pop("SOURCE_DATE_EPOCH", None)
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "check",
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=300)
    report = json.loads((tmp_path / "out" / "検証結果.json").read_text("utf-8"))
    if report["as_of"] != today.isoformat():  # the day turned in Japan between the two reads: try once more
        today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert report["as_of"] == today.isoformat(), done.stdout.decode()
    rules = {f["rule"] for w in report["workbooks"] for f in w["findings"]}
    assert "future-meeting" not in rules
