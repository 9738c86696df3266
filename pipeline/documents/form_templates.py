"""Form templates the office edits in Word: export them, check them, and find the set a run uses.

`forms export DIR` writes the three built-in templates and the list of placeholders (form_fields);
`forms check DIR` parses every part a clerk can edit (body, headers, footers, footnotes, document
properties), checks every placeholder against the declaration, renders each form on trial with example
values and audits template and trial document with openxml-audit. A run uses `--forms DIR`, else a folder
named 様式 in the input folder, else the built-in templates; a form missing from the folder falls back to
the built-in one. A template with a problem stops the run before any document is written.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pipeline.core.errors import TemplateProblem
from pipeline.documents import form_fields
from pipeline.documents.plan import FORMS as FORM_NAMES

# render.py (and docxtpl with it) is imported only when a template is checked: a run that renders
# nothing imports neither.
FORMS = {form: f"{form}.docx" for form in FORM_NAMES}
TEMPLATE_DIR = Path(str(resources.files("pipeline.templates_docx")))
BODY = "word/document.xml"

FOLDER = "様式"  # inside the input folder: used without --forms
_MARKUP = re.compile(r"<[^>]*>")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PAIRS = re.compile(r"[｛{][｛{％%]|[％%}｝][｝}]")


def _wide(m: re.Match) -> bool:
    """A tag typed with the IME on (｛｛ 氏名 ｝｝, {％ if ％}): printed as it is, never rendered."""
    return bool({"｛", "｝"} & set(m.group(0))) or m.group(0) in ("{％", "％}")


@dataclass(frozen=True)
class FormProblem:
    """One thing wrong with an edited template, said the way a clerk can find it in Word."""

    form: str
    part: str  # 本文, ヘッダー（header1.xml）…, in Japanese
    message: str
    placeholder: str = ""
    around: str = ""

    def text(self) -> str:
        out = f"{self.form}.docx の{self.part}: {self.message}"
        if self.placeholder:
            out += f" 差込み記号「{self.placeholder}」"
        if self.around:
            out += f"（前後の文: 「{self.around}」）"
        return out


@dataclass(frozen=True)
class FormUse:
    """The template one form is rendered from in a run."""

    form: str
    path: Path
    sha256: str
    builtin: bool

    def line(self, folder: Path | None) -> str:
        if not self.builtin:
            return f"{self.form}: {self.path}（SHA-256 {self.sha256}）"
        where = f"「{folder}」に{self.form}.docx がないため" if folder is not None else ""
        return f"{self.form}: {where}組み込みの様式（SHA-256 {self.sha256}）"


@dataclass(frozen=True)
class FormSet:
    folder: Path | None  # the office's folder, None for the built-in templates only
    uses: tuple[FormUse, ...]

    @property
    def paths(self) -> dict[str, Path]:
        return {u.form: u.path for u in self.uses}

    @property
    def custom(self) -> bool:
        return any(not u.builtin for u in self.uses)

    def fingerprint(self) -> str:
        return hashlib.sha256("\n".join(f"{u.form}:{u.sha256}" for u in self.uses).encode()).hexdigest()

    def lines(self) -> list[str]:
        """What the screen and 作成状況 say about the templates used (only when an office folder is in use)."""
        if self.folder is None:
            return []
        return [f"様式フォルダ: {self.folder}"] + [u.line(self.folder) for u in self.uses]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve(input_dir: Path | None, forms_dir: Path | None) -> FormSet:
    """The templates a run uses: --forms wins over 様式 in the input folder; a missing form is the built-in one."""
    folder = forms_dir
    if folder is not None and not folder.is_dir():
        raise TemplateProblem(f"様式フォルダ「{folder}」がありません（--forms で指定したフォルダ）。")
    inside = None  # the 様式 folder of the input folder is as untrusted as the input: links stay inside it
    if folder is None and input_dir is not None and (input_dir / FOLDER).is_dir():
        folder, inside = input_dir / FOLDER, input_dir.resolve()
    uses = []
    for form, name in FORMS.items():
        own = folder / name if folder is not None else None
        if own is not None and inside is not None and own.exists() and not own.resolve().is_relative_to(inside):
            raise TemplateProblem(
                f"様式「{own}」は入力フォルダの外を指すリンクなので読みません。ファイルそのものを置いてください。"
            )
        if own is not None and own.is_file():
            uses.append(FormUse(form, own, _sha(own), False))
        else:
            builtin = TEMPLATE_DIR / name
            uses.append(FormUse(form, builtin, _sha(builtin) if builtin.is_file() else "-", True))
    return FormSet(folder, tuple(uses))


_CHECKED: dict[tuple[str, str], list[FormProblem]] = {}


def ensure_sound(forms: FormSet) -> None:
    """Raise TemplateProblem naming every problem of the office's templates (the built-in ones are tested)."""
    problems = []
    for u in forms.uses:
        if not u.builtin:
            if (u.form, u.sha256) not in _CHECKED:  # watch checks the same bytes on every save of a workbook
                _CHECKED[(u.form, u.sha256)] = check_template(u.form, u.path)
            problems += _CHECKED[(u.form, u.sha256)]
    if problems:
        raise TemplateProblem(
            f"様式フォルダ「{forms.folder}」のテンプレートに直すところがあります。文書は作っていません。\n"
            + "\n".join("  " + p.text() for p in problems)
        )


