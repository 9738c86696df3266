"""Command line: the only place that prints or picks exit codes."""

from __future__ import annotations

import argparse
import builtins
import datetime as dt
import os
import sys
import time
from collections import Counter
from pathlib import Path

from pipeline.core import clock, crash
from pipeline.core.contract import ELECTION_BOOK
from pipeline.core.errors import InstallationProblem, OutputInUse, RunFailed, TemplateProblem
from pipeline.core.findings import Severity
from pipeline.core.normalize import parse_date
from pipeline.core.terminal import clean
from pipeline.documents.plan import STATUS_LABEL
from pipeline.run import RunOptions, RunReport, reports
from pipeline.run.steps import annotated_path

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2
ELECTION_XLS = ELECTION_BOOK.removesuffix(".xlsx") + ".xls"  # the shared election list kept as .xls


def print(*args, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:
    """Every line the CLI prints, without control characters: file names and workbook text can hold
    terminal escapes (retitle the window, clear the screen)."""
    builtins.print(*(clean(str(a)) for a in args), sep=sep, end=end, file=file, flush=flush)


class ArgError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit with its own English text
        raise ArgError(message)


def _date(s: str) -> dt.date:
    """--as-of accepts what a date cell accepts: 2026-11-27, 令和8年11月27日, R8.11.27."""
    d = parse_date(s)
    if not isinstance(d, dt.date):
        raise argparse.ArgumentTypeError(
            f"基準日「{s}」を日付として読めません（例: 2026-11-27、令和8年11月27日、R8.11.27）"
        )
    return d


def build_parser() -> Parser:
    p = Parser(prog="kobankyo", description="交番・駐在所連絡協議会 帳票パイプライン")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    def common(sp, output=True):
        sp.add_argument("--input", type=Path, default=Path("input_samples"), help="ブックを置いたフォルダ")
        if output:
            sp.add_argument("--output", type=Path, default=Path("output"), help="結果を書き出すフォルダ")
        sp.add_argument("--as-of", type=_date, default=None, help="基準日 2026-11-27 / 令和8年11月27日（既定：今日）")
        sp.add_argument("--long-tenure-years", type=int, default=10, help="長期在任とみなす年数（既定：10）")
        sp.add_argument(
            "--forms", type=Path, default=None, help="Wordで直した様式のフォルダ（既定：入力フォルダの「様式」）"
        )

    r = sub.add_parser("reports", help="検証して様式第1～3号のWordファイルを作る")
    common(r)
    r.add_argument("--strict", action="store_true", help="警告も文書作成を止める")
    r.add_argument("--pdf", action="store_true", help="PDFと印刷用まとめPDFも作る（LibreOffice）")
    c = sub.add_parser("check", help="検証だけ行う（文書は作らない）")
    common(c)
    c.add_argument("--strict", action="store_true", help=argparse.SUPPRESS)
    t = sub.add_parser("template", help="空の入力ブック（雛形）を作る")
    t.add_argument("out", type=Path)
    w = sub.add_parser("watch", help="フォルダを見張り、ブックが置かれる・保存されるたびに作り直す")
    common(w)
    w.add_argument("--strict", action="store_true")
    f = sub.add_parser("forms", help="様式（Wordのテンプレート）を書き出す・確かめる")
    fsub = f.add_subparsers(dest="forms_command", required=True, parser_class=Parser)
    fe = fsub.add_parser("export", help="3つの様式と差込み項目一覧をフォルダに書き出す")
    fe.add_argument("dir", type=Path)
    fe.add_argument("--force", action="store_true", help="既にあるファイルを上書きする")
    fc = fsub.add_parser("check", help="Wordで直した様式を確かめる")
    fc.add_argument("dir", type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    crash.safe_console()
    crash.set_arguments(sys.argv if argv is None else ["kobankyo", *argv])
    try:
        args = build_parser().parse_args(argv)
    except ArgError as e:
        print(f"コマンドの指定が正しくありません: {e}", file=sys.stderr)
        print("使い方: kobankyo {reports|check|template|forms|watch} --help", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.command == "template":
            return cmd_template(args)
        if args.command == "forms":
            return cmd_forms(args)
        if args.command == "watch":
            return cmd_watch(args)
        return cmd_run(args, documents=args.command == "reports")
    except (TemplateProblem, RunFailed, InstallationProblem) as e:
        print(f"中止しました: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\n中断しました。", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # a bug of ours: a short message and a log file, never a traceback on screen
        log = crash.CrashLog(getattr(args, "output", None))
        print(crash.message(log.record_exception(args.command, e)), file=sys.stderr)
        return EXIT_FAILED


def _options(args, *, documents: bool, only: list[Path] | None = None) -> RunOptions:
    return RunOptions(
        as_of=args.as_of or clock.today(),
        strict=args.strict,
        long_tenure_years=args.long_tenure_years,
        documents=documents,
        pdf=documents and getattr(args, "pdf", False),
        only=only,
        forms_dir=getattr(args, "forms", None),
    )


def cmd_run(args, *, documents: bool, only: list[Path] | None = None, brief: bool = False) -> int:
    started = time.monotonic()
    progress = None if brief else _Progress(started)
    printer = _print_brief if brief else _print_full

    def show(report: RunReport) -> None:
        if progress is not None:
            progress.close()
        printer(report)

    try:
        report = reports(
            args.input, args.output, _options(args, documents=documents, only=only), progress=progress, on_report=show
        )
    finally:
        if progress is not None:
            progress.close()
    if report.pdf_note:
        print(report.pdf_note)
    if report.failed:
        names = "、".join(w.result.file for w in report.failed)
        print(f"\n{names}: {crash.message(report.crash_log.path if report.crash_log else None)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FINDINGS if report.has_errors else EXIT_OK


def _print_brief(report: RunReport) -> None:
    """watch: per workbook one line, then its errors with cell and message, and where its copy is."""
    _print_forms(report)
    for wr in report.stations:
        print(f"[{dt.datetime.now():%H:%M:%S}] {summary_line(wr)}", flush=True)
        for f in wr.findings:
            if f.severity == Severity.ERROR:
                where = f"{f.sheet or ''}!{f.cell}" if f.cell else (f.sheet or "")
                print(f"    エラー {where}: {f.message}")
        if wr.folder and report.output_dir is not None:
            annotated = annotated_path(report.output_dir, wr)
            if annotated in report.annotated:
                print(f"    検証結果: {annotated}", flush=True)


def _print_forms(report: RunReport) -> None:
    """The office's templates in use: folder and SHA-256 of each (anyone who can write there changes wording)."""
    if report.forms is not None and report.forms.folder is not None:
        lines = report.forms.lines()
        print(lines[0])
        for line in lines[1:]:
            print("  " + line)


def _print_full(report: RunReport) -> None:
    _print_forms(report)
    print_report(report, report.documents)
    if not report.stations:
        print(
            f"\n「{report.input_dir}」に警察署のブック（.xlsx / .xlsm / .xls）が見つかりませんでした。", file=sys.stderr
        )
    print(f"\n検証結果: {report.json_path}")
    for p in report.annotated:
        print(f"指摘を書き込んだブック: {p}")
    if report.overview:
        print(f"概要ページ（ブラウザで開けます）: {report.overview[-1]}")
    if getattr(report, "summary_book", None):
        print(f"県集計（Excelの表）: {report.summary_book}")
    for why in report.annotate_failed:
        print(why, file=sys.stderr)


QUIET_S = 2.0  # runs shorter than this show no progress at all


class _Progress:
    """Progress of a run: a rich bar on a terminal, plain lines when stderr is a file or a pipe (a scheduled
    task's log gets one line per step, never a carriage return); nothing for a run shorter than QUIET_S."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.shown = False
        self.console = _console(stderr=True)
        self.bar = None
        self.task = None

    def __call__(self, name: str, i: int, n: int) -> None:
        if not self.shown and time.monotonic() - self.started < QUIET_S:
            return
        self.shown = True
        if not self.console.is_terminal:
            print(f"[{i}/{n}] {clean(name)}", file=sys.stderr, flush=True)
            return
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=n)
        self.bar.update(self.task, completed=i, total=n, description=fit(clean(name), 30))
        if i >= n:
            self.close()

    def close(self) -> None:
        """Take the bar off the screen (before the report is printed, and when a run stops early)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _console(*, stderr: bool = False):
    """A rich console on stdout or stderr (whichever it is at the time): terminal detection, NO_COLOR, and
    widths of Japanese text; no markup or highlighting of the clerk's text, no wrapping of long lines."""
    from rich.console import Console

    return Console(stderr=stderr, markup=False, highlight=False, emoji=False, soft_wrap=True)


SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _colour() -> object | None:
    """The stdout console when colour may be used: a terminal, and NO_COLOR not set; else None (plain print)."""
    console = _console()
    if console.is_terminal and not console.no_color and not os.environ.get("NO_COLOR"):
        return console
    return None


def _say(parts: list[tuple[str, str | None]], console) -> None:
    """One line of (text, style) parts: styled on a colour terminal, plain text everywhere else."""
    if console is None:
        print("".join(text for text, _ in parts))
        return
    from rich.text import Text

    line = Text()
    for text, style in parts:
        line.append(clean(text), style=style)  # as print does: no control characters from file names or text
    console.print(line)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to a terminal width as the terminal shows it: full-width characters take two columns, combining
    marks none (rich's cell widths)."""
    from rich.cells import cell_len

    fill = " " * max(0, width - cell_len(text))
    return fill + text if right else text + fill


def fit(text: str, width: int) -> str:
    """Cut to at most width terminal columns, then pad to it (the bar's file name keeps its place)."""
    from rich.cells import set_cell_size

    return set_cell_size(text, width)


def print_report(report: RunReport, documents: bool) -> None:
    colour = _colour()
    print(f"基準日: {report.as_of.isoformat()}")
    for wr in report.workbooks:
        r = wr.result
        counts = Counter(f.severity for f in wr.findings)
        head = f"\n■ {r.file}"
        if r.station:
            head += f"（{r.station}）"
        summary = "、".join(f"{s.label}{counts[s]}件" for s in Severity if counts[s]) or "指摘なし"
        if wr.cached:
            summary += "（前回の実行から変わっていないため、検証と文書作成を省略し、前回の結果を表示）"
        _say([(head, "bold"), (f"  {summary}", None)], colour)
        for f in wr.findings[:FINDINGS_AT_MOST]:  # errors first: the list is sorted by severity
            where = f"{f.sheet or ''}!{f.cell}" if f.cell else (f.sheet or "")
            rest = f" {pad(where, 14)} {pad(f.article, 12)} {pad(f.rule, 20)} {f.message}"
            _say([("  ", None), (pad(f.severity.label, 6), SEVERITY_STYLE[f.severity]), (rest, None)], colour)
        if len(wr.findings) > FINDINGS_AT_MOST:
            print(
                f"  ほか{len(wr.findings) - FINDINGS_AT_MOST}件（すべての指摘は 検証結果.xlsx の「指摘一覧」と "
                "検証結果.json にあります）"
            )
    if documents:
        print("\n文書の作成状況（署ごと）")
        statuses = list(STATUS_LABEL)
        heads = [STATUS_LABEL[s] for s in statuses] + [s.label for s in Severity]
        print("  " + pad("警察署", 20) + " ".join(pad(h, 12, right=True) for h in heads))
        for wr in report.stations:  # the shared 選挙期間.xlsx has no documents of its own
            s = Counter(d.status for d in wr.documents)
            sev = Counter(f.severity for f in wr.findings)
            name = wr.result.station or wr.result.file
            counts = [s[status] for status in statuses] + [sev[level] for level in Severity]
            print("  " + pad(name, 20) + " ".join(pad(str(n), 12, right=True) for n in counts))
        print_documents(report)


SHOW_AT_MOST = 20
FINDINGS_AT_MOST = 100  # per workbook on screen: thousands of lines would scroll the summary away


def _blocked_line(d) -> str:
    return f"{d.path}  ← {'、'.join(d.blocked_at or [])}（{'、'.join(d.blocked_by or [])}）"


def _kept_line(d) -> str:
    line = d.path + (f" → 新しい版: {d.new_path}" if d.new_path else "（記録は変わっていません）")
    return line + ("［作成後に様式が変わりました］" if d.form_changed else "")


DOCUMENT_SECTIONS = [
    ("blocked", "作成を止めた文書（{n}件）: 指摘を直してもう一度実行すると作成します", _blocked_line),
    ("kept-edited", "手で修正された文書は上書きしていません（{n}件）", _kept_line),
    ("orphaned", "以前の実行で作った文書で、今の記録にないもの（{n}件、削除はしていません）", lambda d: d.path),
]


def print_documents(report: RunReport) -> None:
    """The documents a clerk has to act on, by name: stopped, kept as edited, left from earlier runs."""
    docs = [d for wr in report.workbooks for d in wr.documents]
    for status, heading, line in DOCUMENT_SECTIONS:
        chosen = [d for d in docs if d.status == status]
        if not chosen:
            continue
        print("\n" + heading.format(n=len(chosen)))
        for d in chosen[:SHOW_AT_MOST]:
            print("  " + line(d))
        if len(chosen) > SHOW_AT_MOST:
            print(f"  ほか {len(chosen) - SHOW_AT_MOST} 件（検証結果.xlsx の作成状況シート）")


def summary_line(wr) -> str:
    """One line per workbook, for watch: what was found and what was written."""
    sev = Counter(f.severity for f in wr.findings)
    docs = Counter(d.status for d in wr.documents)
    name = wr.result.file + (f"（{wr.result.station}）" if wr.result.station else "")
    if wr.cached:
        name += "［前回から変更なし］"
    return (
        f"{name}: エラー{sev[Severity.ERROR]}件 警告{sev[Severity.WARNING]}件 情報{sev[Severity.INFO]}件 / "
        + " ".join(f"{label}{docs[status]}" for status, label in STATUS_LABEL.items())
    )


def cmd_template(args) -> int:
    from pipeline.workbooks.template_xlsx import write_template

    if args.out.exists():
        # It may be a workbook someone has already filled in: never overwrite it.
        print(f"「{args.out}」は既にあります。上書きしないので、別の名前を指定してください。", file=sys.stderr)
        return EXIT_FAILED
    try:
        write_template(args.out)
    except OSError as e:
        print(f"「{args.out}」に書き込めません（{e.strerror}）。", file=sys.stderr)
        return EXIT_FAILED
    print(f"雛形を作りました: {args.out}")
    return EXIT_OK


def _watch_run(args, only: list[Path] | None) -> bool:
    """One run of watch: a run that fails is reported and watching goes on. False: try again later."""
    try:
        cmd_run(args, documents=True, only=only, brief=True)
    except OutputInUse as e:
        print(
            f"[{dt.datetime.now():%H:%M:%S}] {e}（しばらくしてから自動でもう一度試します）", file=sys.stderr, flush=True
        )
        return False
    except TemplateProblem as e:  # a form template that fails its check: reported, nothing written
        print(f"[{dt.datetime.now():%H:%M:%S}] 文書は作っていません: {e}", flush=True)
        print("    様式を直して保存し、ブックを保存し直すと作り直します。", flush=True)
    except (RunFailed, InstallationProblem, OSError) as e:
        why = e if not isinstance(e, OSError) else f"{e.filename or ''}: {e.strerror or type(e).__name__}"
        print(
            f"[{dt.datetime.now():%H:%M:%S}] 実行できませんでした: {why}。見張りは続けます。",
            file=sys.stderr,
            flush=True,
        )
    except Exception as e:  # a bug of ours: logged, and watching goes on
        log = crash.CrashLog(args.output).record_exception("watch", e)
        print(f"[{dt.datetime.now():%H:%M:%S}] {crash.message(log)} 見張りは続けます。", file=sys.stderr, flush=True)
    return True


def cmd_forms(args) -> int:
    from pipeline.documents.form_templates import ExportRefused, check_folder, export

    if args.forms_command == "export":
        try:
            written = export(args.dir, args.force)
        except ExportRefused as e:
            print(str(e), file=sys.stderr)
            return EXIT_FAILED
        except OSError as e:
            print(f"「{args.dir}」に書き込めません（{e.strerror or type(e).__name__}）。", file=sys.stderr)
            return EXIT_FAILED
        print(f"様式を書き出しました: {args.dir}")
        for p in written:
            print(f"  {p.name}")
        print(
            "Wordで直したら `kobankyo forms check フォルダ` で確かめ、`kobankyo reports --forms フォルダ` で使います。"
        )
        return EXIT_OK
    problems, missing = check_folder(args.dir)
    for form in missing:
        print(f"{form}.docx はありません（組み込みの様式を使います）。")
    for p in problems:
        print(p.text())
    if problems:
        print(f"\n直すところが {len(problems)} 件あります。この様式では文書を作りません。", file=sys.stderr)
        return EXIT_FAILED
    print("様式に問題はありません。")
    return EXIT_OK


def cmd_watch(args) -> int:
    from pipeline.run import watch as watch_module
    from pipeline.run.watch import watch

    if not args.input.is_dir():
        print(f"入力フォルダ「{args.input}」がありません。", file=sys.stderr)
        return EXIT_FAILED

    def regenerate(paths: list[Path]) -> bool:
        # A changed 選挙期間.xlsx applies to every station, and so does a saved form template; a workbook
        # deleted or moved away leaves the JSON, the pages and the summary: then a whole run (the unchanged
        # workbooks come from the record).
        whole = any(
            p.name == ELECTION_BOOK or p.name.lower() == ELECTION_XLS or p.suffix.lower() == ".docx" or not p.exists()
            for p in paths
        )
        return _watch_run(args, None if whole else paths)

    # What is already in the folder first (again and again while another run holds the output folder),
    # then every workbook dropped in, saved, deleted or moved away.
    while not _watch_run(args, None):
        time.sleep(watch_module.RETRY_S)
    print(f"「{args.input}」を見張っています。止めるには Ctrl+C を押してください。", flush=True)
    forms = args.forms or args.input / "様式"
    watch(args.input, regenerate, log=lambda s: print(s, flush=True), forms=forms.resolve() if forms.is_dir() else None)
    return EXIT_OK
