"""The console (issue 19): a progress bar only on a terminal, plain lines in a log, no colour when not a
terminal or when NO_COLOR is set, and columns padded by the width a terminal gives each character."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import cli
from tests.builders import AS_OF, baseline, sheets_copy, write_book

SAMPLES = Path(__file__).resolve().parents[1] / "input_samples"
ESC = "\x1b"
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colours and other character attributes


def _folder(root: Path, copies: int = 1) -> Path:
    """The samples (copies times, under other names) and a workbook with an error."""
    inp = root / "in"
    inp.mkdir(parents=True)
    for i in range(copies):
        for p in SAMPLES.glob("*.xlsx"):
            name = p.name if i == 0 or p.name == "選挙期間.xlsx" else f"写{i}-{p.name}"
            shutil.copy(p, inp / name)
    sheets = sheets_copy(baseline())
    sheets["委員"][3]["性別"] = "不明"  # bad-choice: an error line, which a terminal shows in colour
    write_book(inp / "誤り署.xlsx", sheets)
    return inp


def _args(inp: Path, out: Path, command: str = "reports") -> list[str]:
    return [command, "--input", str(inp), "--output", str(out), "--as-of", AS_OF.isoformat()]


@pytest.fixture
def plain_env(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)


def test_redirected_output_has_no_carriage_return_and_no_escape(tmp_path, plain_env):
    """A scheduled task's log: stdout and stderr are files. Enough workbooks for a progress display."""
    inp = _folder(tmp_path, copies=2)
    out_file, err_file = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_file.open("wb") as so, err_file.open("wb") as se:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", *_args(inp, tmp_path / "out")],
            stdout=so, stderr=se, stdin=subprocess.DEVNULL, timeout=600, env=os.environ | {"PYTHONIOENCODING": "utf-8"},
        )  # fmt: skip
    assert done.returncode == 1  # the planted error
    stdout, stderr = out_file.read_text("utf-8"), err_file.read_text("utf-8")
    assert "bad-choice" in stdout and "県集計" in stdout
    for text in (stdout, stderr):
        assert "\r" not in text
        assert ESC not in text
    for line in stderr.splitlines():  # progress, if the run took long enough to show any: one step a line
        if line.startswith("["):
            assert re.fullmatch(r"\[\d+/\d+\] .+", line)


def test_progress_in_a_log_is_one_plain_line_per_step(tmp_path, plain_env, monkeypatch):
    monkeypatch.setattr(cli, "QUIET_S", 0)  # every run shows its progress
    inp = _folder(tmp_path)
    out_file, err_file = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_file.open("w", encoding="utf-8") as so, err_file.open("w", encoding="utf-8") as se:
        monkeypatch.setattr(sys, "stdout", so)
        monkeypatch.setattr(sys, "stderr", se)
        code = cli.main(_args(inp, tmp_path / "out"))
        monkeypatch.undo()
    assert code == 1
    stderr = err_file.read_text("utf-8")
    steps = [line for line in stderr.splitlines() if line.startswith("[")]
    stations = len(list(inp.glob("*.xlsx"))) - 1  # 選挙期間.xlsx is not a step
    assert [s.split("]")[0] for s in steps] == [f"[{i}/{2 * stations}" for i in range(1, 2 * stations + 1)]
    assert "\r" not in stderr and ESC not in stderr + out_file.read_text("utf-8")


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; what the terminal received."""
    import pty

    master, slave = pty.openpty()
    code = "import sys, pipeline.cli as c; c.QUIET_S = 0; sys.exit(c.main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=600)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_gets_a_bar_and_colour_unless_no_color(tmp_path):
    inp = _folder(tmp_path)
    skip = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env |= {"TERM": "xterm-256color", "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"}
    shown = _on_a_terminal(_args(inp, tmp_path / "out1"), env)
    assert "━" in shown or "█" in shown  # rich's bar
    assert COLOUR.search(shown)  # the error line in colour
    assert "bad-choice" in shown
    plain = _on_a_terminal(_args(inp, tmp_path / "out2"), env | {"NO_COLOR": "1"})
    assert "bad-choice" in plain
    assert not COLOUR.search(plain)


# (text, width, what the terminal shows: text then spaces to the width). Widths by hand: a CJK or full-width
# character takes two columns, a half-width katakana one, a combining voiced sound mark none.
PADS = [
    ("警察署", 10, "警察署    "),
    ("Ａ1", 6, "Ａ1   "),
    ("ｶﾞ", 4, "ｶﾞ  "),
    ("カ\u3099", 6, "カ\u3099    "),  # カ + combining ゛, as some systems write ガ
    ("e\u0301", 3, "e\u0301  "),
    ("協議会!B5", 12, "協議会!B5   "),
]


@pytest.mark.parametrize("text,width,expected", PADS, ids=[p[0] for p in PADS])
def test_padding_counts_the_columns_a_terminal_shows(text, width, expected):
    assert cli.pad(text, width) == expected
    assert cli.pad(text, width, right=True) == " " * (len(expected) - len(text)) + text
