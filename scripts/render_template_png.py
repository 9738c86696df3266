"""Render the exported 委嘱状 template (the placeholders as a clerk sees them in Word) to docs/form1-template.png."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.documents.form_templates import export  # noqa: E402
from pipeline.documents.pdf import convert  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        export(out / "様式")
        docx = out / "様式" / "委嘱状.docx"
        pdf = convert([docx])[docx]
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", str(pdf), str(out / "page")], check=True)
        target = ROOT / "docs" / "form1-template.png"
        target.write_bytes((out / "page.png").read_bytes())
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
