# The commands people type. Every target works on a fresh clone with only Go
# installed; `make ci` runs the full suite exactly as CI does.

# Every Go module of the workspace (go.work).
MODULES := pkg services/customer services/employee local e2e containers infra bench
PACKAGES := $(foreach m,$(MODULES),./$(m)/...)
N ?= 50

.PHONY: help env screenshots diagram cost-estimate run test test-mysql ci lint fmt build migrate seed fuzz account-add account-reset account-sign-out-everywhere account-unlock images push standins up down deploy teardown lint-cfn bench bench-go benchstat rehearse

# Images: `make images` builds coffee-suppliers/{customer,employee,suppliersdb}
# (IMAGES: which of them) from the official base images; STANDIN=1 uses the
# local stand-ins of containers/stand-ins/ instead (building them first;
# the runtime's for the target platform, as the Go build runs on this
# machine's), and GO_IMAGE / RUNTIME_IMAGE name any others.
IMAGE_REPO ?= coffee-suppliers
IMAGE_TAG ?= dev
VCS_REF ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
ifeq ($(STANDIN),1)
GO_IMAGE ?= coffee-standin/golang:1.26-bookworm
# Offline, the images get a stand-in CA in place of AWS's RDS bundle: it
# verifies no real database, and is never committed (.gitignore).
RDS_CA_BUNDLE ?= containers/stand-ins/rds-ca-bundle.pem
endif
# image_args PLATFORM: the build arguments for one platform's images.
image_args = $(if $(GO_IMAGE),--build-arg GO_IMAGE=$(GO_IMAGE)) \
	$(if $(RUNTIME_IMAGE),--build-arg RUNTIME_IMAGE=$(RUNTIME_IMAGE),$(if $(filter 1,$(STANDIN)),--build-arg RUNTIME_IMAGE=$(call standin_runtime,$(1)))) \
	$(if $(RDS_CA_BUNDLE),--build-arg RDS_CA_BUNDLE=$(RDS_CA_BUNDLE)) \
	--build-arg VCS_REF=$(VCS_REF) --build-arg VERSION=$(VERSION)

# Plain `make` runs the application, whatever target is defined first.
.DEFAULT_GOAL := run

## help: this list of targets
# Every target has a `## target: description` line above it; help prints them
# aligned, in the Makefile's order.
help:
	@awk '/^## [a-z][a-z-]*: / { sub(/^## /, ""); name = substr($$0, 1, index($$0, ":") - 1); \
	  names[++n] = name; descs[n] = substr($$0, length(name) + 3); if (length(name) > width) width = length(name) } \
	  END { print "make TARGET, one of:"; for (i = 1; i <= n; i++) printf "  %-*s  %s\n", width, names[i], descs[i] }' $(firstword $(MAKEFILE_LIST))

## run: the whole application on http://127.0.0.1:3000 (embedded database, demo data)
run:
	go run ./local

## test: every module's tests, then the store and service tests again on a real MySQL server when Docker answers
# (browser and image tests skip loudly without Chromium or Docker). containers/
# runs on its own: the compose stack's load phases keep both cores busy.
test:
	@command -v chromium >/dev/null 2>&1 || echo "WARNING: no chromium on PATH: the browser tests in e2e/ will be SKIPPED (apt-get install chromium, or run bash .ci/run)"
	@docker info >/dev/null 2>&1 || echo "WARNING: no Docker engine answers: the image tests in containers/ will be SKIPPED (apt-get install docker.io, start dockerd, make images; or run bash .ci/run)"
	@command -v cfn-lint >/dev/null 2>&1 && command -v moto_server >/dev/null 2>&1 && command -v aws >/dev/null 2>&1 || echo "WARNING: cfn-lint, moto_server or aws missing: the offline AWS checks in infra/ will be SKIPPED (pip install cfn-lint 'moto[server]' awscli)"
	go test -count=1 $(filter-out ./containers/...,$(PACKAGES))
	go test -count=1 ./containers/...
	@if image=$$(bash containers/mysql-test-image.sh); then \
	  $(MAKE) --no-print-directory test-mysql TEST_MYSQL_IMAGE="$$image"; \
	else \
	  echo; echo "*** SKIPPED: the store and service tests on a real MySQL server (see above why; make test-mysql runs them)"; echo; \
	fi

## test-mysql: the store and service tests on a real server in Docker, TEST_MYSQL_IMAGE (default mysql:8.4)
# One container per test binary, removed when it ends (so no reaper needed).
test-mysql: export TESTCONTAINERS_RYUK_DISABLED ?= true
test-mysql:
	@image=$$(bash containers/mysql-test-image.sh) || exit 1; \
	echo "the store and service tests on $$image:"; \
	TEST_MYSQL_IMAGE="$$image" go test -count=1 ./pkg/... ./services/customer/... ./services/employee/...

## ci: the full suite as CI runs it (installs Chromium when missing)
ci:
	bash .ci/run

## lint: gofmt and go vet across the workspace
lint:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(PACKAGES)

## fmt: gofmt every module in place
fmt:
	gofmt -w $(MODULES)

