#!/usr/bin/env bash
# The whole test suite: set-up, the local test cluster, then every test (unit and e2e).
# Extra arguments go to pytest (e.g. scripts/test.sh -k waypoint).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The real-data-plane tests need istiod (tests/reference/build.sh) and ztunnel (tests/ztunnelbuild/build.sh).
# Cold, those builds take tens of minutes: start them now, beside the Kubernetes build and the tests;
# the tests that need them wait on the builds' locks (tests/e2e/conftest.py runs them last).
# Logs: ~/.cache/ambientctl/reference-build.log, ~/.cache/ambientctl/ztunnel/*/build.log.
# Stopped if this script ends first (cached work is kept; the next run resumes).
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ambientctl"
mkdir -p "$cache"
builds=()
setsid tests/reference/build.sh >/dev/null 2>>"$cache/reference-build.log" &
builds+=($!)
setsid tests/ztunnelbuild/build.sh >/dev/null 2>&1 &
builds+=($!)
trap 'for pid in "${builds[@]}"; do kill -- "-$pid" 2>/dev/null || true; done' EXIT
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
