"""`make bench`: a synthetic prefecture through the pipeline, against a plain docxtpl loop, in one run."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from docxtpl import DocxTemplate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.plan import plan_documents  # noqa: E402
from pipeline.render import FORMS, TEMPLATE_DIR, make_env  # noqa: E402
from pipeline.run import PARALLEL_MIN  # noqa: E402
from pipeline.validate import Options, validate_workbook  # noqa: E402
from scripts.samplegen import CouncilPlan, plan_rows, write_workbook  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
STATIONS = 24
COUNCILS_PER_STATION = 13


def build_prefecture(folder: Path) -> None:
    """24 stations x 13 councils x 10 members, two 定例 meetings a 年度 and some 臨時."""
    for s in range(STATIONS):
        station = f"宮城第{s + 1:02d}警察署"
        councils = [
            CouncilPlan(
                f"{c + 1}", f"第{c + 1}交番連絡協議会", "所管区", f"第{c + 1}交番", "交番", f"第{c + 1}交番所管区",
                dt.date(2024, 4, 1), "交番所長",
            )
            for c in range(COUNCILS_PER_STATION)
        ]  # fmt: skip
        c, m, mt, op = plan_rows(station, councils, seed=100 + s, as_of=AS_OF, first_fy=2025)
        write_workbook(
            folder / f"{station}.xlsx",
            {"警察署名": station, "署長氏名": "宮城　太郎"},
            {"協議会": c, "委員": m, "会議": mt, "意見要望": op},
        )


def _tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over a process and its descendants (Linux /proc); 0 where /proc is not there."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(d.name), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_cli(inp: Path, out: Path) -> tuple[float, int, int]:
    """The real command in a child process: wall time, the largest single process's peak RSS (KiB)
    and the peak of the whole process tree (pool workers included), sampled every 50 ms."""
    cmd = [
        sys.executable,
        "-m",
        "pipeline",
        "reports",
        "--input",
        str(inp),
        "--output",
        str(out),
        "--as-of",
        str(AS_OF),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tree_peak = 0
    while proc.poll() is None:
        tree_peak = max(tree_peak, _tree_rss_kib(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"pipeline failed:\n{proc.stderr.read()}")
    single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, single, tree_peak


def contexts(inp: Path) -> list[tuple[str, dict]]:
    """The same records the pipeline renders, as (form, context) pairs."""
    out = []
    for path in sorted(inp.glob("*.xlsx")):
        result = validate_workbook(path, Options(as_of=AS_OF))
        for plan in plan_documents(result.book, result.findings, result.canon, "x"):
            if plan.build is not None:
                out.append((plan.document.form, plan.build()))
    return out


def plain_docxtpl(items: list[tuple[str, dict]], out: Path) -> float:
    """The baseline: a new DocxTemplate per document, render, save."""
    env = make_env()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, (form, ctx) in enumerate(items):
        tpl = DocxTemplate(TEMPLATE_DIR / FORMS[form])
        tpl.render(ctx, jinja_env=env, autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
        (out / f"{i:06d}.docx").write_bytes(buf.getvalue())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keep", type=Path, help="keep the synthetic input and output here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = args.keep or Path(tmp)
        inp, out, plain_out = root / "input", root / "output", root / "plain"
        inp.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        build_prefecture(inp)
        print(f"synthetic prefecture written in {time.perf_counter() - t0:.1f} s")
        items = contexts(inp)
        councils = sum(1 for f, _ in items if f == "設置報告書")
        members = sum(1 for f, _ in items if f == "委嘱状")
        meetings = sum(1 for f, _ in items if f == "開催結果報告書")
        print(f"stations {STATIONS}, councils {councils}, member terms {members}, meetings {meetings}")
        docs = len(items)

        first, single_first, tree_first = run_cli(inp, out)
        written = sum(1 for _ in out.rglob("*.docx"))
        again, single_again, tree_again = run_cli(inp, out)
        plain = plain_docxtpl(items, plain_out)

        print()
        print(f"{'':34}{'seconds':>10}{'docs/s':>10}")
        print(f"{'pipeline (validate+render+write)':34}{first:>10.1f}{docs / first:>10.1f}")
        print(f"{'plain docxtpl loop (render+save)':34}{plain:>10.1f}{docs / plain:>10.1f}")
        print(f"{'pipeline re-run, nothing changed':34}{again:>10.1f}")
        print()
        print(f"documents: {docs} rendered by each; pipeline wrote {written} files")
        print(f"speed-up of the pipeline over the plain loop: {plain / first:.1f}x (pipeline time includes validation)")
        print(f"re-run / first run: {again / first:.2f}")
        print(f"peak memory, largest single process (max RSS): {max(single_first, single_again) / 1024:.0f} MiB")
        print(f"peak memory, whole process tree incl. workers (sampled): {max(tree_first, tree_again) / 1024:.0f} MiB")
        print(f"cores used: {os.cpu_count()} (process pool from {PARALLEL_MIN} workbooks)")


if __name__ == "__main__":
    main()
