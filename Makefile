# make run: set up and start the app with demo data.   make test: set up and run the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

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

run: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py demo --if-empty
	@# The webhook worker runs beside the server and is stopped with it.
	$(BIN)/python manage.py deliver_webhooks & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

messages: setup
	cd redemption && ../$(BIN)/python ../manage.py makemessages -l zh_Hans -l en --no-obsolete
	cd staff && ../$(BIN)/python ../manage.py makemessages -l zh_Hans -l en --no-obsolete
	$(BIN)/python manage.py compilemessages

clean:
	rm -rf $(VENV) staticfiles