## build: the production binaries into bin/
build:
	CGO_ENABLED=0 go build -trimpath -o bin/customer ./services/customer
	CGO_ENABLED=0 go build -trimpath -o bin/employee ./services/employee
	CGO_ENABLED=0 go build -trimpath -o bin/suppliersdb ./pkg/suppliers/cmd/suppliersdb

## images: the three images, tagged $(IMAGE_REPO)/NAME:$(IMAGE_TAG), for PLATFORM (linux/amd64) (needs Docker with BuildKit)
# PLATFORM is the task definitions' CPU (X86_64; linux/arm64 for ARM64, which
# deploy.sh passes for a service on Graviton). The Dockerfiles compile on
# this machine's CPU for the target's, so no build needs an emulator: an
# image of the wrong CPU would stop its tasks with "exec format error".
# PLATFORMS=linux/amd64,linux/arm64 with REGISTRY builds every platform's
# image, pushes each as $(REGISTRY)/$(IMAGE_REPO)/NAME:$(IMAGE_TAG)-ARCH and
# then ONE multi-architecture manifest list as …/NAME:$(IMAGE_TAG): the
# engine's own builder, one platform at a time, as Docker's classic image
# store holds one platform per tag (buildx's docker-container driver would
# need the moby/buildkit image, which an offline machine cannot pull).
IMAGES ?= customer employee suppliersdb
PLATFORM ?= linux/amd64
PLATFORMS ?= $(PLATFORM)
dockerfile_customer := services/customer/Dockerfile
dockerfile_employee := services/employee/Dockerfile
dockerfile_suppliersdb := pkg/suppliers/cmd/suppliersdb/Dockerfile
standin_runtime = coffee-standin/distroless-static:nonroot$(if $(filter linux/arm64,$(1)),-arm64)
comma := ,
platform_list := $(subst $(comma), ,$(PLATFORMS))
define newline


endef
multi_ref = $(REGISTRY)/$(IMAGE_REPO)/$(1):$(IMAGE_TAG)
images: export DOCKER_BUILDKIT := 1
images: $(if $(filter 1,$(STANDIN)),standins containers/stand-ins/rds-ca-bundle.pem)
ifeq ($(words $(platform_list)),1)
	$(foreach n,$(IMAGES),docker build --platform $(PLATFORMS) $(call image_args,$(PLATFORMS)) -f $(dockerfile_$(n)) -t $(IMAGE_REPO)/$(n):$(IMAGE_TAG) .$(newline))
	@docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep '^$(IMAGE_REPO)/.*:$(IMAGE_TAG)\b'
else
	@test -n "$(REGISTRY)" || { echo "make images PLATFORMS=$(PLATFORMS) pushes a multi-architecture manifest: set REGISTRY=host[:port]" >&2; exit 2; }
	$(foreach n,$(IMAGES),$(foreach p,$(platform_list),docker build --platform $(p) $(call image_args,$(p)) -f $(dockerfile_$(n)) -t $(call multi_ref,$(n))-$(notdir $(p)) .$(newline)docker push --quiet $(call multi_ref,$(n))-$(notdir $(p))$(newline))docker buildx imagetools create -t $(call multi_ref,$(n)) $(foreach p,$(platform_list),$(call multi_ref,$(n))-$(notdir $(p)))$(newline))
endif

## push: push the three images to REGISTRY (e.g. 127.0.0.1:5000), tagged with the commit
# As the pipeline pushes to ECR (after `aws ecr get-login-password | docker
# login`): $(REGISTRY)/$(IMAGE_REPO)/NAME:$(COMMIT_TAG), from the local
# $(IMAGE_REPO)/NAME:$(IMAGE_TAG) that make images built.
COMMIT_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
push:
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=host[:port] (make images first)" >&2; exit 2; }
	@test -n "$(COMMIT_TAG)" || { echo "make push: no commit to tag with (not a git checkout?): set COMMIT_TAG" >&2; exit 2; }
	@for name in customer employee suppliersdb; do \
	  ref=$(REGISTRY)/$(IMAGE_REPO)/$$name:$(COMMIT_TAG); \
	  docker tag $(IMAGE_REPO)/$$name:$(IMAGE_TAG) $$ref && docker push --quiet $$ref || exit 1; \
	done

## env: write .env from .env.example with fresh random secrets, unless .env exists
env:
	@go run ./local/cmd/dotenv -example .env.example -out .env

## up: the local stack of docker-compose.yml (MySQL, migration, 2 replicas of each service, HAProxy); returns once all is healthy
# A fresh clone gets its .env (make env) first; then the URL and the first
# administrator's sign-in are read back from .env.
up: env
	VCS_REF=$(VCS_REF) VERSION=$(VERSION) docker compose up -d --wait --wait-timeout 300 --build
	@setting() { sed -n "s/^$$1=//p" .env | tail -n 1; }; \
	port=$$(setting LB_HTTP_PORT); email=$$(setting ADMIN_EMAIL); \
	echo; echo "Coffee Suppliers is running on the compose stack:"; echo; \
	echo "  catalogue        http://127.0.0.1:$${port:-8000}/"; \
	echo "  administration   http://127.0.0.1:$${port:-8000}/admin/suppliers"; \
	if [ -n "$$email" ]; then \
	  echo "  sign in as       $$email"; \
	  echo "  password         $$(setting ADMIN_PASSWORD)   (ADMIN_PASSWORD in .env; it only creates the first account)"; \
	else \
	  echo "  sign in          no ADMIN_EMAIL in .env: add an account with the employee image's 'accounts add' command (docs/accounts.md)"; \
	fi; \
	echo; echo "Stop it with make down (the data stays in its volume)."

