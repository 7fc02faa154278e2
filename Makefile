# fanout — every target installs what it needs first.
SHELL := /bin/bash
BIN := node_modules/.bin

.PHONY: help install build typecheck lint format unit check-build test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install npm dependencies (npm ci) when missing or stale

build: install ## bundle every function into dist/<name>/index.mjs and dist/<name>.zip
	node scripts/build.mjs

typecheck: install ## TypeScript, strict
	$(BIN)/tsc -p tsconfig.json --noEmit
	$(BIN)/tsc -p local/dashboard/tsconfig.json --noEmit

lint: install ## formatter + linter (biome)
	$(BIN)/biome check .

format: install ## apply formatting and safe lint fixes
	$(BIN)/biome check --write .

unit: install ## jest: unit and integration tests, with shared/ coverage >= 90%
	$(BIN)/jest --coverage

check-build: build ## build, then check every bundle loads and a rebuild is byte-identical
	node scripts/check-bundles.mjs

test: typecheck lint unit check-build ## everything CI runs

clean: ## remove build and test output
	rm -rf dist coverage
