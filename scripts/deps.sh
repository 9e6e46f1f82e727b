#!/usr/bin/env bash
# Installs what Satchel needs that a fresh Debian 12 machine of this kind may
# lack, and nothing that is already there. Idempotent; run by `make run` and
# `make test`.
set -euo pipefail

# Debian packages the build and the tests need (none is installed twice):
# libvips for image transformations (and vipsthumbnail for make bench),
# Chromium for the browser end-to-end test.
# chromium (/usr/bin/chromium) for the browser end-to-end test in test/node,
# driven by playwright-core, which never downloads a browser of its own.
# SATCHEL_APT_PACKAGES, when set, replaces this list (set it empty to install
# nothing).
APT_PACKAGES=(${SATCHEL_APT_PACKAGES-pkg-config libvips-dev libvips-tools chromium})

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
