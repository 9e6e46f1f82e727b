#!/usr/bin/env bash
# Rebuilds the GraphQL playground's third-party files, embedded in the binary,
# from the npm packages pinned in internal/playground/npm/package-lock.json:
# React 18's and GraphiQL 4's prebuilt UMD files, their licences and a list of
# sources (SOURCES.txt). Needs Node and npm and the npm registry; `go build`
# does not: the output is committed in internal/playground/dist/.
#
#   scripts/playground-assets.sh           rewrite internal/playground/dist/
#   scripts/playground-assets.sh --check   fail if the committed files differ
#                                          from what the pins produce
#
# To move to other versions: edit internal/playground/npm/package.json, run
# `npm install --package-lock-only` in that folder, then this script.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/internal/playground/npm"
dist="$root/internal/playground/dist"

mode="${1:-write}"
case "$mode" in write | --check) ;; *) echo "usage: $0 [--check]" >&2; exit 2 ;; esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$work/"
# --ignore-scripts: nothing from the registry runs here; only files are copied.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
mkdir -p "$work/out"
node "$src/collect.mjs" "$work" "$work/out"

if [ "$mode" = --check ]; then
  if ! diff -r "$work/out" "$dist" >/dev/null; then
    diff -rq "$work/out" "$dist" || true
    echo "internal/playground/dist differs from what internal/playground/npm pins: run scripts/playground-assets.sh" >&2
    exit 1
  fi
  echo "internal/playground/dist matches internal/playground/npm/package-lock.json"
  exit 0
fi

rm -rf "$dist"
mkdir -p "$dist"
cp "$work/out/"* "$dist/"
du -b "$dist"/* | sed "s|$root/||"
