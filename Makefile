# A newcomer runs `make run` or `make test` on a fresh machine; both set everything up themselves.
# The oldest supported Python found on PATH (3.11, 3.12, 3.13, else python3 if it is 3.11 or later).
ifndef PY
PY := $(shell for p in python3.11 python3.12 python3.13 python3; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ./data
HOST ?= 127.0.0.1
PORT ?= 8080

# pytest workers (pytest-xdist): one per core, at most 4 (each test starts its own servers on free ports).
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: run test lint bench bench-deps clean system-deps

$(STAMP): pyproject.toml
	@[ -n "$(PY)" ] && command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 or later is required (none of python3.11, python3.12, python3.13, python3 is)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hrledger serve --init --data $(DATA) --host $(HOST) --port $(PORT) $(if $(POLICY),--policy $(POLICY))

# The report test prints report.html with headless Chromium; openssl serves as the test TSA.
SYSTEM_TOOLS := chromium pdfinfo pdftotext openssl
system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto.*cjk' || missing="$$missing cjk-font"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages for the tests (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium poppler-utils fonts-wqy-zenhei openssl >/dev/null; \
	  else echo "warning: missing$$missing; tests that need them are skipped (install: chromium poppler-utils fonts-wqy-zenhei)"; fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/ruff check ledger api verifier tests bench
	$(BIN)/ruff format --check ledger api verifier tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(JOBS) --dist worksteal

# bench.http drives the servers with wrk (a C load generator, Debian package wrk); installed here when root.
# BEFORE: the commit bench.http measures beside this checkout (the state issue 17 started from).
BEFORE ?= efcd07a
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing wrk for bench.http"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "warning: wrk is missing; bench.http is skipped (install: apt-get install wrk)"; fi; }

bench: $(STAMP) bench-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.all $(if $(BEFORE),--before $(BEFORE))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
