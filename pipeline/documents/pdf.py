"""PDF export with LibreOffice headless (one process per batch) and per-station print bundles."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from importlib import resources
from pathlib import Path

from pipeline.core import version
from pipeline.core.write import atomic_write

INSTALL_HINT = (
    "PDFを作るには LibreOffice が必要です。Windows では https://ja.libreoffice.org/ から入手してインストールし、"
    "Debian/Ubuntu では `sudo apt-get install libreoffice-writer-nogui fonts-ipaexfont-mincho` を実行してください。"
    "Wordファイル（.docx）はいつもどおり作成済みです。"
)
BUNDLE_DIR = "印刷用"
START_TIMEOUT_S = 60  # `soffice --version`: a LibreOffice that cannot start is found at once, not after a chunk
CHUNK = 100
CHUNK_BASE_S, PER_FILE_S = 60, 10  # a chunk's time limit grows with its size


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
    _can_start(exe)
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


def _can_start(exe: str) -> None:
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, timeout=START_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PdfUnavailable(
            f"LibreOffice（{exe}）を起動できませんでした（{type(e).__name__}）。{INSTALL_HINT}"
        ) from None
    if done.returncode != 0:
        raise PdfUnavailable(
            f"LibreOffice（{exe}）を起動できませんでした（終了コード {done.returncode}）。{INSTALL_HINT}"
        )


def _soffice(exe: str, work: Path, out_dir: Path, files: list[Path]) -> None:
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(work))}
    cmd = [
        exe, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={(work / 'profile').as_uri()}",
        "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, files),
    ]  # fmt: skip
    try:
        subprocess.run(cmd, check=False, capture_output=True, timeout=CHUNK_BASE_S + PER_FILE_S * len(files), env=env)
    except subprocess.TimeoutExpired:
        raise PdfUnavailable(
            f"LibreOffice が {len(files)} 件の変換を時間内に終えませんでした。LibreOffice を一度終了してから、"
            "もう一度実行してください。Wordファイル（.docx）は作成済みです。"
        ) from None


def bundle(pdfs: list[Path], target: Path) -> None:
    """Concatenate PDFs into one print bundle."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for p in pdfs:
        writer.append(str(p))
    buf = io.BytesIO()
    writer.write(buf)
    atomic_write(target, buf.getvalue())


ROLE_RANK = {"会長": 0, "副会長": 1}


def _print_order(wr, d) -> tuple:
    """Workbook order: council by council; within a council 会長, 副会長, then the others in row order."""
    book = wr.result.book
    council_index = {c.id: i for i, c in enumerate(book.councils)}
    sheet, row = d.source or ("", 0)
    if sheet == "委員":
        m = next((m for m in book.members if m.row == row), None)
        if m is not None:
            return (council_index.get(m.council_id, 1 << 30), ROLE_RANK.get(m.role_key or "", 2), row)
    if sheet == "会議":
        mt = next((mt for mt in book.meetings if mt.row == row), None)
        if mt is not None:
            return (council_index.get(mt.council_id, 1 << 30), 0, row)
    return (council_index.get(next((c.id for c in book.councils if c.row == row), None), 1 << 30), 0, row)


def _current(output: Path, d) -> list[Path]:
    """The .docx files that are current for a document: the clerk's edited file, and its 新版 if any."""
    if d.status not in ("written", "unchanged", "kept-edited"):
        return []
    paths = [output / d.path] + ([output / d.new_path] if d.new_path else [])
    return [p for p in paths if p.is_file()]


def _stale(docx: Path, made_by: dict[str, str] | None = None, output: Path | None = None) -> bool:
    """Missing, older than its .docx, or made by another output version of the program (an upgrade)."""
    pdf = docx.with_suffix(".pdf")
    if not pdf.exists() or pdf.stat().st_mtime < docx.stat().st_mtime:
        return True
    if made_by is None or output is None:
        return False
    return made_by.get(pdf.relative_to(output).as_posix()) != version.output_version()


PDF_VERSIONS = ".kobankyo-cache/pdf-versions.json"  # PDF -> the output version that converted it


def _made_by(output: Path) -> dict[str, str]:
    try:
        data = json.loads((output / PDF_VERSIONS).read_text("utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _note_made(output: Path, made_by: dict[str, str], pdfs: dict[Path, Path]) -> None:
    now = version.output_version()
    for pdf in pdfs.values():
        made_by[pdf.relative_to(output).as_posix()] = now
    try:
        atomic_write(output / PDF_VERSIONS, json.dumps(made_by, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    except OSError:
        pass  # the next run then keeps those PDFs as current, as before the note existed


def export_pdfs(report, output: Path, started: dt.datetime | None = None) -> str:
    """PDFs for every current document whose PDF is missing or older than the .docx (hand-edited ones too),
    and per station and form one print bundle of the documents written or changed in this run, in
    workbook order, named with the run's date and time."""
    started = started or dt.datetime.now()
    since = started.timestamp()  # a file this run wrote (a 新版, say) is no older than the run
    current = [
        (wr, d, p) for wr in report.workbooks if wr.result.has_book for d in wr.documents for p in _current(output, d)
    ]
    made_by = _made_by(output)
    todo = [p for _, _, p in current if _stale(p, made_by, output)]
    if not current:
        return "PDF: PDFにする文書はありません。"
    try:
        pdfs = convert(todo)
    except PdfUnavailable as e:
        return f"PDF: {e}"
    if pdfs:
        _note_made(output, made_by, pdfs)
    # Taken from the run record (cached): nothing of that workbook was written in this run.
    changed = [
        (wr, d, p) for wr, d, p in current if not wr.cached and (d.status == "written" or p.stat().st_mtime >= since)
    ]
    groups: dict[tuple[str, str], list[tuple[tuple, Path]]] = defaultdict(list)
    for wr, d, p in changed:
        pdf = p.with_suffix(".pdf")
        if pdf.exists():
            groups[(wr.folder, d.form)].append((_print_order(wr, d), pdf))
    lines = [f"PDF: {len(pdfs)}件を作成しました（最新のPDFがある {len(current) - len(todo)}件はそのまま）。"]
    stamp = started.strftime("%Y%m%d-%H%M%S")
    for (folder, form), files in sorted(groups.items()):
        target = output / folder / BUNDLE_DIR / f"{form}_印刷用_{stamp}.pdf"
        bundle([pdf for _, pdf in sorted(files)], target)
        lines.append(f"印刷用まとめ（この実行で作成・変更した文書）: {target}（{len(files)}件）")
    missing = len(todo) - len(pdfs)
    if missing:
        lines.append(f"PDF: {missing}件は変換できませんでした。")
    return "\n".join(lines)
