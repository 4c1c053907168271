#!/usr/bin/env bash
# The whole test suite: set-up, the local test cluster, then every test (unit and e2e).
# Extra arguments go to pytest (e.g. scripts/test.sh -k waypoint).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "test: starting the local test cluster: ${AMBIENTCTL_CLUSTER_STATE:-instance \"test\"} (first run builds Kubernetes from source)" >&2
# The tests' own instance (state-test): `make demo` runs on instance "demo", so neither sees the other's objects.
tests/cluster up >/dev/null  # $AMBIENTCTL_CLUSTER_STATE, else instance "test"
set +e
.venv/bin/pytest tests "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "test: pytest collected no tests: failing" >&2
  exit 1
fi
exit "$code"
