# leadscore - developer and demo entry points. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help install browser demo test lint serve clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP) browser ## create .venv and install leadscore with its dev tools, the Spark extra and Chromium

# The dashboard's browser tests drive Debian's Chromium; no test tool downloads a browser.
browser: ## install Debian's chromium for the browser tests, if it is missing (needs root)
	@if [ -x $(CHROMIUM) ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "note: $(CHROMIUM) is missing and this is not root with apt-get:" \
			"the browser tests will be skipped (as root: apt-get install chromium)"; \
	fi

demo: $(STAMP) ## generate a CRM history, train and register the models, serve and score sample leads
	$(BIN)/leadscore demo

test: $(STAMP) browser ## run the whole test suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

serve: $(STAMP) ## serve the API on the registered champion models
	$(BIN)/leadscore serve

clean: ## remove generated files (.leadscore/) but keep the venv
	rm -rf .leadscore
