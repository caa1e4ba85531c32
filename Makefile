# Every target creates .venv and installs the kit into it when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
BENCH_OUT ?= bench-results

.PHONY: lab test labs notebooks bench install clean

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/01-start-here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

# Serial on purpose: Jupyter picks a kernel's ports by binding port 0 and releasing it,
# so a test server in a parallel worker can take a port a starting kernel then needs.
test: $(STAMP)
	$(BIN)/python -m pytest

labs: $(STAMP)
	$(BIN)/python -m mtlslab.labs solutions labs

# Re-run every notebook and solution and save its outputs, then regenerate labs/.
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py notebooks/*.ipynb solutions/*.ipynb
	$(BIN)/python -m mtlslab.labs solutions labs

# Every benchmark of the kit; the JSON report and plots go to $(BENCH_OUT).
bench: $(STAMP)
	$(BIN)/python -m mtlslab.bench --out $(BENCH_OUT)
	$(BIN)/python tools/bench_stages.py --handshakes 1000 --report $(BENCH_OUT)/stages.json
	$(BIN)/python tools/bench_diagnose.py --report $(BENCH_OUT)/diagnose.json

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab,test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache src/*.egg-info
