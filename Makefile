# PFDO platform. `make up` runs everything locally; `make test` runs the whole test suite.
# Both prepare the machine first (Python environment, Java, Maven, PostgreSQL, nginx, Kafka jars).

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := uv run --frozen
BOOTSTRAP := deploy/local/bootstrap.sh

.PHONY: help bootstrap up down status logs demo test test-unit test-long bench chaos fuzz schemas openapi docs errors clean

help:
	@echo "make up      - start Kafka, PostgreSQL, the four services, the portal and the gateway on 127.0.0.1:8080, with demo data"
	@echo "make down    - stop everything 'make up' started"
	@echo "make status  - what is running";  echo "make logs    - tail the logs (PART=billing for one)"
	@echo "make test    - the full test suite against real Kafka and PostgreSQL"
	@echo "make test-unit - the fast unit and property tests only"
	@echo "make test-long - every property test with many more examples (Hypothesis profile 'long')"
	@echo "make demo    - the school-year story against a running 'make up'"
	@echo "make bench   - benchmarks beside raw Kafka / PostgreSQL baselines (the portal: beside its API calls; Lighthouse)"
	@echo "make chaos   - the full fault-injection suite";  echo "make fuzz    - long API fuzzing run"
	@echo "make schemas - regenerate event JSON Schemas, AsyncAPI documents and the event catalogue"
	@echo "make openapi - regenerate the committed OpenAPI documents and the TypeScript client's types"
	@echo "make errors  - regenerate the error-code catalogue (docs/ERRORS.md, docs/errors.json)"
	@echo "make docs    - regenerate the gateway's /docs pages (after make schemas and the error catalogue)"

bootstrap:
	@bash $(BOOTSTRAP)

up: bootstrap
	@$(UV) pfdo-stack up

down:
	@$(UV) pfdo-stack down

status:
	@$(UV) pfdo-stack status

logs:
	@$(UV) pfdo-stack logs $(PART)

demo:
	@$(UV) python -m pfdo_devstack.demo

test: bootstrap
	@$(UV) pytest -p no:cacheprovider -q --durations=25

test-unit:
	@$(UV) pytest -q -m "not integration"

test-long: bootstrap
	@HYPOTHESIS_PROFILE=long $(UV) pytest -p no:cacheprovider -q -m hypothesis

bench: bootstrap
	@$(UV) python -m bench $(BENCH)

chaos: bootstrap
	@PFDO_CHAOS=full $(UV) pytest -q tests/faults

fuzz: bootstrap
	@PFDO_FUZZ_EXAMPLES=200 $(UV) pytest -q tests/security/test_fuzz.py

schemas:
	@$(UV) python -m pfdo_contracts.schemas export
	@for s in registry navigator billing ratings; do $(UV) python -m pfdo_contracts.asyncapi $$s; done
	@$(UV) python -m pfdo_contracts.catalogue

openapi:
	@$(UV) python -m pfdo_devstack.web
	@$(UV) python -m pfdo_devstack.apidocs openapi typescript

docs:
	@$(UV) python -m pfdo_devstack.apidocs site

errors:
	@$(UV) python -m pfdo_plumbing.http.error_catalogue

clean: down
	rm -rf .work/stack .work/test-stack
