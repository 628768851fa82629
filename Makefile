# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   — the dashboard on http://127.0.0.1:5000 beside the local Stripe sandbox
#   make test  — the whole test suite (unit, integration, browser)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
export FLASK_APP := app

.PHONY: run test lint bench-list bench-import bench-webhooks

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

test: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n 2 --dist loadgroup
