"""Render docs/overview.png and docs/overview-index.png from the sample workbooks with headless Chromium."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.checking.result import Options  # noqa: E402
from pipeline.core.write import INDEX, OVERVIEW  # noqa: E402
from pipeline.overview.pages import write_overview  # noqa: E402
from pipeline.run.steps import run  # noqa: E402

AS_OF = dt.date(2026, 11, 27)  # the as-of date the samples and tests use
STATION = "仙台中央警察署"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def screenshot(browser: str, page: Path, png: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size=1000,{height}",
             page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("chromium is needed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        report = run(ROOT / "input_samples", out, Options(as_of=AS_OF), documents=True)
        write_overview(report, out)
        screenshot(browser, out / STATION / OVERVIEW, ROOT / "docs" / "overview.png", 1450)
        screenshot(browser, out / INDEX, ROOT / "docs" / "overview-index.png", 560)
    print("docs/overview.png, docs/overview-index.png")


if __name__ == "__main__":
    main()
