"""Render a sample of each form and its extreme cases to docs/*.png (LibreOffice + pdftoppm), to look at them."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.checking.result import Options  # noqa: E402
from pipeline.documents import forms  # noqa: E402
from pipeline.documents.pdf import convert  # noqa: E402
from pipeline.documents.render import load_templates  # noqa: E402
from pipeline.run.steps import run  # noqa: E402
from tests.form_cases import contexts  # noqa: E402

PICK = {
    "form1-commission.png": "仙台中央警察署/委嘱状/一番町交番連絡協議会_",
    "form2-establishment.png": "仙台中央警察署/設置報告書/一番町交番連絡協議会",
    "form3-meeting.png": "仙台中央警察署/開催結果報告書/一番町交番連絡協議会_",
}
# The limits of SPEC section 5 (tests/form_cases.py): png name -> case.
EXTREMES = {
    "form1-extreme.png": "form1-extreme",
    "form2-extreme.png": "form2-extreme",
    "form3-limit.png": "form3-limit",
    "form3-bessi.png": "form3-bessi",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        report = run(ROOT / "input_samples", out, Options(as_of=dt.date(2026, 11, 27)))
        docs = [d.path for w in report.workbooks for d in w.documents if d.status == "written"]
        chosen = {png: out / next(p for p in sorted(docs) if p.startswith(prefix)) for png, prefix in PICK.items()}
        templates = load_templates(fields=forms.FIELDS)
        cases = contexts()
        for png, case in EXTREMES.items():
            form, ctx = cases[case]
            chosen[png] = out / f"{case}.docx"
            chosen[png].write_bytes(templates[form].render(ctx))
        pdfs = convert(list(chosen.values()))
        for png, docx in chosen.items():
            target = ROOT / "docs" / png
            # A form with a 別紙: page 1 as name.png, page k as name-k.png.
            cmd = ["pdftoppm", "-r", "70", "-png", str(pdfs[docx]), str(out / target.stem)]
            subprocess.run(cmd, check=True)
            pages = sorted(out.glob(f"{target.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
            for k, page in enumerate(pages, 1):
                dest = target if k == 1 else target.with_name(f"{target.stem}-{k}.png")
                dest.write_bytes(page.read_bytes())
                print(f"wrote {dest.relative_to(ROOT)} from {docx.relative_to(out)} page {k}")


if __name__ == "__main__":
    main()
