# The two commands of the README. Both set up everything they need.
.PHONY: demo test setup cluster-down reference

demo:  ## the guide's steps through ambientctl (local cluster instance "demo" unless KUBECONFIG/CLUSTER is given)
	scripts/setup.sh
	.venv/bin/python scripts/walkthrough.py

test:  ## the whole test suite (local cluster instance "test": never the demo's)
	scripts/test.sh

setup:
	scripts/setup.sh

cluster-down:  ## stop every local cluster instance (test, demo, parity)
	tests/cluster down --all

reference:  ## regenerate docs/reference.md
	.venv/bin/python -m ambientctl.cli.reference > docs/reference.md