## rehearse: a release rehearsed on Docker as the AWS pipeline runs it: build, blue/green, canary, rollbacks (docs/rehearsal.md)
# STANDIN=1 uses the local stand-ins (building them first); REHEARSE_FLAGS,
# e.g. -bake 30s, shortens the canary (and, in proportion, the other waits).
rehearse: $(if $(filter 1,$(STANDIN)),standins)
	go run ./infra/cmd/rehearse $(if $(filter 1,$(STANDIN)),-standin) $(REHEARSE_FLAGS)

## down: stop the local stack (the database volume stays; docker compose down -v deletes it)
down:
	docker compose down

## standins: local stand-ins for the public base images, built without a registry
standins:
	bash containers/stand-ins/build-stand-ins.sh

# The stand-in RDS CA bundle: a self-signed CA whose key is thrown away.
containers/stand-ins/rds-ca-bundle.pem:
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null \
	  -subj "/CN=coffee-suppliers stand-in RDS CA (verifies no real database)" -days 3650 -out $@

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

## account-sign-out-everywhere: end every session of an employee account (a lost laptop), EMAIL=ana@example.com
account-sign-out-everywhere:
	@test -n "$(EMAIL)" || { echo "usage: make account-sign-out-everywhere EMAIL=ana@example.com" >&2; exit 2; }
	go run ./services/employee accounts sign-out-everywhere --email "$(EMAIL)"

## account-unlock: lift an employee account's sign-in limits, EMAIL=ana@example.com
account-unlock:
	@test -n "$(EMAIL)" || { echo "usage: make account-unlock EMAIL=ana@example.com" >&2; exit 2; }
	go run ./services/employee accounts unlock --email "$(EMAIL)"

## screenshots: docs/screenshots/*.png, the README's pictures, from the running app in headless Chromium
screenshots:
	go run ./e2e/cmd/screenshots -out docs/screenshots

## diagram: docs/architecture.{mmd,dot,svg} and the README's diagram, from infra/templates (needs Graphviz's dot)
diagram:
	go run ./infra/cmd/plan diagram

## cost-estimate: docs/cost-estimate.md and .json, from infra/templates, infra/costs/assumptions.json and prices
cost-estimate:
	go run ./infra/cmd/plan cost

## fuzz: run each fuzz target for FUZZTIME (default 10s)
FUZZTIME ?= 10s
fuzz:
	go test ./pkg/suppliers -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)
	go test ./pkg/suppliers -run '^$$' -fuzz '^FuzzParseID$$' -fuzztime $(FUZZTIME)

## deploy: the AWS platform for ENV (infra/params/ENV.json) with awscli; the first run also pushes the first images and runs the first migration
deploy:
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=dev (parameters in infra/params/ENV.json)" >&2; exit 2; }
	bash infra/deploy.sh deploy $(ENV)

## teardown: delete ENV's stacks, newest first (the database leaves a final snapshot)
teardown:
	@test -n "$(ENV)" || { echo "usage: make teardown ENV=dev" >&2; exit 2; }
	bash infra/deploy.sh teardown $(ENV)

## lint-cfn: cfn-lint on every CloudFormation template (with infra/lint-rules)
lint-cfn:
	cfn-lint infra/templates/*.yaml --append-rules infra/lint-rules

## bench: the benchmark harness: both services over MySQL under wrk, beside a bare net/http ceiling; writes docs/benchmarks.md and .json
# The database: APP_DB_* when APP_DB_HOST is set (an account that may create
# databases and users), else a throw-away container of BENCH_MYSQL_IMAGE
# (default mysql:8.4). BENCH_FLAGS: -short, -duration 5s, -out FILE, -profile DIR.
bench:
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs the load generator wrk: apt-get install wrk" >&2; exit 1; }
	go run ./bench $(BENCH_FLAGS)

## bench-go: the Go benchmarks of the hot functions (list pages, validation, queries), COUNT (6) runs each, into BENCH_OUT
# Compare two such files with benchstat: make benchstat OLD=before.txt NEW=after.txt
COUNT ?= 6
BENCH_OUT ?= bench-go.txt
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench-go:
	go test -run '^$$' -bench . -benchmem -count $(COUNT) ./pkg/suppliers ./services/customer/server ./services/employee/server | tee $(BENCH_OUT)

## benchstat: compare two bench-go outputs, OLD=before.txt NEW=after.txt
benchstat:
	@test -n "$(OLD)" -a -n "$(NEW)" || { echo "usage: make benchstat OLD=before.txt NEW=after.txt" >&2; exit 2; }
	go run $(BENCHSTAT) $(OLD) $(NEW)
