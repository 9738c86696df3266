"""Finding LibreOffice (PATH, env var, Windows install folders) and the fontconfig file for the PDF step."""

from __future__ import annotations

from pathlib import Path

import pipeline
from pipeline.documents import pdf


def _no_path(monkeypatch):
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    for var in ("LIBREOFFICE", "SOFFICE", "ProgramFiles", "ProgramW6432", "ProgramFiles(x86)"):
        monkeypatch.delenv(var, raising=False)


def test_soffice_on_path(monkeypatch):
    _no_path(monkeypatch)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: "/usr/bin/soffice" if name == "soffice" else None)
    assert pdf.soffice() == "/usr/bin/soffice"


def test_soffice_from_environment_variable(monkeypatch, tmp_path):
    _no_path(monkeypatch)
    exe = tmp_path / "soffice.bin"
    exe.write_bytes(b"")
    monkeypatch.setenv("SOFFICE", str(exe))
    assert pdf.soffice() == str(exe)
    monkeypatch.setenv("SOFFICE", str(tmp_path / "missing"))
    assert pdf.soffice() is None


def test_soffice_in_the_windows_install_folders(monkeypatch, tmp_path):
    _no_path(monkeypatch)
    monkeypatch.setattr(pdf, "_on_windows", lambda: True)
    x86 = tmp_path / "Program Files (x86)"
    exe = x86 / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "Program Files"))  # no LibreOffice there
    monkeypatch.setenv("ProgramFiles(x86)", str(x86))
    assert pdf.soffice() == str(exe)


def test_no_soffice_anywhere(monkeypatch):
    _no_path(monkeypatch)
    monkeypatch.setattr(pdf, "_on_windows", lambda: True)
    assert pdf.soffice() is None


def test_fontconfig_file_includes_the_system_and_the_shipped_alias(tmp_path):
    conf = pdf.fontconfig_file(tmp_path).read_text(encoding="utf-8")
    alias = Path(pipeline.__file__).parent / "resources" / "fonts.conf"
    assert f"<include>{alias}</include>" in conf
    text = alias.read_text(encoding="utf-8")
    assert "<family>ＭＳ 明朝</family>" in text and "<family>IPAMincho</family>" in text
