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
import threading
import time
from pathlib import Path

from docxtpl import DocxTemplate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.checking.result import Options  # noqa: E402
from pipeline.checking.validate import validate_workbook  # noqa: E402
from pipeline.documents.form_fields import template_context  # noqa: E402
from pipeline.documents.plan import plan_documents  # noqa: E402
from pipeline.documents.render import FORMS, TEMPLATE_DIR, make_env  # noqa: E402
from pipeline.run.steps import PARALLEL_MIN  # noqa: E402
from scripts.samplegen import CouncilPlan, plan_rows, write_workbook  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
STATIONS = 24
COUNCILS_PER_STATION = 13
BIG_STATIONS = 240
BIG_MEMBERS = 50_000
# SPEC section 7 targets on the 2-core development machine (revised 2026-12-05: the first run against the I/O
# floor; the plain-loop ratio is reported, no longer a target; re-runs with the import floor off both sides).
TARGET_IO_FLOOR = 2.5
TARGET_UNCHANGED = 0.05
TARGET_ONE_CHANGED = 0.15
TARGET_SCALE = 11.0
TARGET_TREE_MIB = 300
TARGET_BIG_BOOK_S = 10.0
TARGET_GROWTH = 3.0  # twice the member rows: at most three times the CPU time (linear, with room for noise)


def build_prefecture(folder: Path, stations: int = STATIONS) -> None:
    """stations x 13 councils x 10 members, two 定例 meetings a 年度 and some 臨時."""
    for s in range(stations):
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


def build_big_book(folder: Path, members: int = BIG_MEMBERS) -> Path:
    """One workbook whose 委員 sheet has `members` rows (5,000 councils of 10), written in write-only mode."""
    from openpyxl import Workbook

    councils = members // 10
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("署")
    ws.append(["警察署名", "大規模警察署"])
    ws = wb.create_sheet("協議会")
    ws.append(["協議会ID", "名称", "種別", "交番等", "交番等区分", "所管区名", "設置日", "運営責任者職名",
               "運営責任者階級", "運営責任者氏名"])  # fmt: skip
    for c in range(councils):
        ws.append([f"C{c}", f"第{c}交番連絡協議会", "所管区", f"第{c}交番", "交番", f"第{c}交番所管区",
                   dt.date(2024, 4, 1), "交番所長", "警部補", "宮城　太郎"])  # fmt: skip
    ws = wb.create_sheet("委員")
    ws.append(["協議会ID", "氏名", "性別", "生年月日", "職業", "役職", "区分", "公職", "委嘱日", "任期満了日"])
    cats = ["自治会等役員", "自治体・公的機関職員", "公益的団体関係者", "ボランティア団体関係者", "その他"]
    for i in range(members):
        c = i // 10
        ws.append([f"C{c}", f"委員{i}　太郎", "男女"[i % 2], dt.date(1950 + i % 40, 1 + i % 12, 1 + i % 28), "会社員",
                   "会長" if i % 10 == 0 else "委員", cats[i % 5], "無", dt.date(2026, 4, 1), dt.date(2028, 3, 31)])  # fmt: skip
    ws = wb.create_sheet("会議")
    ws.append(["会議ID", "協議会ID", "会議種別", "回次", "開催日", "開催場所", "参加委員数", "参加警察官数",
               "報告者交番等", "報告者階級", "報告者氏名"])  # fmt: skip
    for c in range(councils):
        for fy in (2024, 2025, 2026):
            ws.append([f"M{c}-{fy}", f"C{c}", "定例", 1, dt.date(fy, 6, 10), "交番", 8, 2, f"第{c}交番", "巡査部長",
                       "宮城　次郎"])  # fmt: skip
    path = folder / "大規模警察署.xlsx"
    wb.save(path)
    return path


CHILD_ENV = dict(os.environ)


def installed_like() -> None:
    """Run the CLI as an installed wheel runs: pip byte-compiles the package when it installs it, while this
    checkout is an editable install and the environment may set PYTHONDONTWRITEBYTECODE, which would make
    every run compile the package's modules again (about 0.05 s a run). The .pyc files go where Python puts
    them (pipeline/__pycache__, ignored by git); the libraries in the venv were compiled by pip."""
    CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pipeline")], env=CHILD_ENV, check=True)


