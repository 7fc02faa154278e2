# fanout — every target installs what it needs first.
SHELL := /bin/bash
BIN := node_modules/.bin

ENV ?= dev

.PHONY: help install build dev typecheck lint deps format unit check-build test reliability clean \
	tf-check tf-fmt tf-docs tf-contract plan apply destroy apache-config screenshots bench bench-latency bench-quick bench-cpu bench-cost

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# npm install (not npm ci): installs from the lock, and tolerates optional platform binaries the lock
# cannot list.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install npm dependencies from package-lock.json when missing or stale

build: install ## bundle every function into dist/<name>/index.mjs and dist/<name>.zip
	node scripts/build.mjs

# PORT and DASHBOARD_PORT on the make command line (`make dev PORT=4610`) become --port and
# --dashboard-port; only from the command line, so that a PORT exported for something else does not
# move the platform. ARGS go to `fanout dev` as they are (`make dev ARGS='--data-dir .fanout/data'`).
dev_port = $(if $(filter command line,$(origin $(1))),$(2) $($(1)))
dev: build ## run the whole platform locally (Ctrl+C stops it); endpoints go to .fanout/local.json: PORT=N DASHBOARD_PORT=N ARGS='…'
	node sdk/cli/bin/fanout.mjs dev $(call dev_port,PORT,--port) $(call dev_port,DASHBOARD_PORT,--dashboard-port) $(ARGS)

typecheck: install ## TypeScript, strict
	$(BIN)/tsc -p tsconfig.json --noEmit
	$(BIN)/tsc -p local/dashboard/tsconfig.json --noEmit

lint: install ## formatter + linter (biome)
	$(BIN)/biome check .

deps: install ## import direction: the layer rules of .dependency-cruiser.cjs (docs/architecture.md)
	$(BIN)/depcruise --config .dependency-cruiser.cjs functions backend shared sdk local bench

format: install ## apply formatting and safe lint fixes
	$(BIN)/biome check --write .

unit: build ## jest: unit, integration (local platform), e2e and Terraform tests; shared/ coverage >= 90%
	$(BIN)/jest --coverage

check-build: build ## build, then check every bundle loads and a rebuild is byte-identical
	node scripts/check-bundles.mjs

test: typecheck lint deps unit check-build ## everything CI runs

# The browser test drives both pages against the whole local platform; SCREENSHOTS_DIR makes it save them.
screenshots: build ## PNGs of the dashboard and the inspector in docs/screenshots (Debian's chromium)
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/jest test/e2e/dashboard.test.ts

reliability: build ## run the reliability suite (test/reliability) and render docs/reliability.md from its figures
	$(BIN)/tsx scripts/reliability/run.ts

bench: build ## the benchmarks of issue 9 (6 to 10 min): bench/results/latest.md, charts, README and cost tables
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true $(BIN)/tsx bench/main.ts

bench-latency: build ## only the end-to-end latency scenario (about 1 min): bench/results/latency.md
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true $(BIN)/tsx bench/main.ts --only latency

bench-quick: build ## the same benchmarks, smaller (about 1 min)
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true $(BIN)/tsx bench/main.ts --quick

bench-cpu: build ## only CPU per delivery at N=10,000: the fan-out bundle against the sample, 3 runs alternating
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true $(BIN)/tsx bench/cpu.ts --sample

bench-cost: install ## the cost tables from the last bench results (or stated defaults), into terraform/README.md and bench/results/cost.md
	$(BIN)/tsx bench/cost/main.ts

tf-check: install ## offline Terraform checks (no provider needed): checker, fixtures, policy tests, README tables
	$(BIN)/jest test/terraform

tf-fmt: install ## lay out every .tf/.tfvars under terraform/ with terraform fmt (hcl-tools when no terraform is on PATH)
	$(BIN)/tsx scripts/terraform/cli.ts fmt

tf-docs: install ## regenerate the inputs/outputs tables of the Terraform READMEs
	$(BIN)/tsx scripts/terraform/cli.ts docs

tf-contract: install ## write terraform/modules/fanout/backend-contract.json from shared/backend/contract.ts (the HTTP integrations' parameters)
	$(BIN)/tsx scripts/terraform/cli.ts contract

plan: ## terraform plan for ENV (default dev): preflight, build the zips, init the S3 backend, plan
	@scripts/terraform/tf.sh plan $(ENV) --preflight-only
	$(MAKE) build
	scripts/terraform/tf.sh plan $(ENV)

apply: ## terraform apply for ENV (default dev) after building the zips: the plan make plan saved if nothing changed since, else plan + apply (asks first)
	@scripts/terraform/tf.sh apply $(ENV) --preflight-only
	$(MAKE) build
	scripts/terraform/tf.sh apply $(ENV)

destroy: ## terraform destroy for ENV (default dev)
	scripts/terraform/tf.sh destroy $(ENV)

# FOR=aws reads `terraform output -json` of terraform/ (after make apply); FOR=local reads the
# .fanout/local.json that make dev writes. ARGS go to deploy/apache/render.ts (--help lists them).
FOR ?= local
OUT ?= .fanout/apache-$(FOR).conf
apache-config: install ## render the Apache vhost (deploy/apache) to OUT: FOR=aws|local ARGS='--server-name … --cert … --key …'
	@mkdir -p "$(dir $(OUT))"
	@set -o pipefail; case "$(FOR)" in \
	  aws) terraform -chdir=terraform output -json | $(BIN)/tsx deploy/apache/render.ts aws --terraform-output - --out "$(OUT)" $(ARGS) ;; \
	  local) $(BIN)/tsx deploy/apache/render.ts local --endpoints .fanout/local.json --out "$(OUT)" $(ARGS) ;; \
	  *) echo "make apache-config: FOR must be aws or local, got '$(FOR)'" >&2; exit 2 ;; \
	esac

clean: ## remove build and test output
	rm -rf dist coverage terraform/*.tfplan terraform/*.tfplan.inputs
