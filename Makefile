# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   — the dashboard on http://127.0.0.1:5000 beside the local Stripe sandbox
#   make test  — the whole test suite (unit, integration, browser) on SQLite, then
#                again on Postgres + Redis (.ci/services installs and starts both)
# And the scaled-out layout on this machine (README, "Scaling out"):
#   make cluster — Postgres and Redis (.ci/services), the sandbox, two app processes
#                  on :8001 and :8002 and two workers, under honcho (Procfile)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
export FLASK_APP := app

.PHONY: run test test-sqlite test-postgres services cluster lint bench-list bench-import bench-webhooks

# The private servers .ci/services starts (its default ports).
TEST_DATABASE_URL ?= postgresql://shingleai@127.0.0.1:54329/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:63799/0
CLUSTER_DATABASE_URL ?= postgresql://shingleai@127.0.0.1:54329/shingleai_cluster

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

# The scaled-out layout on this machine, on the private Postgres and Redis.
cluster: $(STAMP) services
	@export DATABASE_URL="$${DATABASE_URL:-$(CLUSTER_DATABASE_URL)}" \
		REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		SECRET_KEY="$${SECRET_KEY:-cluster-local-not-secret}" DEMO=1; \
	echo "Database $$DATABASE_URL, queue $$REDIS_URL"; \
	$(VENV)/bin/flask db upgrade && $(VENV)/bin/flask seed-demo --if-empty && \
	echo "App on http://127.0.0.1:8001 and http://127.0.0.1:8002 (demo@shingleai.test / shingle-demo)" && \
	exec $(VENV)/bin/honcho start -f Procfile

# Both runs, one after the other (each uses both cores): SQLite first, then Postgres +
# Redis. Either can be run alone.
test: test-sqlite test-postgres

test-sqlite: $(STAMP) $(CHROMIUM) services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	TEST_DATABASE_URL= $(VENV)/bin/pytest -n 2 --dist loadgroup

# The same suite with every test app on Postgres and every queue and throttle on Redis
# (sqlite_only tests deselected, postgres_only ones selected). Test apps still migrate
# their own database (AUTO_MIGRATE=1); the scaled-out defaults have their own tests.
test-postgres: $(STAMP) $(CHROMIUM) services
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) AUTO_MIGRATE=1 \
		$(VENV)/bin/pytest -n 2 --dist loadgroup

services:
	.ci/services start
