#!/usr/bin/env bash
# Installs what Satchel needs that a fresh Debian 12 machine of this kind may
# lack, and nothing that is already there. Idempotent; run by `make run` and
# `make test`.
set -euo pipefail

# Debian packages Satchel needs, installed only when missing:
#   build and run: pkg-config and libvips-dev (image transformations);
#   benchmarks (`deps.sh bench`): also libvips-tools (vipsthumbnail, vips),
#   jq and curl (bench/render-memory.sh);
#   tests (`deps.sh test`): also libvips-tools (vipsthumbnail, for the
#   benchmarks) and chromium (/usr/bin/chromium) for the browser end-to-end
#   test, driven by playwright-core, which never downloads a browser itself.
# SATCHEL_APT_PACKAGES, when set, replaces the list (empty: install nothing).
DEFAULT_PACKAGES="pkg-config libvips-dev"
case "${1:-run}" in
  bench) DEFAULT_PACKAGES="$DEFAULT_PACKAGES libvips-tools jq curl bc" ;;
  test) DEFAULT_PACKAGES="$DEFAULT_PACKAGES libvips-tools chromium" ;;
esac
APT_PACKAGES=(${SATCHEL_APT_PACKAGES-$DEFAULT_PACKAGES})

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "deps: Go is required (https://go.dev/dl)" >&2; exit 1; }

# The tests and `make bench-s3` run against a real S3 server: versitygw,
# installed into tools/bin (git-ignored) from the Go module proxy, once.
case "${1:-run}" in
  test|bench) bash "$(dirname "$0")/versitygw.sh" >/dev/null ;;
esac
