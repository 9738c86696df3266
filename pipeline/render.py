"""Render the forms with docxtpl's own template preparation, escaped and sandboxed, compiled once per form."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment

from . import fmt
from .zipfix import Member, pack, read_zip


def template_dir() -> Path:
    """The templates shipped with the package (the repository's templates_docx/, mapped into the wheel)."""
    return Path(str(resources.files("pipeline.templates_docx")))


TEMPLATE_DIR = template_dir()
FORMS = {"委嘱状": "委嘱状.docx", "設置報告書": "設置報告書.docx", "開催結果報告書": "開催結果報告書.docx"}


class TemplateProblem(Exception):
    """A template that cannot be used; stops the run (it is not bad input)."""


def make_env() -> SandboxedEnvironment:
    """Autoescape on (a bare & or < would corrupt the .docx), sandboxed, strict about unknown names."""
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=fmt.text)


class FormTemplate:
    """One .docx template, prepared exactly as docxtpl prepares it, then reused for every document.

    docxtpl's render() re-opens the package, re-patches and re-compiles the XML for each
    document; here that happens once, and each document is the compiled template's output
    placed into the template's other zip members unchanged.
    """

    def __init__(self, path: Path, env: SandboxedEnvironment | None = None):
        self.path = path
        self.env = env or make_env()
        try:
            data = path.read_bytes()
            tpl = DocxTemplate(path)
            tpl.init_docx()
            body = tpl.patch_xml(tpl.get_xml())
        except Exception as e:
            raise TemplateProblem(f"テンプレート「{path.name}」を開けません（{type(e).__name__}: {e}）。") from None
        src = re.sub(r"<w:p([ >])", r"\n<w:p\1", body)
        try:
            self.template = self.env.from_string(src)
            self.names = meta.find_undeclared_variables(self.env.parse(src))
        except TemplateError as e:
            raise TemplateProblem(f"テンプレート「{path.name}」の差込み記号が正しくありません（{e}）。") from None
        self.fingerprint = hashlib.sha256(data).hexdigest()
        members = read_zip(data)
        # Every member but the body is the same in every document: deflate it once, here.
        self.members = [(n, None if n == "word/document.xml" else Member.of(n, b)) for n, b in members]
        doc_xml = dict(members)["word/document.xml"].decode("utf-8")
        self.prefix = doc_xml[: doc_xml.index("<w:body")]
        self.suffix = doc_xml[doc_xml.rindex("</w:body>") + len("</w:body>") :]

    def check_fields(self, supplied: set[str]) -> None:
        missing = sorted(self.names - supplied)
        if missing:
            raise TemplateProblem(
                f"テンプレート「{self.path.name}」の差込み項目 {', '.join(missing)} はパイプラインが提供しない名前です。"
                f"使える名前: {', '.join(sorted(supplied))}"
            )

    def render_xml(self, context: dict) -> str:
        try:
            xml = self.template.render(context)
        except UndefinedError as e:
            raise TemplateProblem(
                f"テンプレート「{self.path.name}」が提供されない値を参照しています（{e.message}）。"
            ) from None
        except TemplateError as e:  # SecurityError from the sandbox, among others
            raise TemplateProblem(f"テンプレート「{self.path.name}」を差し込めません（{e}）。") from None
        # The same post-processing as docxtpl's render_xml_part.
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return DocxTemplate.resolve_listing(None, xml)  # \n in a value -> <w:br/> (Alt+Enter)

    def render(self, context: dict) -> bytes:
        body = Member.of("word/document.xml", (self.prefix + self.render_xml(context) + self.suffix).encode("utf-8"))
        return pack([m or body for _, m in self.members])


def load_templates(
    directory: Path = TEMPLATE_DIR, fields: dict[str, set[str]] | None = None
) -> dict[str, FormTemplate]:
    env = make_env()
    out = {}
    for form, name in FORMS.items():
        path = directory / name
        if not path.exists():
            raise TemplateProblem(f"テンプレート「{path}」がありません。`make templates` で作り直してください。")
        out[form] = FormTemplate(path, env)
        if fields is not None:
            out[form].check_fields(fields[form])
    return out
