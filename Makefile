# tap-voicegain: `make test` runs every test; `make demo` shows a full pipeline.
# Another Python: make test-fast PYTHON=/path/to/python3.13 VENV=.venv-py313
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Meltano gets its own virtualenv: its dependencies must not fight the tap's.
MELTANO_VERSION ?= 4.4.1
MELTANO_VENV    ?= .venv-meltano
MELTANO         := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP   := $(MELTANO_VENV)/.meltano-$(MELTANO_VERSION)

.PHONY: install meltano test test-fast lint typecheck demo benchmark \
        readme-settings plugin-definition clean

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

# No Meltano needed: everything but the e2e runs and the slow process tests.
test-fast: install  ## the unit suite: no Meltano, no database, no slow tests
	$(BIN)/python -m pytest -m "not e2e and not slow"

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

# Both files are derived: README's settings table from `tap-voicegain --about
# --format=markdown`, tap-voicegain.yml from meltano.yml's extractor.
# tests/test_packaging.py fails when either is stale.
readme-settings: install  ## rewrite README's settings table from --about
	$(BIN)/python -m tests.project_files readme-settings

plugin-definition: install  ## rewrite tap-voicegain.yml from meltano.yml
	$(BIN)/python -m tests.project_files plugin-definition

clean:
	rm -rf $(VENV) .venv-py3* $(MELTANO_VENV) .meltano output .pytest_cache .mypy_cache .ruff_cache
