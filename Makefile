# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   — the dashboard on http://127.0.0.1:5000 beside the local Stripe sandbox
#   make test  — the whole test suite (unit, integration, browser)
# And the scaled-out layout on this machine (README, "Scaling out"):
#   make cluster — Postgres and Redis (.ci/services.sh), the sandbox, two app processes
#                  on :8001 and :8002 and two workers, under honcho (Procfile)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
export FLASK_APP := app

.PHONY: run test cluster services lint bench-list bench-import bench-webhooks

$(STAMP): pyproject.toml
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests…"
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

run: $(STAMP)
	DEMO=1 $(VENV)/bin/flask demo

# DATABASE_URL decides where the apps keep their data; by default one SQLite file that
# every process shares (the Postgres that services.sh starts is DATABASE_URL_POSTGRES).
cluster: $(STAMP)
	@eval "$$(.ci/services.sh)"; \
	export DATABASE_URL="$${DATABASE_URL:-sqlite:///$(CURDIR)/instance/cluster.sqlite3}"; \
	export SECRET_KEY="$${SECRET_KEY:-cluster-local-not-secret}" DEMO=1; \
	echo "Database $$DATABASE_URL, queue $$REDIS_URL"; \
	$(VENV)/bin/flask db upgrade && $(VENV)/bin/flask seed-demo --if-empty && \
	echo "App on http://127.0.0.1:8001 and http://127.0.0.1:8002 (demo@shingleai.test / shingle-demo)" && \
	exec $(VENV)/bin/honcho start -f Procfile

services:
	@.ci/services.sh

test: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n 2 --dist loadgroup
