# Every target creates .venv on first use, so a fresh clone needs one command.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck docs-check pytest demo bench bench-instructions soak docs matrix clean

# The emulator is its own distribution in ./emulator; naming it in the same pip command
# lets the `emulator` extra (which names floimg-emulator) resolve to this checkout.
$(STAMP): pyproject.toml emulator/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e './emulator[test]' -e '.[dev,emulator,cli,docs,ray]'
	touch $(STAMP)

## make demo: the main job, the SDK driving the bundled emulator end to end
demo: $(STAMP)
	$(PY) -m floimg_async.demo --out demo-output

## make test: ruff, mypy --strict, the docs build, then the whole pytest suite
test: lint typecheck docs-check pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check floimg_async tests benchmarks examples emulator

## typecheck: the package, the examples and the README's code (tests/typing/readme_snippets.py)
typecheck: $(STAMP)
	$(PY) -m mypy --strict floimg_async examples tests/typing
	$(PY) -m mypy --strict emulator/floimg_emulator

## docs-check: the docs site builds with no warning (API reference from the docstrings)
docs-check: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet --site-dir .docs-site

pytest: $(STAMP)
	$(PY) -m pytest -q

## make docs: serve the docs site on http://127.0.0.1:8000 (rebuilds on change)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

# nox finds each Python on PATH; put pyenv's 3.10-3.13 there when pyenv is installed.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
empty :=
space := $(empty) $(empty)
MATRIX_PATH := $(subst $(space),:,$(strip $(wildcard $(PYENV_ROOT)/versions/3.1[0-3].*/bin)))

## make matrix: the test suite on Python 3.10-3.13, plus 3.10 with the lowest allowed versions
matrix: $(STAMP)
	$(if $(MATRIX_PATH),PATH="$(MATRIX_PATH):$$PATH") $(PY) -m nox $(NOX_ARGS)

## make bench: the benchmark suite (a few minutes), table on stdout and JSON in benchmarks/results/
bench: $(STAMP)
	$(PY) -m benchmarks.run

## make bench-instructions: CPU instructions per request under valgrind (callgrind), SDK vs raw
bench-instructions: $(STAMP)
	$(PY) -m benchmarks.run --only instructions --json benchmarks/results/instructions.json

## make soak: the full-size soak test against the emulator
soak: $(STAMP)
	$(PY) -m pytest -q -m soak -p no:cacheprovider tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache demo-output benchmarks/results .nox site .docs-site
