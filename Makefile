# The commands people type. Every target works on a fresh clone with only Go
# installed; `make ci` runs the full suite exactly as CI does.

# Every Go module of the workspace (go.work).
MODULES := pkg services/customer services/employee local e2e
PACKAGES := $(foreach m,$(MODULES),./$(m)/...)
N ?= 50

.PHONY: run test ci lint fmt build migrate seed fuzz account-add account-reset

## run: the whole application on http://127.0.0.1:3000 (embedded database, demo data)
run:
	go run ./local

## test: every module's tests (browser tests skip loudly without Chromium)
test:
	@command -v chromium >/dev/null 2>&1 || echo "WARNING: no chromium on PATH: the browser tests in e2e/ will be SKIPPED (apt-get install chromium, or run bash .ci/run)"
	go test -count=1 $(PACKAGES)

## ci: the full suite as CI runs it (installs Chromium when missing)
ci:
	bash .ci/run

## lint: gofmt and go vet across the workspace
lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(PACKAGES)

fmt:
	gofmt -w $(MODULES)

## build: the production binaries into bin/
build:
	CGO_ENABLED=0 go build -trimpath -o bin/customer ./services/customer
	CGO_ENABLED=0 go build -trimpath -o bin/employee ./services/employee
	CGO_ENABLED=0 go build -trimpath -o bin/suppliersdb ./pkg/suppliers/cmd/suppliersdb

## migrate: apply the schema to the database named by APP_DB_*
migrate:
	go run ./pkg/suppliers/cmd/suppliersdb migrate

## seed: insert N (default 50) demo suppliers into the database named by APP_DB_*
seed:
	go run ./pkg/suppliers/cmd/suppliersdb seed -n $(N)

## account-add: create an employee account, EMAIL=ana@example.com (asks for the password, or reads it from stdin)
account-add:
	@test -n "$(EMAIL)" || { echo "usage: make account-add EMAIL=ana@example.com" >&2; exit 2; }
	go run ./services/employee accounts add --email "$(EMAIL)"

## account-reset: set a new password for an employee account, EMAIL=ana@example.com
account-reset:
	@test -n "$(EMAIL)" || { echo "usage: make account-reset EMAIL=ana@example.com" >&2; exit 2; }
	go run ./services/employee accounts reset-password --email "$(EMAIL)"

## fuzz: run each fuzz target for FUZZTIME (default 10s)
FUZZTIME ?= 10s
fuzz:
	go test ./pkg/suppliers -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)
	go test ./pkg/suppliers -run '^$$' -fuzz '^FuzzParseID$$' -fuzztime $(FUZZTIME)
