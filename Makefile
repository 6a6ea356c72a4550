# The two set-up commands of README.md. Each works on a fresh Debian machine, offline except for the package mirrors.
# Both install the same extras (all,dev), so running one after the other installs once.
.PHONY: demo test setup

EXTRAS ?= all,dev

demo:  ## install, then run the main job on Fashion-MNIST (train -> convert -> verify -> report)
	scripts/setup.sh $(EXTRAS)
	.venv/bin/edgecnn pipeline fashion_cnn --out artifacts/demo/fashion_cnn
	@echo "edgecnn is installed in .venv/bin: run '. .venv/bin/activate' to put 'edgecnn' on PATH (or call .venv/bin/edgecnn)"

test:  ## install, then run the test suite
	scripts/setup.sh $(EXTRAS)
	.venv/bin/python -m pytest

setup:
	scripts/setup.sh $(EXTRAS)
