# leadscore - developer and demo entry points. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint serve clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install leadscore with its dev tools and the Spark extra

demo: $(STAMP) ## generate a CRM history, train and register the models, serve and score sample leads
	$(BIN)/leadscore demo

test: $(STAMP) ## run the whole test suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

serve: $(STAMP) ## serve the API on the registered champion models
	$(BIN)/leadscore serve

clean: ## remove generated files (.leadscore/) but keep the venv
	rm -rf .leadscore
