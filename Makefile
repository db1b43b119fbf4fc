# tap-voicegain: `make test` runs every test; `make demo` shows a full pipeline.
# Another Python: make test-fast PYTHON=/path/to/python3.13 VENV=.venv-py313
#
# Every virtualenv is built from a committed lock, with uv, so a clone installs
# exactly what CI tested (docs/development.md, "Dependencies and locks"):
#   uv.lock                   the tap and its dev tools (.venv), twine (.venv-release)
#   requirements/meltano.txt  Meltano (.venv-meltano), hashed
#   requirements/uv.txt       uv itself (.venv-uv), hashed, installed with pip
#   requirements/tap.txt      uv.lock's pins of the tap's own dependencies, as
#                             constraints for the plugin virtualenv Meltano
#                             builds (meltano.yml's pip_url); written from uv.lock
# `make lock` refreshes all three; `make test-latest` tries the newest releases
# the ranges in pyproject.toml allow, without touching any lock.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# uv comes from PyPI into a small virtualenv of its own: Python and make stay the
# only prerequisites. Its version is the one pin kept here and in requirements/uv.txt.
UV_VERSION := 0.13.9
UV_VENV    := .venv-uv
UV         := $(UV_VENV)/bin/uv
# Bytecode compiled at install (this machine sets PYTHONDONTWRITEBYTECODE=1, so
# nothing would ever be cached); never a Python downloaded by uv: the one given
# as PYTHON is used. uv reads PyPI whatever pip.conf says.
export UV_COMPILE_BYTECODE  := 1
export UV_PYTHON_DOWNLOADS  := never
export UV_NO_PROGRESS       := 1
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --python $(PYTHON)

# Meltano gets its own virtualenv: its dependencies must not fight the tap's.
# It is an application, not a library of this project, so it is locked as a
# hashed requirements file (`uv pip compile --universal`, one file for every
# Python >= 3.10), not as a second uv project that would only wrap one line.
MELTANO_VERSION := 4.4.1
MELTANO_VENV    := .venv-meltano
MELTANO         := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP   := $(MELTANO_VENV)/.locked
RELEASE_VENV    := .venv-release
LATEST_VENV     ?= .venv-latest

.PHONY: install meltano test test-fast test-latest lint typecheck demo benchmark \
        lock dist readme-settings plugin-definition clean

$(UV): requirements/uv.txt
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps \
	  --only-binary :all: -r requirements/uv.txt
	@touch $@

# Synced on every call (about a second when nothing changed), so .venv holds
# exactly what uv.lock pins, even after a package was installed into it by hand.
install: | $(UV)  ## the tap and its test/lint/typing tools in .venv
	@# --locked: fail, naming `make lock`, rather than resolve anew when
	@# pyproject.toml and uv.lock disagree.
	@$(SYNC) --quiet || { echo "uv.lock does not match pyproject.toml: run 'make lock'" >&2; exit 1; }
	@# The simulator (voicegain_sim/) is not in the tap's wheel: the repository
	@# root goes on the dev virtualenv's path so demo, benchmark and tests find it.
	@$(BIN)/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'voicegain-repo.pth').write_text('$(CURDIR)\\n')"
	@# uv compiles what it installs, not the editable source: compiled here (only
	@# what changed), as PYTHONDONTWRITEBYTECODE=1 would keep Python from it.
	@$(BIN)/python -m compileall -q tap_voicegain voicegain_sim

$(MELTANO_STAMP): requirements/meltano.txt | $(UV)
	@echo "Installing Meltano $(MELTANO_VERSION) into $(MELTANO_VENV) from requirements/meltano.txt ..."
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(MELTANO_VENV)
	$(UV) pip sync --quiet --require-hashes --python $(MELTANO_VENV)/bin/python requirements/meltano.txt
	@touch $@

meltano: $(MELTANO_STAMP)  ## Meltano in its own virtualenv, .venv-meltano

test: install meltano  ## every test, end-to-end ones included
	$(BIN)/python -m pytest

# No Meltano needed: everything but the e2e runs and the slow process tests.
test-fast: install  ## the unit suite: no Meltano, no database, no slow tests
	$(BIN)/python -m pytest -m "not e2e and not slow"

# The newest releases pyproject.toml's ranges allow, in a throwaway virtualenv;
# the locks stay as they are. Prints what differs from uv.lock, then the unit suite.
test-latest: | $(UV)  ## the unit suite on the newest allowed releases, not the locked ones
	rm -rf $(LATEST_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(LATEST_VENV)
	$(UV) pip install --quiet --upgrade --python $(LATEST_VENV)/bin/python -e . --group dev
	$(LATEST_VENV)/bin/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'voicegain-repo.pth').write_text('$(CURDIR)\\n')"
	$(LATEST_VENV)/bin/python -m tests.project_files lock-diff
	$(LATEST_VENV)/bin/python -m pytest -m "not e2e and not slow" -p no:cacheprovider

TAP_CONSTRAINTS := requirements/tap.txt
EXPORT_TAP := $(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-header \
	  --quiet --format requirements.txt

lock: | $(UV)  ## refresh every lock to the newest releases the ranges allow
	$(UV) lock --upgrade
	{ echo "# uv.lock's pins of the tap's dependencies: written by make lock, read by"; \
	  echo "# meltano.yml's pip_url (--constraint). tests/test_packaging.py compares."; \
	  $(EXPORT_TAP); } > $(TAP_CONSTRAINTS)
	echo "uv==$(UV_VERSION)" | $(UV) pip compile --quiet --universal --generate-hashes \
	  --python-version 3.10 --no-header --output-file requirements/uv.txt -
	echo "meltano==$(MELTANO_VERSION)" | $(UV) pip compile --quiet --universal --generate-hashes \
	  --python-version 3.10 --no-header --output-file requirements/meltano.txt -
	@echo "Locks refreshed; run make test, then commit uv.lock and requirements/."

# sdist and wheel in dist/, checked: metadata and README rendering (twine
# check --strict), and the wheel holds the tap and its licence only.
dist: | $(UV)  ## build the sdist and wheel into dist/ and check them
	rm -rf dist
	$(UV) build --quiet --python $(PYTHON) --out-dir dist
	UV_PROJECT_ENVIRONMENT=$(RELEASE_VENV) $(UV) sync --quiet --locked \
	  --python $(PYTHON) --only-group release --no-install-project
	$(RELEASE_VENV)/bin/twine --no-color check --strict dist/*
	$(PYTHON) tests/check_dist.py dist

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
# --format=markdown`, tap-voicegain.yml from meltano.yml's extractor and the Hub
# metadata in tests/project_files.py. tests/test_packaging.py and
# tests/test_plugin_definition.py fail when either is stale.
readme-settings: install  ## rewrite README's settings table from --about
	$(BIN)/python -m tests.project_files readme-settings

plugin-definition: install  ## rewrite tap-voicegain.yml from meltano.yml
	$(BIN)/python -m tests.project_files plugin-definition

clean:
	rm -rf $(VENV) .venv-py3* $(MELTANO_VENV) $(UV_VENV) $(RELEASE_VENV) $(LATEST_VENV) \
	  .meltano output dist .pytest_cache .mypy_cache .ruff_cache
