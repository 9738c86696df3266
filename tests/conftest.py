"""Shared test settings: the run's clock is fixed, so outputs compared across runs differ only by what changed."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fixed_run_clock():
    """Pages and 検証結果.xlsx say when their run ran (clock.stamp, to the minute): two runs a test compares
    could otherwise straddle a minute. SOURCE_DATE_EPOCH is how the product itself fixes the clock
    (2026-12-01 08:30 in Japan); session-wide, so module fixtures see it too; tests of the real clock remove it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1796081400")
        yield
