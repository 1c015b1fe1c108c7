# Two commands a newcomer needs: `make run` and `make test`. Everything else is below.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Running needs only the app's dependencies; testing adds the dev extras.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev migrate seed lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Web server, Celery worker and beat scheduler together on embedded defaults (SQLite,
# filesystem broker); Ctrl-C stops all three.
run: seed
	@echo ""
	@echo "Waybill is starting: admin http://$(HOST):$(PORT)/admin/  API docs http://$(HOST):$(PORT)/api/docs/"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 --hostname=worker@%h & \
	$(BIN)/celery -A config beat --loglevel=INFO & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

test: install-dev
	@eval "$$($(BIN)/python scripts/pick_services.py)"; \
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	@eval "$$($(BIN)/python scripts/pick_services.py)"; \
	$(BIN)/python bench/order_place.py

clean:
	rm -rf var staticfiles .pytest_cache .hypothesis