def import_seconds(modules: str) -> float:
    """Wall time of a fresh interpreter that imports modules (best of three)."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {modules}"], env=CHILD_ENV, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def settle() -> None:
    """Let the kernel write out what the previous step wrote before timing the next one: tens of thousands of
    files are still being written back for seconds, which slowed whichever run came next by up to 40 %."""
    if hasattr(os, "sync"):
        os.sync()
    time.sleep(0.5)


def run_cli(inp: Path, out: Path, command: str = "reports") -> tuple[float, int, int]:
    """The real command in a child process: wall time, the largest single process's peak RSS (KiB)
    and the peak of the whole process tree (pool workers included), sampled every 20 ms by a thread, so the
    sampling (a walk over /proc) neither delays nor rounds the time taken."""
    cmd = [sys.executable, "-m", "pipeline", command, "--input", str(inp), "--output", str(out), "--as-of", str(AS_OF)]
    settle()
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"pipeline failed:\n{err}")
    single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, single, peak[0]


def contexts(inp: Path) -> list[tuple[str, dict]]:
    """The same records the pipeline renders, as (form, context) pairs."""
    out = []
    for path in sorted(inp.glob("*.xlsx")):
        result = validate_workbook(path, Options(as_of=AS_OF))
        for plan in plan_documents(result.book, result.findings, result.canon, "x"):
            if plan.build is not None:
                form = plan.document.form
                out.append((form, template_context(form, plan.build())))  # the names the templates use
    return out


def plain_docxtpl(items: list[tuple[str, dict]], out: Path) -> float:
    """The baseline: a new DocxTemplate per document, render, save."""
    env = make_env()
    out.mkdir(parents=True, exist_ok=True)
    settle()
    t0 = time.perf_counter()
    for i, (form, ctx) in enumerate(items):
        tpl = DocxTemplate(TEMPLATE_DIR / FORMS[form])
        tpl.render(ctx, jinja_env=env, autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
        (out / f"{i:06d}.docx").write_bytes(buf.getvalue())
    return time.perf_counter() - t0


def _validation_seconds(path: Path) -> tuple[float, float]:
    """CPU seconds of validate_workbook, and of the part after reading the workbook (types, model, rules)."""
    import gc

    from pipeline.checking import validate

    reading = []
    read = validate.read_workbook

    def timed_read(*args, **kwargs):
        start = time.process_time()
        try:
            return read(*args, **kwargs)
        finally:
            reading.append(time.process_time() - start)

    gc.collect()
    validate.read_workbook = timed_read
    try:
        start = time.process_time()  # CPU time: the machine is shared, wall-clock time is noisy
        result = validate.validate_workbook(path, Options(as_of=AS_OF))
        seconds = time.process_time() - start
    finally:
        validate.read_workbook = read
    assert result.book is not None and len(result.book.members) > 1000
    return seconds, seconds - sum(reading)


def validation_growth(folder: Path) -> tuple[float, float, float, float]:
    """Validation of 20,000 and 40,000 member rows (the best of two runs each: a busy machine only ever
    makes a run slower): twice the rows must not take four times the time (a quadratic rule)."""
    from tests.test_scale import write  # the realistic scale workbook, with planted findings

    small = write(folder / "small" / "署.xlsx", 20_000)
    large = write(folder / "large" / "署.xlsx", 40_000)
    _validation_seconds(small)  # warm up imports and caches
    t_small, rest_small = map(min, zip(*(_validation_seconds(small) for _ in range(2)), strict=True))
    t_large, rest_large = map(min, zip(*(_validation_seconds(large) for _ in range(2)), strict=True))
    return t_small, t_large, rest_small, rest_large


def _write_files(job: tuple[Path, list[tuple[str, bytes]]]) -> None:
    """In a worker: the files of one share, each written to a temporary file and renamed into place."""
    root, files = job
    for rel, data in files:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)


def io_floor(out: Path, floor_out: Path) -> float:
    """The physical floor of a first run: two processes write the same output files, their bytes already in
    memory (read before the clock starts), with a temporary file and a rename each, as the pipeline writes."""
    from concurrent.futures import ProcessPoolExecutor

    files = [(str(p.relative_to(out)), p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()]
    files = [(rel, data) for rel, data in files if not rel.startswith(".")]
    shares = [(floor_out, files[i::2]) for i in range(2)]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_write_files, [(floor_out, [])] * 2))  # the workers started before the clock
        settle()
        t0 = time.perf_counter()
        list(pool.map(_write_files, shares))
        return time.perf_counter() - t0


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keep", type=Path, help="keep the synthetic input and output here")
    ap.add_argument("--quick", action="store_true", help="skip the 240-station prefecture and the 50,000-member book")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = args.keep or Path(tmp)
        inp, out, plain_out = root / "input", root / "output", root / "plain"
        inp.mkdir(parents=True, exist_ok=True)
        installed_like()
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
        # One of the 24 workbooks changes (re-saved with another 署長): only it is worked out again.
        changed = sorted(inp.glob("*.xlsx"))[0]
        from openpyxl import load_workbook

        wb = load_workbook(changed)
        wb["署"]["B2"] = "宮城　次長"
        wb.save(changed)
        one, _, _ = run_cli(inp, out)
        plain = plain_docxtpl(items, plain_out)
        floor = io_floor(out, root / "floor")

        rows = [
            ("pipeline first run (validate+render+write)", first, f"{docs / first:.0f} docs/s"),
            ("plain docxtpl loop (render+save)", plain, f"{docs / plain:.0f} docs/s"),
            ("pipeline re-run, nothing changed", again, f"{again / first:.1%} of the first run"),
            ("pipeline re-run, 1 of 24 workbooks changed", one, f"{one / first:.1%} of the first run"),
            ("I/O floor (2 processes write the same files)", floor, f"first run = {first / floor:.1f}x the floor"),
        ]
        print()
        print(f"{'':46}{'seconds':>9}  ")
        for label, secs, note in rows:
            print(f"{label:46}{secs:>9.2f}  {note}")
        start = import_seconds("pipeline.cli")
        heavy = import_seconds("pipeline.cli, pipeline.checking.validate, pipeline.documents.render")
        print()
        print(f"documents: {docs} rendered by each; pipeline wrote {written} files")
        print(
            f"a fresh interpreter: {start:.2f} s to start the CLI; {heavy:.2f} s with what validating and rendering "
            f"import (pandas, pandera, openpyxl, docxtpl): the floor of any run that validates a workbook"
        )
        tree_24 = max(tree_first, tree_again) / 1024
        print(f"peak memory, largest single process (max RSS): {max(single_first, single_again) / 1024:.0f} MiB")
        print(f"peak memory, whole process tree incl. workers (sampled): {tree_24:.0f} MiB")
        print(f"cores used: {os.cpu_count()} (process pool from {PARALLEL_MIN} workbooks)")
        targets = [
            (f"first run against the I/O floor: {first / floor:.1f}x (target <= {TARGET_IO_FLOOR}x; "
             f"the plain docxtpl loop is {plain / first:.1f}x slower than the pipeline, reported only)",
             first / floor <= TARGET_IO_FLOOR),
            (f"re-run, nothing changed: {again / first:.1%} (target <= {TARGET_UNCHANGED:.0%})",
             again / first <= TARGET_UNCHANGED),
            (f"re-run, one of 24 changed, import floor off both sides: {(one - heavy) / (first - heavy):.1%} "
             f"(target <= {TARGET_ONE_CHANGED:.0%}; {one / first:.1%} with it)",
             (one - heavy) / (first - heavy) <= TARGET_ONE_CHANGED),
            (f"whole-tree peak memory, 24 stations: {tree_24:.0f} MiB (target <= {TARGET_TREE_MIB} MiB)",
             tree_24 <= TARGET_TREE_MIB),
        ]  # fmt: skip
        t_small, t_large, rest_small, rest_large = validation_growth(root / "growth")
        print(
            f"validation of 20,000 / 40,000 member rows (CPU): {t_small:.2f} s / {t_large:.2f} s, "
            f"after reading {rest_small:.2f} s / {rest_large:.2f} s"
        )
        targets += [
            (f"validation, twice the rows: {t_large / t_small:.1f}x the CPU time (target < {TARGET_GROWTH:.0f}x)",
             t_large < TARGET_GROWTH * t_small),
            (f"rules after reading, twice the rows: {rest_large / rest_small:.1f}x (target < {TARGET_GROWTH:.0f}x)",
             rest_large < TARGET_GROWTH * rest_small),
        ]  # fmt: skip
        if not args.quick:
            big_in, big_out = root / "input240", root / "output240"
            big_in.mkdir(exist_ok=True)
            build_prefecture(big_in, BIG_STATIONS)
            big, _, big_tree = run_cli(big_in, big_out)
            print(f"240-station prefecture: {big:.1f} s, whole-tree peak {big_tree / 1024:.0f} MiB")
            targets += [
                (f"240 stations / 24 stations: {big / first:.1f}x (target <= {TARGET_SCALE:.0f}x)",
                 big / first <= TARGET_SCALE),
                (f"whole-tree peak memory, 240 stations: {big_tree / 1024:.0f} MiB (target <= {TARGET_TREE_MIB} MiB, "
                 f"flat: {big_tree / max(tree_24 * 1024, 1):.2f}x of 24)", big_tree / 1024 <= TARGET_TREE_MIB),
            ]  # fmt: skip
            book_dir = root / "bigbook"
            book_dir.mkdir(exist_ok=True)
            build_big_book(book_dir)
            secs, _, book_tree = run_cli(book_dir, root / "bigbook-out", "check")
            targets += [
                (f"{BIG_MEMBERS:,}-member workbook, check: {secs:.1f} s (target <= {TARGET_BIG_BOOK_S:.0f} s)",
                 secs <= TARGET_BIG_BOOK_S),
                (f"{BIG_MEMBERS:,}-member workbook, peak memory: {book_tree / 1024:.0f} MiB "
                 f"(target <= {TARGET_TREE_MIB} MiB)", book_tree / 1024 <= TARGET_TREE_MIB),
            ]  # fmt: skip
        print()
        for text, ok in targets:
            print(f"[{_verdict(ok):>7}] {text}")


if __name__ == "__main__":
    main()
