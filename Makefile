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
        units integration molecule bench-converge bench-jobs bench-rolling bench-exporter bench-catchup ui-screenshot alerts-screenshot clean

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

# setup, then the checks (lint, sanity, unit, integration) beside the molecule scenarios, with each
# phase's wall time at the end (scripts/test_all.sh).
test:
	./scripts/test_all.sh

test-fast: setup-venv units integration

lint:
	ansible-lint
	antsibull-changelog lint

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

# The scenarios deploy Dkron from the image archives that setup saves (all four versions: the
# rolling_update scenario goes 4.0.8 -> 4.0.9 -> 4.1.1 -> 4.1.2). Without them the scenarios are
# skipped, and under HACRON_REQUIRE_DKRON=1 (CI) that is a failure. They run side by side, each on
# its own hosts and network (scripts/molecule_all.sh; `make molecule SCENARIOS=default` for one).
DKRON_TEST_VERSIONS := 4.1.2 4.1.1 4.0.9 4.0.8
molecule:
	@missing=""; for version in $(DKRON_TEST_VERSIONS); do \
	  [ -s "$(HACRON_CACHE)/images/dkron-$$version.tar" ] || missing="$$missing $(HACRON_CACHE)/images/dkron-$$version.tar"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$${HACRON_REQUIRE_DKRON:-0}" = 1 ]; then \
	    echo "FAILED molecule: HACRON_REQUIRE_DKRON=1 and no Dkron image archive at$$missing (see setup's summary)"; exit 1; \
	  fi; \
	  echo "SKIPPED molecule: no Dkron image archive at$$missing (see setup's summary)"; exit 0; \
	fi; \
	./scripts/molecule_all.sh $(SCENARIOS)

# Benchmarks: run on demand, never in CI (the machines are shared and noisy).
bench-converge: setup
	python bench/converge_lab.py

bench-jobs: setup
	python bench/job_set.py

bench-exporter: setup
	python bench/exporter.py

# What the catch-up service costs while nothing happens; BASELINE=<git rev> compares with that one.
bench-catchup: setup
	python bench/catchup_idle.py $(if $(BASELINE),--baseline $(BASELINE))

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

# Prometheus's alerts page on the lab's monitoring host, where it listens on loopback: through an
# SSH tunnel from local port 19090, closed after the screenshot. Debian's Prometheus serves its
# classic pages (no React UI is built), so the alerts are at /classic/alerts.
LAB_MONITOR := 172.30.0.21
LAB_SSH := ssh -i $(HACRON_CACHE)/lab-ssh/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -o ExitOnForwardFailure=yes
alerts-screenshot: setup-venv
	@command -v chromium >/dev/null || { echo "needs Debian's chromium: apt install chromium"; exit 1; }
	pip install -q playwright
	$(LAB_SSH) -f -L 127.0.0.1:19090:127.0.0.1:9090 root@$(LAB_MONITOR) sleep 60
	# The firing and pending alerts unfolded, to show their labels (which job, which server).
	python scripts/ui_screenshot.py --url http://127.0.0.1:19090/classic/alerts --out $(CACHE)/alerts.png \
	  --click 'tr.alert-danger.alert_header' --click 'tr.alert-warning.alert_header'

clean:
	rm -rf $(CACHE)/build $(SANITY_ROOT) .pytest_cache
