# make run: set up and start the app with demo data.   make test: set up and run the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# What makemessages must not read: the virtualenv, collected static files, tests and benchmarks.
NOT_OURS := -i $(VENV) -i staticfiles -i bench -i tests -i node_modules

.PHONY: run test setup migrate bench messages clean

$(BIN)/.installed: requirements.txt requirements-dev.txt requirements-browser.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed

migrate: setup
	$(BIN)/python manage.py migrate --noinput -v0

# /metrics: the server's figures in $(RUN)/metrics (emptied before it starts), for the token kept in $(RUN)/metrics-token.
RUN := .run
METRICS := PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/$(RUN)/metrics METRICS_TOKEN_FILE=$(CURDIR)/$(RUN)/metrics-token

run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py demo --if-empty
	rm -rf $(RUN)/metrics && mkdir -p $(RUN)/metrics
	test -s $(RUN)/metrics-token || (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))' > $(RUN)/metrics-token)
	@echo 'Metrics: curl -H "Authorization: Bearer $$(cat $(RUN)/metrics-token)" http://$(HOST):$(PORT)/metrics'
	@# The webhook worker runs beside the server and is stopped with it.
	$(METRICS) $(BIN)/python manage.py deliver_webhooks & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(METRICS) $(BIN)/daphne -b $(HOST) -p $(PORT) --access-log /dev/null config.asgi:application

test: setup
	$(BIN)/lint-imports --no-cache
	node --test tests/js/
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

messages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans $(NOT_OURS)
	$(BIN)/python manage.py makemessages -d djangojs -l zh_Hans $(NOT_OURS) -i static/vendor
	$(BIN)/python manage.py compilemessages -l zh_Hans -i $(VENV)

clean:
	rm -rf $(VENV) staticfiles $(RUN)
