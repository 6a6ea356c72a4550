# The two set-up commands of README.md. Each works on a fresh Debian machine, offline except for the package mirrors.
.PHONY: demo test setup

demo:  ## install, then run the main job on Fashion-MNIST (train -> convert -> verify -> report)
	scripts/setup.sh all
	.venv/bin/edgecnn pipeline fashion_cnn --out artifacts/demo/fashion_cnn

test:  ## install, then run the test suite
	scripts/setup.sh all,dev
	.venv/bin/python -m pytest

setup:
	scripts/setup.sh all,dev
