# relx: `make demo` and `make test` work on a fresh clone (they create .venv when missing).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.relx-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo demo-semeval test lint bundle-gpu clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the pin resolves to the local CPU wheel (a looser pin pulls CUDA).
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# the CoNLL04 joint recipe into runs/demo/conll04, raw news sentences, test scores (about 6.5 minutes on 2 CPU cores)
demo: setup
	$(PY) -m relx.cli.demo

# the SemEval entity-marker demo (marked pairs) into runs/demo/semeval
demo-semeval: setup
	$(PY) -m relx.cli.demo --semeval

test: setup
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -m "integration or not integration" --durations=10

lint: setup
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

# fp16 encoder + pre-annotated data in one git-excluded folder (< 64 MiB) for a GPU run.
bundle-gpu: setup
	$(PY) -m relx export gpu-bundle --out gpu_bundle --overwrite

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