# --- export ---------------------------------------------------------------------------------------------


class ExportRefused(Exception):
    """Files are already there and --force was not given: nothing written."""


def export(directory: Path, force: bool = False) -> list[Path]:
    """Write the three built-in templates and the placeholder list into directory."""
    targets = [directory / name for name in FORMS.values()] + [directory / form_fields.LIST_NAME]
    present = [p for p in targets if p.exists()]
    if present and not force:
        raise ExportRefused(
            "次のファイルが既にあるので、書き出しませんでした（上書きするときは --force を付けます）: "
            + "、".join(str(p) for p in present)
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name in FORMS.values():
        (directory / name).write_bytes((TEMPLATE_DIR / name).read_bytes())
    (directory / form_fields.LIST_NAME).write_text(form_fields.placeholder_page(list(FORMS)), encoding="utf-8")
    return targets


# --- check ----------------------------------------------------------------------------------------------


def part_label(name: str) -> str:
    if name == BODY:
        return "本文"
    m = re.fullmatch(r"word/(header|footer)\d*\.xml", name)
    if m:
        return f"{'ヘッダー' if m.group(1) == 'header' else 'フッター'}（{name.rsplit('/', 1)[-1]}）"
    words = {"word/footnotes.xml": "脚注", "word/endnotes.xml": "文末脚注", "word/comments.xml": "コメント"}
    if name in words:
        return words[name]
    if name.startswith("docProps/"):
        return f"文書のプロパティ（{name.rsplit('/', 1)[-1]}）"
    return f"部分 {name}"


def _text(xml: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", _MARKUP.sub("", xml)).strip(" ")  # 全角 spaces are text


def _around(text: str, at: int, width: int = 20) -> str:
    return text[max(0, at - width) : at + width].strip()


def check_folder(directory: Path) -> tuple[list[FormProblem], list[str]]:
    """Every problem of the templates in directory, and the forms not there (the built-in ones are used)."""
    if not directory.is_dir():
        raise TemplateProblem(f"様式フォルダ「{directory}」がありません。")
    problems, missing = [], []
    for form, name in FORMS.items():
        path = directory / name
        if path.is_file():
            problems += check_template(form, path)
        else:
            missing.append(form)
    return problems, missing


MAX_TEMPLATE = 32 * 2**20  # a form is tens of KB; a logo or two stay far below this, packed or unpacked


class _TooBig(Exception):
    pass


def _read_members(data: bytes) -> dict[str, bytes]:
    """The XML parts, every member inflated with a bound on what it really inflates to (headers can lie)."""
    out, total = {}, 0
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            with z.open(info) as f:
                chunks = []
                while chunk := f.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_TEMPLATE:
                        raise _TooBig
                    chunks.append(chunk)
            if info.filename.endswith((".xml", ".rels")):
                out[info.filename] = b"".join(chunks)
    return out


def check_template(form: str, path: Path) -> list[FormProblem]:
    """Every problem of one template; none means every run renders it into a document Word opens cleanly."""
    try:
        if path.stat().st_size > MAX_TEMPLATE:
            return [FormProblem(form, "ファイル", f"様式のファイルが大きすぎます（{MAX_TEMPLATE // 2**20} MBまで）。")]
        members = _read_members(path.read_bytes())
    except _TooBig:
        return [FormProblem(form, "ファイル", f"展開すると大きすぎるファイルです（{MAX_TEMPLATE // 2**20} MBまで）。")]
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as e:
        return [FormProblem(form, "ファイル", f"Wordの文書（.docx）として開けません（{type(e).__name__}）。")]
    if BODY not in members:
        return [FormProblem(form, "ファイル", "Wordの文書（.docx）ではありません（本文がありません）。")]
    from pipeline.documents.render import RENDERED_PARTS, has_placeholder, make_env

    problems: list[FormProblem] = []
    env = make_env()
    try:
        from docxtpl import DocxTemplate

        tpl = DocxTemplate(path)
        tpl.init_docx()
        body = tpl.patch_xml(tpl.get_xml())
    except Exception as e:  # a package python-docx cannot read
        return [FormProblem(form, "ファイル", f"Wordの文書として読めません（{type(e).__name__}: {e}）。")]
    for name, blob in sorted(members.items()):
        xml = blob.decode("utf-8", errors="replace")
        text = _text(xml)
        for m in filter(_wide, _PAIRS.finditer(text)):
            problems.append(
                FormProblem(
                    form,
                    part_label(name),
                    "全角の括弧・記号で入力された差込み記号は差し込まれません。半角の {{ }} や {% %} で入力し直してください。",
                    m.group(0),
                    _around(text, m.start()),
                )
            )
        if name == BODY or not has_placeholder(xml):
            continue
        if not RENDERED_PARTS.fullmatch(name):
            tag = re.search(r"\{[{%#]", text)
            problems.append(
                FormProblem(
                    form,
                    part_label(name),
                    "この部分の差込み記号は差し込まれません（本文、ヘッダー、フッター、脚注、文書のプロパティのタイトル等だけに置けます）。",
                    "",
                    _around(text, tag.start() if tag else 0),
                )
            )
    parts = {BODY: body}
    for name in members:
        if (
            name != BODY
            and RENDERED_PARTS.fullmatch(name)
            and has_placeholder(members[name].decode("utf-8", "replace"))
        ):
            parts[name] = tpl.patch_xml(members[name].decode("utf-8", "replace"))
    for name, patched in parts.items():
        problems += _check_part(env, form, name, patched)
    if not problems:
        problems += _trial(form, path)
    return problems


def _check_part(env, form: str, name: str, patched: str) -> list[FormProblem]:
    from jinja2 import TemplateSyntaxError

    label = part_label(name)
    out = []
    for m in _JINJA.finditer(patched):
        if "<" in m.group(0):
            # What is left of Word's markup inside a tag: the renderer could not join the pieces.
            out.append(
                FormProblem(
                    form,
                    label,
                    "Wordが差込み記号を途中で区切っていて、つなげられません。差込み記号を消して、一度に入力し直してください。",
                    _text(m.group(0)),
                    _around(_text(patched[max(0, m.start() - 400) : m.end() + 400]), 0, 60),
                )
            )
    if out:
        return out
    src = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)
    lines = src.split("\n")

    def line_text(lineno: int | None) -> str:
        if not lineno or lineno > len(lines):
            return ""
        return _text(lines[lineno - 1])[:60]

    try:
        ast = env.parse(src)
    except TemplateSyntaxError as e:
        return [FormProblem(form, label, _syntax_message(e.message or ""), "", line_text(e.lineno))]
    for kind, name_used, lineno, known in _names(ast, form):
        close = difflib.get_close_matches(name_used, known, n=1, cutoff=0.3)
        hint = f"近い名前: {close[0]}。" if close else ""
        what = "この様式にない差込み項目です" if kind == "name" else "この一覧の行にない項目です"
        out.append(
            FormProblem(
                form,
                label,
                f"{what}。{hint}使える名前は {form_fields.LIST_NAME} を見てください。",
                name_used,
                line_text(lineno),
            )
        )
    return out


_SYNTAX = [
    ("Expected an expression", "{% if %} などの後に条件（差込み項目の名前など）がありません。"),
    ("Unexpected end of template", "閉じる記号（{% endif %}、{% endfor %} など）がありません。"),
    ("unknown tag", "知らない命令です（if、for、else、endif、endfor などが使えます）。"),
    ("unexpected end of", "差込み記号が閉じていません（}} や %} がありません）。"),
    ("unexpected char", "差込み記号の中に使えない文字があります（全角の記号や引用符など）。"),
    ("unexpected '}'", "括弧の数が合っていません。"),
]


def _syntax_message(message: str) -> str:
    for needle, japanese in _SYNTAX:
        if needle.lower() in message.lower():
            return f"差込み記号の書き方が正しくありません: {japanese}（{message}）"
    return f"差込み記号の書き方が正しくありません（{message}）。"


def _names(ast, form: str) -> list[tuple[str, str, int | None, list[str]]]:
    """Names a template uses that the declaration does not give: ('name' | 'item', name, line, known names)."""
    from jinja2 import nodes

    known = form_fields.known_names(form)
    japanese = [f.name for f in form_fields.FIELDS[form]]
    bound = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    out = []

    def targets(t) -> list[str]:
        if isinstance(t, nodes.Name):
            return [t.name]
        if isinstance(t, nodes.Tuple):
            return [n for item in t.items for n in targets(item)]
        return []

    def visit(node, scope: dict) -> None:
        if isinstance(node, nodes.For):
            visit(node.iter, scope)
            field = known.get(node.iter.name) if isinstance(node.iter, nodes.Name) else None
            inner = dict(scope, loop=None)
            for t in targets(node.target):
                inner[t] = field if field is not None and field.items else None
            for child in node.body:
                visit(child, inner)
            if node.test is not None:
                visit(node.test, inner)
            for child in node.else_:
                visit(child, scope)
            return
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            row = scope.get(node.node.name)
            if row is not None:
                items = {i.name for i in row.items} | {i.key for i in row.items}
                if node.attr not in items:
                    out.append(("item", f"{node.node.name}.{node.attr}", node.lineno, [i.name for i in row.items]))
                return
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name not in scope and node.name not in known and node.name not in bound:
                out.append(("name", node.name, node.lineno, japanese))
            return
        for child in node.iter_child_nodes():
            visit(child, scope)

    visit(ast, {})
    return out


def _trial(form: str, path: Path) -> list[FormProblem]:
    """Render the form with example values (with each yes/no value both ways) and audit the results."""
    from lxml import etree

    from pipeline.documents.render import FormTemplate, make_env

    try:
        tpl = FormTemplate(path, make_env(), form)
    except TemplateProblem as e:
        return [FormProblem(form, "ファイル", str(e))]
    out = _audit(form, path.read_bytes(), "テンプレート")
    if out:
        return out
    flags = [f.key for f in form_fields.FIELDS[form] if f.flag]
    for value in [False, True] if flags else [False]:
        ctx = form_fields.example_context(form) | dict.fromkeys(flags, value)
        try:
            data = tpl.render(ctx)
        except TemplateProblem as e:
            return [FormProblem(form, "差込みの試し", str(e))]
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in tpl.parts:
                try:
                    etree.fromstring(z.read(name))
                except etree.XMLSyntaxError:
                    return [
                        FormProblem(
                            form,
                            part_label(name),
                            "差し込むと文書が壊れます（Wordが差込み記号を区切った場所、または段落・表の行をまたぐ {% %}）。"
                            "差込み記号を消して入力し直してください。",
                        )
                    ]
        out += _audit(form, data, "差し込んだ文書")
        if out:
            break
    return out


_VALIDATOR = None


def _audit(form: str, data: bytes, what: str) -> list[FormProblem]:
    """openxml-audit's findings: what Microsoft Word would repair or refuse."""
    global _VALIDATOR
    from openxml_audit import OpenXmlValidator

    if _VALIDATOR is None:
        _VALIDATOR = OpenXmlValidator(max_errors=0)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"{form}.docx"
        p.write_bytes(data)
        result = _VALIDATOR.validate(str(p))
    return [
        FormProblem(
            form,
            part_label(str(e.part_uri).lstrip("/")),
            f"{what}をWordが修復する・開けないおそれがあります（openxml-audit: {e.description}）。",
        )
        for e in result.errors
    ]
