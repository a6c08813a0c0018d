# Thin wrappers; README.md explains each target. bin/finews sets up the environment of a local checkout.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT
# Tests run production-like (DEBUG off) with a throwaway key, over plain HTTP (pytest reads the same
# values from pyproject.toml).
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} DEBUG=0 SECURE_SSL_REDIRECT=0 \
	SITE_URL=http://127.0.0.1:8000 PYTHON=$(PY)

.PHONY: venv dev-tools run dev worker test lint fuzz check-run audit bench-import bench-web bench-soak bench-search bench-admin serve-production cluster clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

## venv: the virtualenv with the pinned runtime requirements, made or brought up to date
venv: $(VENV)/.installed
	@:

## dev-tools: the same virtualenv plus the test, lint and audit tools (requirements-dev.txt)
dev-tools: $(VENV)/.installed-dev
	@:

## run: the site with demo content on http://$(HOST):$(PORT), production-like (DEBUG off, gunicorn, whitenoise)
run: venv
	bin/finews migrate --no-input
	bin/finews collectstatic --no-input --verbosity 0
	bin/finews load_demo
	bin/finews serve

## dev: the same site in debug mode, reloaded when the code changes (runserver, DEBUG on)
dev: venv
	DEBUG=1 bin/finews migrate --no-input
	DEBUG=1 bin/finews load_demo
	DEBUG=1 bin/finews runserver $(HOST):$(PORT)

## worker: a Celery worker for the background jobs, with the site's environment plus CELERY_BROKER_URL
worker: venv
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (redis://127.0.0.1:6379/1 or amqp://…): without a broker, jobs run in the web process and need no worker."; exit 2; }
	$(VENV)/bin/celery -A finews worker --loglevel=INFO $(WORKER_ARGS)

## test: lint, migration check and the whole suite against PostgreSQL
test: dev-tools lint
	$(TEST_ENV) scripts/with-postgres $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) scripts/with-postgres $(PY) -m pytest $(PYTEST_ARGS)

lint: dev-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## fuzz: fuzz the post parser for FUZZ_SECONDS (60; FUZZ_SECONDS=3600 for an hour); crashes saved in var/fuzz/
FUZZ_SECONDS ?= 60
fuzz: dev-tools
	mkdir -p var/fuzz/corpus
	$(PY) fuzz/parse_post.py var/fuzz/corpus fuzz/seeds -dict=fuzz/parse_post.dict \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=32768 -artifact_prefix=var/fuzz/

## check-run: `make run` from a fresh clone of HEAD with an empty HOME and no DATABASE_URL, checked over HTTP
check-run:
	scripts/check-run

## audit: the pinned requirements checked for known vulnerabilities (pip-audit)
audit: dev-tools
	PYTHON=$(PY) scripts/audit

## bench-import: generate 100,000 posts, import them twice into a scratch PostgreSQL database, print posts/s and peak RSS
bench-import: dev-tools
	$(TEST_ENV) scripts/with-postgres $(PY) bench/import.py $(BENCH_ARGS)

## bench-web: load 1,000,000 posts into a dedicated database, serve with gunicorn -w2, wrk each page and two references, then the cached site (nginx, page cache, publishing while loaded)
bench-web: dev-tools
	$(PY) bench/web.py $(BENCH_ARGS)

## bench-soak: 10 minutes at saturation on the bench-web database, a mix of pages with cold articles: failures, worker memory, connections
bench-soak: dev-tools
	$(PY) bench/soak.py $(BENCH_ARGS)

## bench-search: load 1,000,000 posts into a dedicated database, time the search page's eleven query classes over HTTP
bench-search: dev-tools
	$(PY) bench/search.py $(BENCH_ARGS)

## bench-admin: load 1,000,000 posts into a dedicated database, time the post changelist, filters, search, autocompletes
bench-admin: dev-tools
	$(PY) bench/admin.py $(BENCH_ARGS)

## serve-production: nginx on deploy/nginx.conf in front of gunicorn, with the environment's settings (SERVE_ARGS="--port 8080")
serve-production:
	scripts/serve-production $(SERVE_ARGS)

## cluster: two app nodes behind nginx, a job worker, a PostgreSQL primary and replica, Redis and S3, on free loopback ports
cluster: dev-tools
	deploy/cluster $(CLUSTER_ARGS)

clean:
	rm -rf $(VENV) var staticfiles
