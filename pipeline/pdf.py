"""PDF export with LibreOffice headless (one process per batch) and per-station print bundles."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from importlib import resources
from pathlib import Path

from .write import atomic_write

INSTALL_HINT = (
    "PDFを作るには LibreOffice が必要です。Windows では https://ja.libreoffice.org/ から入手してインストールし、"
    "Debian/Ubuntu では `sudo apt-get install libreoffice-writer-nogui fonts-ipaexfont-mincho` を実行してください。"
    "Wordファイル（.docx）はいつもどおり作成済みです。"
)
BUNDLE_DIR = "印刷用"
TIMEOUT_S = 1800
CHUNK = 100


class PdfUnavailable(Exception):
    pass


SYSTEM_FONTS_CONF = ("/etc/fonts/fonts.conf", "/usr/local/etc/fonts/fonts.conf", "/opt/homebrew/etc/fonts/fonts.conf")


def soffice() -> str | None:
    """LibreOffice: $LIBREOFFICE or $SOFFICE, then PATH, then (Windows) its usual install folders."""
    for var in ("LIBREOFFICE", "SOFFICE"):
        exe = os.environ.get(var)
        if exe and Path(exe).is_file():
            return exe
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if _on_windows():
        for var in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"):
            base = os.environ.get(var)
            if base:
                exe = Path(base) / "LibreOffice" / "program" / "soffice.exe"
                if exe.is_file():
                    return str(exe)
    return None


def _on_windows() -> bool:
    return os.name == "nt"


def fontconfig_file(work: Path) -> Path:
    """A fontconfig file for LibreOffice: the system's configuration plus the package's ＭＳ 明朝 → IPA明朝 alias."""
    alias = Path(str(resources.files("pipeline.resources").joinpath("fonts.conf")))
    system = next((c for c in [os.environ.get("FONTCONFIG_FILE"), *SYSTEM_FONTS_CONF] if c and Path(c).is_file()), None)
    include = f'<include ignore_missing="yes">{_xml_text(system)}</include>' if system else ""
    conf = work / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>{include}<include>{_xml_text(str(alias))}</include></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def convert(docx_files: list[Path]) -> dict[Path, Path]:
    """Convert the files with one soffice process per chunk; returns source -> PDF written beside it."""
    exe = soffice()
    if exe is None:
        raise PdfUnavailable(INSTALL_HINT)
    if not docx_files:
        return {}
    with tempfile.TemporaryDirectory(prefix="pipeline-pdf-") as tmp:
        work = Path(tmp)
        src_dir, out_dir = work / "in", work / "out"
        src_dir.mkdir()
        # Unique ASCII names: two folders may hold documents with the same name.
        staged = {}
        for i, p in enumerate(docx_files):
            name = f"{i:06d}.docx"
            shutil.copyfile(p, src_dir / name)
            staged[name] = p
        names = sorted(staged)
        # One soffice process per chunk: a single call stops silently after a few hundred files
        # (seen with LibreOffice 7.4.7: 246 of 363), so large batches are split, and anything still
        # missing is tried once more.
        for _attempt in range(2):
            todo = [n for n in names if not (out_dir / (Path(n).stem + ".pdf")).exists()]
            for i in range(0, len(todo), CHUNK):
                _soffice(exe, work, out_dir, [src_dir / n for n in todo[i : i + CHUNK]])
        result = {}
        for name, source in staged.items():
            pdf = out_dir / (Path(name).stem + ".pdf")
            if pdf.exists():
                target = source.with_suffix(".pdf")
                atomic_write(target, pdf.read_bytes())
                result[source] = target
        return result


def _soffice(exe: str, work: Path, out_dir: Path, files: list[Path]) -> None:
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(work))}
    cmd = [
        exe, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={(work / 'profile').as_uri()}",
        "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, files),
    ]  # fmt: skip
    try:
        subprocess.run(cmd, check=False, capture_output=True, timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise PdfUnavailable("LibreOffice が時間内に終わりませんでした。") from None


def bundle(pdfs: list[Path], target: Path) -> None:
    """Concatenate PDFs into one print bundle."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for p in pdfs:
        writer.append(str(p))
    buf = io.BytesIO()
    writer.write(buf)
    atomic_write(target, buf.getvalue())


def export_pdfs(report, output: Path) -> str:
    """PDFs of the documents written in this run, and one bundle per station and form."""
    written = [(wr, d) for wr in report.workbooks for d in wr.documents if d.status == "written"]
    if not written:
        return "PDF: この実行で新しく作成・更新した文書はありません。"
    try:
        pdfs = convert([output / d.path for _, d in written])
    except PdfUnavailable as e:
        return f"PDF: {e}"
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for wr, d in written:
        pdf = pdfs.get(output / d.path)
        if pdf is not None:
            groups[(wr.folder, d.form)].append(pdf)
    lines = [f"PDF: {len(pdfs)}件を作成しました。"]
    for (folder, form), files in sorted(groups.items()):
        target = output / folder / BUNDLE_DIR / f"{form}_印刷用.pdf"
        bundle(sorted(files), target)
        lines.append(f"印刷用まとめ: {target}（{len(files)}件）")
    missing = len(written) - len(pdfs)
    if missing:
        lines.append(f"PDF: {missing}件は変換できませんでした。")
    return "\n".join(lines)
