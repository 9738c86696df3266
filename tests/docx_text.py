"""Open a generated .docx with python-docx and extract its text and table grids for comparison."""

from __future__ import annotations

import io

from docx import Document


def _cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs).strip()


def _grid(table) -> list[list[str]]:
    return [[_cell_text(c) for c in row.cells] for row in table.rows]


def extract(data: bytes) -> dict:
    doc = Document(io.BytesIO(data))
    tables = []
    for t in doc.tables:
        tables.append(_grid(t))
        for row in t.rows:
            for cell in row.cells:
                for inner in cell.tables:
                    grid = _grid(inner)
                    if grid not in tables:
                        tables.append(grid)
    return {"paragraphs": [p.text for p in doc.paragraphs if p.text.strip()], "tables": tables, "doc": doc}
