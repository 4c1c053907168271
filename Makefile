# The two commands of the README. Both set up everything they need.
.PHONY: demo test setup cluster-down reference

demo:  ## the guide's steps through ambientctl (local test cluster unless KUBECONFIG/CLUSTER is given)
	scripts/setup.sh
	.venv/bin/python scripts/walkthrough.py

test:  ## the whole test suite
	scripts/test.sh

setup:
	scripts/setup.sh

cluster-down:
	tests/cluster down

reference:  ## regenerate docs/reference.md
	.venv/bin/python -m ambientctl.cli.reference > docs/reference.md
