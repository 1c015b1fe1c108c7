# Two commands a newcomer needs: `make run` and `make test`. Everything else is below.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# The local Stripe server `make run` starts; the web server and the workers use it.
STRIPE_PORT ?= 12111
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

# Web server, Celery worker, beat scheduler and the local Stripe server together on
# embedded defaults (SQLite, filesystem broker); Ctrl-C stops them all.
run: seed
	@echo ""
	@echo "Waybill is starting: admin http://$(HOST):$(PORT)/admin/  API docs http://$(HOST):$(PORT)/api/docs/"
	@trap 'kill 0' INT TERM EXIT; \
	export STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT); \
	$(BIN)/python manage.py stripe_sandbox --host 127.0.0.1 --port $(STRIPE_PORT) \
		--webhook-url http://$(HOST):$(PORT)/api/v1/stripe/webhook/ & \
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
	@eval "$$($(BIN)/python scripts/pick_services.py --create-database)"; \
	$(BIN)/python manage.py migrate --noinput >/dev/null; \
	$(BIN)/python bench/order_place.py

clean:
	rm -rf var staticfiles .pytest_cache .hypothesis
