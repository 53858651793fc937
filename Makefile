# `make report` (the main job) and `make test` both create .venv from requirements.txt when it is missing or
# older than requirements.txt. PROFILE selects the hypothesis profile (ci, dev, thorough).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
# The browser test of the report (suites/test_reports_browser.py) drives Debian's chromium through chromedriver.
BROWSER_STAMP := $(VENV)/.chromium-installed
PROFILE ?= ci
# `make test` draws this many examples per hypothesis test of the ci profile (CI's time on a 2-core machine);
# `make report` draws the profile's 40 (CONFORMANCE_EXAMPLES=N changes it).
TEST_EXAMPLES ?= 10
REPORT_DIR ?= reports/out
# `make report` runs every adapter's backend calls in a worker process of its own (adapters/workers.py): a crash
# or a hang is one `crash` / `timeout` record and the run goes on. ISOLATE=0 runs them in the test process.
ISOLATE ?= 1
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider --hypothesis-profile=$(PROFILE)

.PHONY: test report bench venv browser clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch==2.13.0 resolves to the local CPU wheel through pip's find-links; no CUDA packages are pulled.
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

# Headless Chromium and its driver for the browser test; needs root (apt-get) on a machine without them.
browser: $(BROWSER_STAMP)

$(BROWSER_STAMP): $(STAMP)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)
	touch $(BROWSER_STAMP)

# The project's tests: oracle self-tests, conformance on every installed backend, report and benchmark code
# (benchmarks run once, untimed, so their correctness guards are exercised).
test: $(STAMP) $(BROWSER_STAMP)
	CONFORMANCE_EXAMPLES=$(TEST_EXAMPLES) $(PYTEST) -n 2 --benchmark-disable --report-dir=results/test suites

# Every suite that writes result records: conformance (shape, forward, gradient), the common layer API and Keras 1
# configs on the real backends (round_trip, keras1_native), training mode (incl. recurrent dropout), weight
# parameters, invalid configs, masks consumed across layers (mask_chain) and TimeDistributed over recurrent layers,
# and the metamorphic relations (checks metamorphic:<relation>, incl. the examples a known divergence discards).
RECORDING_SUITES := suites/test_conformance.py suites/test_round_trip.py suites/test_training.py \
	suites/test_weight_params.py suites/test_invalid.py suites/test_mask_consumption.py \
	suites/test_metamorphic_convolution.py suites/test_metamorphic_merge.py suites/test_metamorphic_pooling.py \
	suites/test_metamorphic_recurrent.py suites/test_metamorphic_reshaping.py \
	suites/test_metamorphic_time_distributed.py suites/test_metamorphic_transpose.py

# The conformance suite on every installed backend, then the HTML/JSON/JUnit report (reports/run.py: built even
# when the run is interrupted or a process dies, and then marked incomplete). Exits with pytest's status after the
# report is written, so CI sees real failures (known divergences do not fail). The benchmarks
# are not run here (they time the CPU for ~10 s per file and need a quiet machine); a benchmark.json left by
# `make bench` in REPORT_DIR is folded into the report's benchmark section.
report: $(STAMP)
	CONFORMANCE_ISOLATE=$(ISOLATE) $(BIN)/python -m reports run --out $(REPORT_DIR) \
		--benchmarks $(REPORT_DIR)/benchmark.json -- -p no:cacheprovider --hypothesis-profile=$(PROFILE) -n 2 \
		$(RECORDING_SUITES) --junitxml=$(REPORT_DIR)/pytest-junit.xml

bench: $(STAMP)
	mkdir -p $(REPORT_DIR)
	$(BIN)/python -m pytest -p no:cacheprovider suites/bench --benchmark-only \
		--benchmark-json=$(REPORT_DIR)/benchmark.json --benchmark-columns=min,median,mean,rounds

clean:
	rm -rf results reports/out .hypothesis .benchmarks
