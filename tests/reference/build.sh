#!/usr/bin/env bash
# Builds the reference Istio binaries (istioctl, pilot-discovery) that the parity
# tests and benchmarks compare ambientctl against, from Istio's Go module.
#
#   tests/reference/build.sh [BIN_DIR]
#
# Why a pseudo-version: the Go module proxy serves no tagged releases of
# istio.io/istio, so we pin the commit whose VERSION file says 1.31 — the nearest
# to ambientctl's pinned 1.31.0 — and stamp it as 1.31.0 (hub docker.io/istio),
# exactly like Istio's release build stamps its own binaries.
#
# Binaries are cached OUTSIDE the checkout: only the first run builds. Each
# binary is built sequentially (2-core machines); timings go to stderr and to
# BIN_DIR/../build-times.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ISTIO_PSEUDO_VERSION=v0.0.0-20260827124520-eed52ebb66ad
ISTIO_VERSION=1.31.0
ISTIO_HUB=docker.io/istio
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ambientctl/reference/${ISTIO_PSEUDO_VERSION}"
bin_dir="${1:-$cache/bin}"
mkdir -p "$bin_dir" "$cache"
# One build at a time (a test session and a manual run may start together).
exec 9>"$cache/build.lock"
flock 9
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
goos="$(go env GOOS)"; goarch="$(go env GOARCH)"
# Same variables Istio's common/scripts/report_build_info.sh feeds gobuild.sh.
v=istio.io/istio/pkg/version
ldflags="-s -w -X $v.buildVersion=$ISTIO_VERSION -X $v.buildGitRevision=$ISTIO_PSEUDO_VERSION"
ldflags+=" -X $v.buildStatus=Clean -X $v.buildTag=$ISTIO_VERSION -X $v.buildHub=$ISTIO_HUB"
ldflags+=" -X $v.buildOS=$goos -X $v.buildArch=$goarch"
log() { echo "[reference] $*" >&2; }
build() {  # name go-package
  local out="$bin_dir/$1"
  if [ -x "$out" ]; then log "$1: cached ($out)"; return; fi
  local start; start=$(date +%s)
  (cd "$here/istio" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp" "$2")
  mv "$out.tmp" "$out"
  local took=$(( $(date +%s) - start ))
  log "$1: built in ${took}s"
  echo "$1 ${took}s $(date -u +%FT%TZ) $(nproc) cores" >> "$cache/build-times.txt"
}
build istioctl istio.io/istio/istioctl/cmd/istioctl
build pilot-discovery istio.io/istio/pilot/cmd/pilot-discovery
echo "$bin_dir"
