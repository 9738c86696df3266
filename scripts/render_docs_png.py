"""Render one sample of each form to docs/*.png (LibreOffice + pdftoppm), to look at them and show them."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.pdf import convert  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.validate import Options  # noqa: E402

PICK = {
    "form1-commission.png": "仙台中央警察署/委嘱状/一番町交番連絡協議会_",
    "form2-establishment.png": "仙台中央警察署/設置報告書/一番町交番連絡協議会",
    "form3-meeting.png": "仙台中央警察署/開催結果報告書/一番町交番連絡協議会_",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        report = run(ROOT / "input_samples", out, Options(as_of=dt.date(2026, 11, 27)))
        docs = [d.path for w in report.workbooks for d in w.documents if d.status == "written"]
        chosen = {png: out / next(p for p in sorted(docs) if p.startswith(prefix)) for png, prefix in PICK.items()}
        pdfs = convert(list(chosen.values()))
        for png, docx in chosen.items():
            target = ROOT / "docs" / png
            subprocess.run(
                ["pdftoppm", "-r", "70", "-png", "-singlefile", str(pdfs[docx]), str(target.with_suffix(""))],
                check=True,
            )
            print(f"wrote {target.relative_to(ROOT)} from {docx.relative_to(out)}")


if __name__ == "__main__":
    main()
