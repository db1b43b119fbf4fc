# tap-voicegain: `make test` runs every test; `make demo` shows a full pipeline.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install test lint typecheck demo benchmark clean

$(BIN)/tap-voicegain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	@touch $@

install: $(BIN)/tap-voicegain  ## the tap and its test/lint/typing tools in .venv

test: install  ## every test, end-to-end ones included
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy tap_voicegain

clean:
	rm -rf $(VENV) .meltano output .pytest_cache .mypy_cache .ruff_cache
