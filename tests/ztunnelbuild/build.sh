#!/usr/bin/env bash
# Builds Istio's ztunnel (Rust) for the test cluster, cached outside the checkout.
#
#   tests/ztunnelbuild/build.sh            prints the binary's path on stdout; log: <cache>/build.log
#
# Source: $ZTUNNEL_SRC (a checkout), else shared/third_party/ztunnel-<commit>.tar.gz in
# $AMBIENTCTL_THIRD_PARTY or beside the checkout or any of its parent directories, or
# beside the repository a clone was made from (this workplace: a clone anywhere of
# /work/main finds /work/shared/third_party), else `git clone` of github.com/istio/ztunnel
# at the pinned commit (elsewhere). Crates come from crates.io.
#
# The build copy drops the optional git dependency boring-rustls-provider (cargo
# resolves git dependencies even for unused features; only `tls-boring` needs it)
# and builds `--no-default-features --features tls-ring` with the quick-release
# profile lowered to opt-level 0, not incremental: the tests only need ztunnel's
# behaviour (xDS, certificates, its admin port), not its speed, and LLVM's
# optimisation was most of the cold build's time on 2 cores (ztunnel's own test
# builds run at opt-level 0 too). The cache directory names the profile, so a
# changed profile builds anew.
# One build at a time (flock); the build time is recorded in build-times.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ZTUNNEL_COMMIT=62d826530e5ce85764e309170205b293efcbc80b
short=${ZTUNNEL_COMMIT:0:8}
profile_tag=o0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ambientctl/ztunnel/$short-$profile_tag"
bin="$cache/bin/ztunnel"
log() { echo "[ztunnel-build] $*" >&2; }

# The first shared/third_party/<name> above the checkout or above the repository it was cloned from.
find_tarball() {
  local name="$1" dir origin
  if [ -n "${AMBIENTCTL_THIRD_PARTY:-}" ] && [ -f "$AMBIENTCTL_THIRD_PARTY/$name" ]; then
    echo "$AMBIENTCTL_THIRD_PARTY/$name"; return 0
  fi
  origin="$(git -C "$here" remote get-url origin 2>/dev/null || true)"
  for dir in "$(cd "$here/../.." && pwd)" "$origin"; do
    [ -d "$dir" ] || continue
    dir="$(cd "$dir" && pwd)"
    while [ "$dir" != "/" ]; do
      dir="$(dirname "$dir")"
      if [ -f "$dir/shared/third_party/$name" ]; then echo "$dir/shared/third_party/$name"; return 0; fi
    done
  done
  return 1
}
mkdir -p "$cache/bin"
# Everything this script says also goes to $cache/build.log (tests show its tail when a build fails).
exec 2> >(tee -a "$cache/build.log" >&2)
exec 9>"$cache/build.lock"
if ! flock -n 9; then
  log "another build holds $cache/build.lock; waiting for it"
  flock 9
fi
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

if ! command -v protoc >/dev/null 2>&1; then
  log "installing protobuf-compiler (ztunnel's build.rs runs protoc)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler) >&2
fi
command -v cargo >/dev/null 2>&1 || { log "cargo is required to build ztunnel (https://rustup.rs)"; exit 1; }

src="$cache/src"
if [ ! -f "$src/Cargo.toml" ]; then
  rm -rf "$src.tmp"; mkdir -p "$src.tmp"
  tarball="$(find_tarball "ztunnel-$short.tar.gz" || true)"
  if [ -n "${ZTUNNEL_SRC:-}" ]; then
    log "source: $ZTUNNEL_SRC"
    cp -a "$ZTUNNEL_SRC/." "$src.tmp/"
  elif [ -n "$tarball" ]; then
    log "source: $tarball"
    tar xzf "$tarball" -C "$src.tmp" --strip-components=1
  else
    log "source: git clone at $ZTUNNEL_COMMIT"
    git clone -q https://github.com/istio/ztunnel "$src.tmp"
    git -C "$src.tmp" checkout -q "$ZTUNNEL_COMMIT"
  fi
  # Drop the git-only optional dependency and the tls-boring feature's use of it.
  sed -i -e '/^boring-rustls-provider *=/d' \
         -e 's/, *"boring-rustls-provider\/fips-only"//' "$src.tmp/Cargo.toml"
  mv "$src.tmp" "$src"
fi

start=$(date +%s)
log "building ztunnel (cargo, quick-release at opt-level 0, tls-ring); the first build takes 10-20 minutes on 2 cores"
(cd "$src" && CARGO_TARGET_DIR="$cache/target" CARGO_PROFILE_QUICK_RELEASE_OPT_LEVEL=0 \
   CARGO_PROFILE_QUICK_RELEASE_INCREMENTAL=false cargo build --profile quick-release \
   --no-default-features --features tls-ring --bin ztunnel) >&2
cp "$cache/target/quick-release/ztunnel" "$bin.tmp"
mv "$bin.tmp" "$bin"
took=$(( $(date +%s) - start ))
echo "ztunnel $short ($profile_tag): ${took}s on $(nproc) cores, $(date -u +%FT%TZ)" >> "$cache/build-times.txt"
log "built in ${took}s: $bin"
echo "$bin"
