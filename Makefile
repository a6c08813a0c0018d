# Thin wrappers; README.md explains each target.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run production-like (DEBUG off) with a throwaway key, over plain HTTP.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} DEBUG=0 SECURE_SSL_REDIRECT=0 PYTHON=$(PY)
DEV_ENV := DEBUG=1

.PHONY: run test lint smoke bench-import bench-web bench-admin clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

## run: the site with demo content on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL is set)
run: $(VENV)/.installed
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

## test: lint, migration check and the whole suite against PostgreSQL
test: $(VENV)/.installed lint
	$(TEST_ENV) scripts/with-postgres $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) scripts/with-postgres $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## smoke: the zero-setup path (SQLite, demo content, home page) in a temp folder
smoke: $(VENV)/.installed
	PYTHON=$(PY) scripts/smoke

## bench-import: generate 100,000 posts, import them twice into a scratch PostgreSQL database, print posts/s and peak RSS
bench-import: $(VENV)/.installed
	$(TEST_ENV) scripts/with-postgres $(PY) bench/import.py $(BENCH_ARGS)

## bench-web: load 1,000,000 posts into a dedicated database, serve with gunicorn -w2, wrk each page and two references
bench-web: $(VENV)/.installed
	$(PY) bench/web.py $(BENCH_ARGS)

## bench-admin: load 1,000,000 posts into a dedicated database, time the post changelist, filters, search, autocompletes
bench-admin: $(VENV)/.installed
	$(PY) bench/admin.py $(BENCH_ARGS)

## worker: a Celery worker for the background jobs; needs CELERY_BROKER_URL (redis://127.0.0.1:6379/1 or amqp://…)
.PHONY: worker
worker: $(VENV)/.installed
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL: without a broker, jobs run in the web process and need no worker."; exit 2; }
	$(VENV)/bin/celery -A finews worker --loglevel=INFO $(WORKER_ARGS)

clean:
	rm -rf $(VENV) var staticfiles
