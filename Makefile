# tap-voicegain: `make test` runs every test; `make demo` shows a full pipeline.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Meltano gets its own virtualenv: its dependencies must not fight the tap's.
MELTANO_VERSION ?= 4.4.1
MELTANO_VENV    ?= .venv-meltano
MELTANO         := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP   := $(MELTANO_VENV)/.meltano-$(MELTANO_VERSION)

.PHONY: install meltano test lint typecheck demo benchmark clean

$(BIN)/tap-voicegain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	@# The simulator (voicegain_sim/) is not in the tap's wheel: the repository
	@# root goes on the dev virtualenv's path so demo, benchmark and tests find it.
	$(BIN)/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'voicegain-repo.pth').write_text('$(CURDIR)\\n')"
	@touch $@

install: $(BIN)/tap-voicegain  ## the tap and its test/lint/typing tools in .venv

$(MELTANO_STAMP):
	@echo "Installing Meltano $(MELTANO_VERSION) into $(MELTANO_VENV) ..."
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/python -m pip install --quiet "meltano==$(MELTANO_VERSION)"
	@touch $@

meltano: $(MELTANO_STAMP)  ## Meltano in its own virtualenv, .venv-meltano

test: install meltano  ## every test, end-to-end ones included
	$(BIN)/python -m pytest

demo: install meltano  ## simulator -> meltano run tap-voicegain target-duckdb, twice
	$(BIN)/python demo/run_demo.py --meltano $(MELTANO)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy tap_voicegain

# Not a test: prints times and peak RSS against a bare baseline, never fails on them.
# Options: make benchmark BENCHMARK_ARGS="--calls 20000 --repeat 1 --skip-memory"
benchmark: install  ## tap vs a bare requests+json/csv loop; peak RSS at 20k/200k calls
	$(BIN)/python benchmarks/run.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .meltano output .pytest_cache .mypy_cache .ruff_cache
