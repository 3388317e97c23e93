# The two commands a newcomer needs: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
TEST_WORKERS ?= 2
SNAKEMAKE := $(BIN)/snakemake
STAMP := $(VENV)/.installed
COMMAND := $(BIN)/redoxscreen
TENSORFLOW_VERSION = $(shell sed -n 's/^tensorflow[-_]cpu==//p' requirements.lock)

.PHONY: run test lint dry-run demo-data clean venv gpu

venv: $(STAMP) $(COMMAND)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "redoxscreen needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# the `redoxscreen` command (redoxscreen.console): `.venv/bin/redoxscreen predict ...`
$(COMMAND): $(STAMP) workflow_scripts/redoxscreen/console.py
	PYTHONPATH=workflow_scripts $(BIN)/python -m redoxscreen.console $@

## run: set up .venv, run the whole workflow on the default config, write the report
run: $(STAMP) $(COMMAND)
	$(SNAKEMAKE) --cores $(CORES)
	$(SNAKEMAKE) --cores 1 --report results/report.html
	@cat results/summary.md
	@echo "report: results/report.html"
	@echo "predict more molecules: $(COMMAND) predict --help"

## test: set up .venv, lint, and run the test suite (TEST_WORKERS pytest-xdist processes)
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## gpu: swap .venv's TensorFlow CPU build for the CUDA build of the same version (NVIDIA GPUs)
gpu: $(STAMP)
	@test -n "$(TENSORFLOW_VERSION)" || { echo "requirements.lock pins no tensorflow-cpu: nothing to swap"; exit 1; }
	$(BIN)/python -m pip uninstall --quiet --yes tensorflow-cpu tensorflow
	$(BIN)/python -m pip install --quiet "tensorflow[and-cuda]==$(TENSORFLOW_VERSION)"
	$(BIN)/python -c 'import tensorflow as tf; print("GPUs TensorFlow sees:", tf.config.list_physical_devices("GPU"))'

lint: $(STAMP)
	$(BIN)/ruff check workflow_scripts tests bench
	$(BIN)/ruff format --check workflow_scripts tests bench
	$(SNAKEMAKE) --lint --cores 1 > /dev/null

dry-run: $(STAMP)
	$(SNAKEMAKE) -n --cores $(CORES)

## demo-data: enumerate the demo library and label it with xTB (resources/demo_molecules.csv)
demo-data: $(STAMP)
	PYTHONPATH=workflow_scripts $(BIN)/python -m redoxscreen.demo_library resources/demo_library.smi
	$(SNAKEMAKE) --cores $(CORES) --config dataset=demo_xtb -- results/label/demo_library.csv
	cp results/label/demo_library.csv resources/demo_molecules.csv
	cp results/label/demo_library_failures.tsv resources/demo_molecules_failures.tsv

clean:
	rm -rf results logs benchmarks .snakemake
