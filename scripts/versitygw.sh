#!/usr/bin/env bash
# Installs versitygw (Versity's S3 gateway, the real S3 server the tests and
# `make bench-s3` run against) into tools/bin, once: `go install` from the
# module proxy, about a minute. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.7.0
BIN=$PWD/tools/bin/versitygw
STAMP=$BIN.version # `versitygw --version` does not name its version
if [ ! -x "$BIN" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$VERSION" ]; then
  echo "versitygw: installing $VERSION into tools/bin (once)" >&2
  GOBIN=$PWD/tools/bin go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
  echo "$VERSION" >"$STAMP"
fi
echo "$BIN"
