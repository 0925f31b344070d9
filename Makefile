# Two commands: `make run` brings the line up, `make test` proves it works.
PYTHON ?= python3.11
APP := .venv/.ready
NLU := .venv-nlu/.ready

.PHONY: run test env lint check bench bench-languages bench-phone bench-browser-phone bench-callbacks bench-dashboard bench-suite clean

run: env ## create both environments, train the NLU model if the flows changed, start the services
	.venv/bin/ivr run

test: env ## the whole test suite, real Rasa included
	.venv/bin/python -m pytest

env: ## both environments (cached by content hash in ~/.cache/ivr)
	$(PYTHON) tools/bootstrap.py system app nlu

lint: env ## ruff, mypy --strict (bot, voice, ivr, tests, the emulator, bench) and the import contracts
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/mypy emulator/twilio_emulator
	# bench's scripts import each other by name; bench/peer runs in Pipecat's own environment
	MYPYPATH=bench .venv/bin/mypy --strict --explicit-package-bases --exclude 'bench/peer/' bench
	.venv/bin/lint-imports

check: env ## validate the flows
	.venv/bin/ivr flows check flows/

bench: env ## NLU training, load and parse latency; writes docs/benchmarks.md
	.venv/bin/python bench/nlu.py --write docs/benchmarks.md

bench-languages: env ## accuracy, off-topic rejection and language switches per language (and per-language models) -> docs/benchmarks.md
	.venv/bin/python bench/languages.py --compare --write docs/benchmarks.md

bench-phone: env ## turn latency, warm start, capacity against a Pipecat peer -> docs/benchmarks.md
	$(PYTHON) tools/bootstrap.py peer
	.venv/bin/python bench/turn_latency.py --write docs/benchmarks.md
	.venv/bin/python bench/warm_start.py --write docs/benchmarks.md
	.venv/bin/python bench/capacity.py --write docs/benchmarks.md

bench-browser-phone: env ## a call from Chromium: call -> greeting, key -> reply -> docs/benchmarks.md
	.venv/bin/python bench/browser_phone.py --write docs/benchmarks.md

bench-callbacks: env ## callback dispatch lag and throughput, 4 workers on PostgreSQL -> docs/benchmarks.md
	.venv/bin/python bench/callbacks.py --write docs/benchmarks.md

bench-dashboard: env ## the dashboard's figures over 100,000 calls, SQLite and PostgreSQL -> docs/benchmarks.md
	.venv/bin/python bench/dashboard.py --write docs/benchmarks.md

bench-suite: env ## make test in a fresh clone, timed -> docs/benchmarks.md (SUITE=--fresh-cache: empty cache)
	.venv/bin/python bench/suite.py $(SUITE) --write docs/benchmarks.md

clean: ## remove the checkout's links to the cached environments (the cache stays)
	rm -f .venv .venv-nlu
