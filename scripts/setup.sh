#!/usr/bin/env bash
# Everything ambientctl's demo and tests need on a fresh Debian machine, idempotent:
# Debian packages (jq, openssl for the guide's pipeline), a virtualenv with
# ambientctl and its test extras. Go (for the test cluster) must already be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for tool in jq openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
fi

command -v go >/dev/null 2>&1 || { echo "setup: Go is required to build the test cluster (https://go.dev)" >&2; exit 1; }

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.ambientctl-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing ambientctl and test dependencies into .venv" >&2
  .venv/bin/pip install -q --upgrade pip >&2
  .venv/bin/pip install -q -e '.[test]' >&2
  touch "$stamp"
fi
