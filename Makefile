# Batchbook: `make run` to try it, `make test` to prove it. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
# uv comes from PATH, or is bootstrapped into .tools/ with the machine's python3.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
STATIC_LIB := app/static/lib

.PHONY: help run install test lint fmt bench migrate revision clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

$(STATIC_LIB)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(STATIC_LIB)
	cp node_modules/htmx.org/dist/htmx.min.js $(STATIC_LIB)/htmx.min.js
	touch $@

install: .venv/.synced $(STATIC_LIB)/.installed ## Install Python and front-end dependencies (idempotent)

run: export PLANT_TZ ?= America/Chicago
run: install ## Install, migrate, seed demo data, start the app with a simulated scale and printer
	.venv/bin/batchbook db upgrade
	.venv/bin/batchbook seed-demo
	.venv/bin/batchbook banner --port $(PORT)
	exec .venv/bin/gunicorn --config app/gunicorn_conf.py --bind 127.0.0.1:$(PORT) 'app:create_app()'

test: install ## Run the whole suite (T="-k name" to pick tests), then services and routes 400 days on
	.venv/bin/pytest $(T)
	@# No test may depend on the day it runs: the same service and route tests, wall clock +400 days.
	$(if $(T),,TEST_WALL_CLOCK_SHIFT_DAYS=400 .venv/bin/pytest -q tests/services tests/routes)

bench: install ## Measure what people wait on (SQLite and, if reachable, PostgreSQL)
	.venv/bin/python -m tests.bench.run

lint: install ## ruff check, format check, mypy --strict over app/ and bridge/
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

fmt: install ## Format and fix what ruff can
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

migrate: install ## Apply migrations to DATABASE_URL (default: instance/batchbook.sqlite3)
	.venv/bin/batchbook db upgrade

revision: install ## New migration from model changes: make revision m="what changed"
	.venv/bin/batchbook db revision -m "$(m)"

clean: ## Remove installed dependencies (keeps instance/ data)
	rm -rf .venv .tools node_modules $(STATIC_LIB)
