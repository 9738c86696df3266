"""The package's shape: the stages import one way and no stage has a cycle (import-linter, as `make lint` runs
it), every stage folder is in the wheel, every module says in its first line what it holds."""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
LINT = Path(sys.executable).with_name("lint-imports")
# The order README's "The code, stage by stage" describes, top to bottom; `|` joins stages that never import
# each other. Written here from the README, not read from pyproject, so a change of either is seen.
STAGES = [
    "pipeline.__main__",
    "pipeline.cli",
    "pipeline.run",
    "pipeline.overview | pipeline.workbooks",
    "pipeline.report",
    "pipeline.documents",
    "pipeline.checking",
    "pipeline.reading",
    "pipeline.core | pipeline.ooxml",
]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(root)}  # the copy's pipeline before the installed (editable) one
    return subprocess.run(
        [str(LINT), "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_lint_checks_the_stage_order_the_readme_gives():
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert [c["layers"] for c in layers] == [STAGES]
    assert any(c["type"] == "acyclic_siblings" and "pipeline.*" in c["ancestors"] for c in contracts)
    assert "lint-imports" in (ROOT / "Makefile").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    for stage in (s.strip() for line in STAGES for s in line.split("|")):
        folder = stage.replace(".", "/")
        assert f"{folder}/" in readme or f"{folder}.py" in readme, stage


def test_the_stages_import_one_way_and_without_cycles():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("KEPT") == 2 and "BROKEN" not in r.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("core/fmt.py", "import pipeline.cli"),  # the bottom importing the top
        ("checking/checks.py", "from pipeline.documents import forms"),  # a stage importing the next one up
        ("reading/read.py", "from pipeline.checking import schemas"),
        ("overview/pages.py", "from pipeline.run import steps"),  # the run <-> pages cycle the flat folder had
        ("report.py", "from pipeline.overview import figures"),
        ("ooxml/zipfix.py", "from pipeline.core import model"),  # Office XML knows nothing of councils
        ("workbooks/annotate.py", "from pipeline.overview import figures"),  # siblings stay independent
        ("documents/plan.py", "    from pipeline.workbooks import annotate"),  # an import inside a function too
        ("overview/station.py", "from pipeline.overview import pages"),  # a cycle inside one stage
        ("run/record.py", "from pipeline.run import steps"),
    ],
)
def test_an_import_against_the_order_fails_the_lint(tmp_path: Path, module: str, line: str):
    shutil.copytree(PACKAGE, tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / "pipeline" / module
    text = target.read_text("utf-8")
    if line.startswith(" "):
        text += f"\n\ndef _added():\n{line}\n"
    else:
        text += f"\n{line}  # noqa\n"
    target.write_text(text, "utf-8")
    r = _lint(tmp_path)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr


def test_every_stage_folder_is_in_the_wheel():
    packages = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts
    }
    assert found - packages == set()
    assert {"pipeline.core", "pipeline.run", "pipeline.overview.templates"} <= packages


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
)
def test_every_module_opens_with_what_it_holds(path: str):
    doc = ast.get_docstring(ast.parse((ROOT / path).read_text("utf-8")))
    assert doc and doc.splitlines()[0].strip(), path


def _type_checking_only(node: ast.AST, tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING" and node in ast.walk(n) for n in tree.body
    )


@pytest.mark.parametrize("part", ["parts", "styles", "strings", "worksheet", "comments"])
def test_the_xlsx_parts_name_their_book_in_type_hints_only(part: str):
    """pyproject's cycle contract ignores the parts' imports of book.py: that holds only while they are type hints."""
    tree = ast.parse((PACKAGE / "ooxml" / "xlsx_edit" / f"{part}.py").read_text("utf-8"))
    of_book = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").endswith(".book")]
    assert all(_type_checking_only(n, tree) for n in of_book)


STAGE_NAMES = ("core", "ooxml", "reading", "checking", "documents", "report", "workbooks", "overview", "run")
DOC_REF = re.compile(r"`((?:" + "|".join(STAGE_NAMES) + r")\.[A-Za-z_][\w.]*)")


def _resolves(ref: str) -> bool:
    parts = ref.rstrip(".").split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("pipeline." + ".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", ["docs/glossary.md", "docs/decisions.md", "docs/rules.md", "README.md"])
def test_the_docs_name_what_the_folders_hold(doc: str):
    """Every `stage.module.Name` the docs cite exists where they say (the glossary follows the folders)."""
    refs = sorted(set(DOC_REF.findall((ROOT / doc).read_text("utf-8"))))
    assert [r for r in refs if not _resolves(r)] == []
    if doc == "docs/glossary.md":
        assert len(refs) >= 40


def test_a_stale_reference_is_seen():
    assert _resolves("core.model.Station") and _resolves("run.record.RunRecord")
    assert not _resolves("overview.summary_book.figures")  # where figures() was before the split
    assert not _resolves("core.model.NoSuchThing") and not _resolves("checking.nosuchmodule.Name")


PATH_REF = re.compile(r"\bpipeline/[\w/]+\.(?:py|html|css|conf)\b|\bpipeline/[\w/]+/(?=[\s`)|,.;:])")
DOTTED_REF = re.compile(r"(?<![\w/.])pipeline(?:\.[A-Za-z_]\w*)+")
CITING = ["README.md", *(p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "docs").glob("*.md")))]
CITING += [p.relative_to(ROOT).as_posix() for p in sorted(PACKAGE.rglob("*")) if p.suffix in {".py", ".conf", ".html"}]


def _stale_paths(text: str) -> list[str]:
    return sorted({r for r in PATH_REF.findall(text) if not (ROOT / r).exists()})


def _stale_dotted(text: str) -> list[str]:
    found = set()
    for ref in set(DOTTED_REF.findall(text)):
        ref = ref.rstrip(".")
        if ref.startswith(("pipeline.templates_docx", "pipeline.resources")):
            continue  # data packages, mapped from the repository's own folders
        if not _resolves(ref.removeprefix("pipeline.")) and not ref.endswith((".py", ".html")):
            found.add(ref)
    return sorted(found)


@pytest.mark.parametrize("path", CITING)
def test_paths_and_names_cited_exist(path: str):
    """A file path under pipeline/ or a dotted pipeline.name in the docs or the code's comments is one that
    exists: the folders moved once, and a successor follows these."""
    text = (ROOT / path).read_text("utf-8")
    assert _stale_paths(text) == []
    assert _stale_dotted(text) == []


def test_stale_paths_and_names_are_seen():
    assert _stale_paths("see pipeline/checks.py and pipeline/page_templates/ here") == [
        "pipeline/checks.py",
        "pipeline/page_templates/",
    ]
    assert _stale_paths("see `pipeline/checking/checks.py` and pipeline/overview/templates/ here") == []
    assert _stale_dotted("pipeline.validate.validate_workbook, pipeline.run.reports") == [
        "pipeline.validate.validate_workbook"
    ]
