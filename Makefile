# Every target creates .venv on first use, so a fresh clone needs one command.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo bench soak clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,emulator,cli]'
	touch $(STAMP)

## make demo: the main job, the SDK driving the bundled emulator end to end
demo: $(STAMP)
	$(PY) -m floimg_async.demo --out demo-output

## make test: ruff, mypy --strict, then the whole pytest suite
test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check floimg_async tests benchmarks examples

## typecheck: the package, the examples and the README's code (tests/typing/readme_snippets.py)
typecheck: $(STAMP)
	$(PY) -m mypy --strict floimg_async examples tests/typing

pytest: $(STAMP)
	$(PY) -m pytest -q

## make bench: the benchmark suite (a few minutes), table on stdout and JSON in benchmarks/results/
bench: $(STAMP)
	$(PY) -m benchmarks.run

## make soak: the full-size soak test against the emulator
soak: $(STAMP)
	$(PY) -m pytest -q -m soak -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache demo-output benchmarks/results
