# digest — see README.md. Every target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DIGEST := $(VENV)/bin/digest
STAMP := $(VENV)/.installed
DATE ?= 2025-03-14

.PHONY: run test test-fast lint format typecheck bench eval background screenshots golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: the main job offline on the bundled sample listings (four days, oldest first) -> output/
SAMPLE_DAYS := 2025-03-11 2025-03-12 2025-03-13 2025-03-14
run: $(STAMP)
	@for day in $(SAMPLE_DAYS); do $(DIGEST) run --config config/example.toml --date $$day || exit $$?; done
	@echo "open output/index.html, or: $(DIGEST) serve --config config/example.toml"

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest -q

## test-fast: the inner loop: every test not marked slow or browser, on both cores, stopping at the first failure
test-fast: $(STAMP)
	$(PY) -m pytest -q -x -n 2 -m "not slow and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check digest tests bench
	$(VENV)/bin/ruff format --check digest tests bench

format: $(STAMP)
	$(VENV)/bin/ruff format digest tests bench
	$(VENV)/bin/ruff check --fix digest tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## bench: every bench/bench_*.py (needs ../shared)
bench: $(STAMP)
	$(PY) bench/run_all.py

## eval: theme quality (V-measure, themes vs true count) on ../shared/data/themes-dev and on
## held-out mixtures, the trending batch on the seed days, label coverage of both (docs/themes.md)
EVAL_DIR := var/eval
eval: $(STAMP)
	$(PY) ../shared/tools/eval_themes.py --digest $(DIGEST) ../shared/data/themes-dev/*.jsonl
	rm -rf $(EVAL_DIR) && mkdir -p $(EVAL_DIR)
	$(PY) bench/eval_heldout.py --write $(EVAL_DIR)/heldout
	$(PY) bench/eval_trending.py --digest $(DIGEST) --keep $(EVAL_DIR)/seeds
	@echo "label coverage, held-out mixtures:" && $(PY) ../shared/tools/label_coverage.py $(EVAL_DIR)/heldout/*.json | tail -1
	@echo "label coverage, seed days:" && $(PY) ../shared/tools/label_coverage.py $(EVAL_DIR)/seeds/out/*/digest.json | tail -1
	@echo "label coverage, both:" && $(PY) ../shared/tools/label_coverage.py $(EVAL_DIR)/heldout/*.json $(EVAL_DIR)/seeds/out/*/digest.json | tail -1

## background: rebuild digest/themes/background.npz from ../shared/data/arxiv-daily (docs/themes.md)
background: $(STAMP)
	$(PY) bench/build_background.py

## screenshots: email.html at 600 and 375 px in headless chromium -> output/DATE/screenshots/;
## the preferences page of digest serve at 375 and 1000 px -> output/preferences/screenshots/
screenshots: $(STAMP)
	$(PY) -m digest.render.screenshots output/$(DATE)/email.html
	$(PY) -m digest.serve.preview output/preferences

## golden: regenerate the golden files of the rendered outputs (review the diff!)
golden: $(STAMP)
	DIGEST_UPDATE_GOLDEN=1 $(PY) -m pytest -q tests -k golden

clean:
	rm -rf $(VENV) output/20* output/*.xml output/index.html var
