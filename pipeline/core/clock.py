"""The run's clock: today in Japan for the default as-of date, and the time a run made its outputs."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")  # tzdata (a dependency) carries it where the OS does not (Windows)


def now() -> dt.datetime:
    """Now in Japan, timezone-aware. SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds
    convention) fixes it, so that a test or an audit can make two runs byte for byte alike."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if fixed.isdigit():
        return dt.datetime.fromtimestamp(int(fixed), JAPAN)
    return dt.datetime.now(JAPAN)


def today() -> dt.date:
    """Today's date in Japan, whatever the machine's own time zone: a meeting held this morning in Miyagi is
    not in the future on a machine that keeps UTC."""
    return now().date()


def stamp(t: dt.datetime) -> str:
    """How pages and copies say when a run made them: 2026年12月5日 08:00."""
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"
