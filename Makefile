# postgrest_ext — two commands on a fresh machine: `make run` and `make test`.
# Everything missing (Debian packages, cargo-pgrx 0.18.1) is installed by scripts/deps.sh.

PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
HTTP_PORT  ?= 3000
PG_PORT    ?= 5433
DEMO_DIR   ?= .cluster/demo
SUDO_FLAG  := $(if $(filter 0,$(shell id -u)),,--sudo)
CLUSTER    := scripts/cluster.sh
CONFORMANCE_CASES ?= ../shared/conformance/cases
CONFORMANCE_ONLY  ?=

.PHONY: deps build install run start stop psql test test-core conformance replicas fuzz bench clean

deps:
	@scripts/deps.sh

build: deps
	cargo build --release --lib

## install the extension (release build) into the system PostgreSQL 15
install: deps
	cargo pgrx install --release --pg-config $(PG_CONFIG) $(SUDO_FLAG)

## the demo shop on http://127.0.0.1:$(HTTP_PORT) until Ctrl-C
run: install
	@scripts/demo.sh start $(DEMO_DIR) $(PG_PORT) $(HTTP_PORT)
	@scripts/demo.sh foreground $(DEMO_DIR) $(PG_PORT) $(HTTP_PORT)

## the same server in the background
start: install
	@scripts/demo.sh start $(DEMO_DIR) $(PG_PORT) $(HTTP_PORT)

stop:
	@$(CLUSTER) stop $(DEMO_DIR)

psql:
	@PGDATABASE=shop $(CLUSTER) psql $(DEMO_DIR)

## every test layer; ends with one line "N passed, N failed"
test: install
	@scripts/test.sh

test-core:
	cargo test -p postgrest-core

## PostgREST's own test suite, converted: fresh cluster with its fixtures, all configs
conformance: install
	@CONFORMANCE_CASES=$(CONFORMANCE_CASES) CONFORMANCE_ONLY=$(CONFORMANCE_ONLY) scripts/conformance.sh

## a primary and a hot standby both serving the API (also part of `make test`)
replicas: install
	@scripts/replica.sh

## fuzz every parser (URL language, request, headers, payloads, JWT) for a bounded time each
fuzz:
	@scripts/fuzz.sh

bench: install
	@scripts/bench.sh

clean:
	-$(CLUSTER) stop $(DEMO_DIR)
	rm -rf .cluster target
