# The two commands a user needs: `make lab` and `make test`. `make test-fast` is the inner loop.
SHELL := /bin/bash
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
CACHE := $(ROOT)/.cache
HACRON_CACHE ?= $(HOME)/.cache/hacron
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0

LAB_INVENTORY := inventories/lab
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
ARTIFACT := $(CACHE)/build/hacron-dkron-$(VERSION).tar.gz
# Outside the checkout: inside it, ansible-test would list files with git, which ignores .cache/.
SANITY_ROOT := $(or $(TMPDIR),/tmp)/hacron-dkron-sanity

.PHONY: help setup setup-venv lab lab-up lab-down lab-ping lab-converge lab-status test test-fast lint build sanity \
        units integration molecule bench-converge bench-jobs bench-rolling ui-screenshot clean

help:
	@echo "make lab        from nothing to a Dkron cluster on the lab (setup, hosts, site.yml, status)"
	@echo "make test       everything CI runs: lint, sanity, unit, integration, molecule"
	@echo "make test-fast  unit tests and the loopback Dkron tests"
	@echo "make lab-down   remove the lab's hosts and network"

# Installs and builds everything, cached; see scripts/setup.sh.
setup:
	./scripts/setup.sh

# Only the virtualenv and the collection link (no Docker work).
setup-venv:
	SETUP_SKIP_IMAGES=1 ./scripts/setup.sh

lab: setup lab-up lab-ping lab-converge lab-status

lab-up:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml

lab-down:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/lab.yml -e lab_state=absent

lab-ping:
	ansible -i $(LAB_INVENTORY) all -m ansible.builtin.ping

lab-converge:
	ansible-playbook -i $(LAB_INVENTORY) site.yml

lab-status:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

test: setup lint sanity units integration molecule

test-fast: setup-venv units integration

lint:
	ansible-lint

build:
	ansible-galaxy collection build --force --output-path $(CACHE)/build

# ansible-test wants the collection at .../ansible_collections/NAMESPACE/NAME: install the
# artifact there (its dependencies come from the virtualenv's "ansible" package).
sanity: build
	rm -rf $(SANITY_ROOT)
	ansible-galaxy collection install --no-deps --force -p $(SANITY_ROOT) $(ARTIFACT)
	cd $(SANITY_ROOT)/ansible_collections/hacron/dkron && \
	  ansible-test sanity --color no --python $$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
	    --requirements

units:
	pytest tests/unit

integration:
	pytest tests/integration

# The scenarios deploy Dkron from the image archive that setup saves; without a Dkron binary
# there is none (see scripts/setup.sh), and they are skipped unless HACRON_REQUIRE_DKRON=1.
# default runs on Debian 12 hosts, overlay on Debian 13 ones: both releases are converged.
# rolling_update converges Dkron 4.1.1 and upgrades it to 4.1.2 (both archives come from setup).
molecule:
	@if [ -s "$(HACRON_CACHE)/images/dkron-4.1.2.tar" ] || [ "$${HACRON_REQUIRE_DKRON:-0}" = 1 ]; then \
	  molecule test -s default && HACRON_LAB_SUITE=trixie molecule test -s overlay && molecule test -s rolling_update; \
	else \
	  echo "SKIPPED molecule: no Dkron image archive at $(HACRON_CACHE)/images/dkron-4.1.2.tar (see setup's summary)"; \
	fi

# Benchmarks: run on demand, never in CI (the machines are shared and noisy).
bench-converge: setup
	python bench/converge_lab.py

bench-jobs: setup
	python bench/job_set.py

bench-rolling: setup
	python bench/rolling_update.py

# A screenshot of the lab's UI through the proxy, logged in (Debian's chromium; not run in CI).
# Playwright's Python package brings its driver, no browser: installed here, on demand.
ui-screenshot: setup-venv
	@command -v chromium >/dev/null && command -v certutil >/dev/null || \
	  { echo "needs Debian's chromium and libnss3-tools: apt install chromium libnss3-tools"; exit 1; }
	pip install -q playwright
	DKRON_API_PASSWORD=lab-only-password python scripts/ui_screenshot.py --url https://172.30.0.11/ui/ \
	  --user admin --ca $(HACRON_CACHE)/lab-ca.crt --out $(CACHE)/ui.png

clean:
	rm -rf $(CACHE)/build $(SANITY_ROOT) .pytest_cache
