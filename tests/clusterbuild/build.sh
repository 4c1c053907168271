#!/usr/bin/env bash
# Builds the test-cluster binaries from the Go module proxy into the cache dir.
#   tests/clusterbuild/build.sh [BIN_DIR] [component...]
# components: etcd kube-apiserver kube-controller-manager kube-scheduler kwok
# Skips binaries that already exist. Builds sequentially; prints timings on stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ambientctl/cluster/${K8S_VERSION}/bin"
bin_dir="${1:-$cache}"
shift || true
components=("$@")
[ ${#components[@]} -eq 0 ] && components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
mkdir -p "$bin_dir"
# One build at a time: a test session and `make demo` may start together, and two
# go builds writing the same output would race and double the time.
exec 9>"$bin_dir/.build.lock"
flock 9
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  k8s_ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done
log() { echo "[clusterbuild] $*" >&2; }
for c in "${components[@]}"; do
  out="$bin_dir/$c"
  if [ -x "$out" ]; then log "$c: cached ($out)"; continue; fi
  start=$(date +%s)
  case "$c" in
    kube-apiserver|kube-controller-manager|kube-scheduler)
      (cd "$here/k8s" && go build -trimpath -ldflags="$k8s_ldflags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$c") ;;
    etcd)
      (cd "$here/etcd" && go build -trimpath -ldflags="-s -w" -o "$out.tmp" go.etcd.io/etcd/server/v3) ;;
    kwok)
      (cd "$here/kwok" && go build -trimpath -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" -o "$out.tmp" sigs.k8s.io/kwok/cmd/kwok) ;;
    *) log "unknown component $c"; exit 2 ;;
  esac
  mv "$out.tmp" "$out"
  log "$c: built in $(( $(date +%s) - start ))s"
done
