# 交番・駐在所連絡協議会 帳票パイプライン — `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INPUT ?= input_samples
OUTPUT ?= output
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help reports check test template watch bench lint format templates samples docs-png wheel wheel-test clean

help: ## このヘルプ / list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

reports: $(STAMP) ## 検証して様式第1～3号を作る (INPUT=… OUTPUT=… ARGS="--as-of 2026-11-27 --pdf")
	$(BIN)/python -m pipeline reports --input "$(INPUT)" --output "$(OUTPUT)" $(ARGS)

check: $(STAMP) ## 検証だけ行う / validate only
	$(BIN)/python -m pipeline check --input "$(INPUT)" --output "$(OUTPUT)" $(ARGS)

template: $(STAMP) ## 空の入力ブックを作る (OUT=新しいブック.xlsx)
	$(BIN)/python -m pipeline template "$(or $(OUT),入力ブック雛形.xlsx)"

watch: $(STAMP) ## フォルダを見張って自動で作り直す
	$(BIN)/python -m pipeline watch --input "$(INPUT)" --output "$(OUTPUT)" $(ARGS)

test: $(STAMP) ## run the test suite
	$(BIN)/python -m pytest -q

bench: $(STAMP) ## benchmark: pipeline vs plain docxtpl loop on a synthetic prefecture
	$(BIN)/python -m bench.run

wheel: $(STAMP) ## build dist/*.whl, to install on a PC without make (pip install …whl)
	$(BIN)/pip wheel --quiet --no-deps -w dist .

wheel-test: $(STAMP) ## build the wheel, install it outside the repository, run kobankyo from another folder
	bash scripts/wheel_smoke.sh

lint: $(STAMP) ## ruff lint + format check (T20: only pipeline/cli.py prints) + the stages' import order
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(STAMP) ## ruff format + autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

templates: $(STAMP) ## rebuild templates_docx/*.docx from scripts/build_templates.py
	$(BIN)/python scripts/build_templates.py

samples: $(STAMP) ## rebuild input_samples/*.xlsx from scripts/make_samples.py
	$(BIN)/python scripts/make_samples.py

docs-png: $(STAMP) ## render one sample of each form to docs/*.png (needs LibreOffice)
	$(BIN)/python scripts/render_docs_png.py
	$(BIN)/python scripts/render_template_png.py

clean: ## remove caches (never output/: it may hold documents edited by hand)
	rm -rf .pytest_cache .ruff_cache .import_linter_cache
	find . -name __pycache__ -type d -not -path "./.venv/*" -prune -exec rm -rf {} +
