# Satchel. `make run` builds and starts the server on the embedded default
# (SQLite + filestore under ./data); `make test` runs every test on SQLite
# and PostgreSQL, over the filestore and over S3 (versitygw, or the S3 that
# SATCHEL_TEST_S3 names), the Node tus-js-client test included.

GO      ?= go
BIN     := bin/satchel
NODE_T  := test/node

.PHONY: all run build deps deps-test test test-go test-node s3-server postgres generate check-generated bench bench-postgres bench-list fuzz vet clean

all: build

deps:
	@bash scripts/deps.sh run

deps-test:
	@bash scripts/deps.sh test

build:
	$(GO) build -o $(BIN) .

run: deps build
	./$(BIN) serve

# The Go tests (race detector on), then the Node end-to-end tests.
test: deps-test postgres vet test-go test-node

# gofmt, go.mod and go.sum tidy (`go mod tidy -diff` prints nothing), go vet.
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@out=$$($(GO) mod tidy -diff 2>&1) || { \
	  printf '%s\n' "$$out" | head -80; \
	  if printf '%s\n' "$$out" | grep -q '^diff current/'; then \
	    echo "go.mod/go.sum are not tidy (the diff above is what 'go mod tidy' would change): run 'go mod tidy' and commit the result"; \
	  else \
	    echo "'go mod tidy -diff' failed (see above): go.mod/go.sum could not be checked"; \
	  fi; \
	  exit 1; }
	$(GO) vet ./...

postgres:
	@bash scripts/ensure-postgres.sh

# The tests' S3 server: versitygw in tools/bin (installed once), unless
# SATCHEL_TEST_S3 names another S3 (with the AWS_* credentials).
s3-server:
	@if [ -z "$$SATCHEL_TEST_S3" ]; then bash scripts/versitygw.sh >/dev/null; fi

test-go: s3-server
	$(GO) test -race -count=1 -timeout 20m ./...

# The stores the Node tests run on: `node --test` once for each.
NODE_STORES ?= file s3

test-node: build s3-server
	cd $(NODE_T) && npm ci --no-audit --no-fund --loglevel=error
	@set -e; for store in $(NODE_STORES); do \
	  echo "== node --test, SATCHEL_TEST_STORE=$$store"; \
	  (cd $(NODE_T) && SATCHEL_BIN=$(CURDIR)/$(BIN) SATCHEL_TEST_STORE=$$store node --test); \
	done

# Regenerate gqlgen code; CI fails when this changes anything.
generate:
	$(GO) tool gqlgen generate

check-generated: generate
	@test -z "$$(git status --porcelain -- graph/ gqlgen.yml)" || { git status --short -- graph/; git diff -- graph/ | head -50; echo "generated GraphQL code is stale: run make generate"; exit 1; }

# docs/DESIGN.md is the repository's copy of the contract; when the original
# (../shared/DESIGN.md, or SHARED_DESIGN) is there, check-design fails if they
# differ and says which is newer. See docs/README.md.
.PHONY: check-design
check-design:
	@bash scripts/check-design.sh

# The playground's GraphiQL and React files (internal/playground/dist), from
# the npm packages pinned in internal/playground/npm; committed, so building
# needs no npm. check-playground-assets fails if they differ from the pins.
.PHONY: playground-assets check-playground-assets
playground-assets:
	bash scripts/playground-assets.sh

check-playground-assets:
	bash scripts/playground-assets.sh --check

# Short runs of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Upload throughput and memory against the standalone tusd binary. Like
# `make run`, every bench target first installs what a fresh machine lacks.
bench: deps
	bash bench/upload.sh

# The same with Satchel on PostgreSQL: DATABASE_URL is a fresh database on the
# local server (BENCH_POSTGRES_URL to use another), dropped afterwards; the
# script starts the local cluster if it is down. Writes
# bench/RESULTS-upload-postgres.md; BENCH_QUICK=1 for a smoke run.
bench-postgres: deps
	BENCH_DB=postgres bash bench/upload.sh

# The same on S3: both servers on one versitygw (127.0.0.1, a bucket each,
# 16 MiB parts; BENCH_S3_PART_SIZE for another size), Satchel's multipart
# session too; gateway CPU and buffered parts reported. Installs versitygw
# into tools/bin first. Writes bench/RESULTS-upload-s3.md and
# bench/RESULTS-multipart-s3.md; BENCH_QUICK=1 for a smoke run.
.PHONY: bench-s3
bench-s3:
	@bash scripts/deps.sh bench
	BENCH_STORE=s3 bash bench/upload.sh

# Multipart upload (1 GiB as 5 MiB parts, 4 in flight) against one tus PATCH
# of the same file, on Satchel only: MB/s and the ratio, per-step times.
# Writes bench/RESULTS-multipart.md; BENCH_QUICK=1 for a 256 MiB smoke run.
.PHONY: bench-multipart
bench-multipart: deps
	BENCH_PHASES=5 bash bench/upload.sh

# Thumbnails: Satchel's on-demand first render of a 12-megapixel JPEG to a
# 256x256 WebP against vipsthumbnail and a pure-Go resize (imaging), and the
# cached hit. Needs vipsthumbnail (libvips-tools). Writes bench/RESULTS-thumb.md.
.PHONY: bench-thumb
bench-thumb:
	@bash scripts/deps.sh bench
	bash bench/thumb.sh

# Peak RSS of N concurrent first renders of 24-megapixel JPEGs (BENCH_FILES,
# default 40), against BENCH_BASE (a git revision) in the same run when set.
# Results in bench/RESULTS-render-memory.md are written by hand from its table.
.PHONY: bench-render-memory
bench-render-memory:
	@bash scripts/deps.sh bench
	bash bench/render-memory.sh

# files(first: 50) latency (Service.List) over 1,000,000 files on SQLite and
# PostgreSQL: first and deep pages, no filter / exact tag / prefix. Seeds once
# (cached in bench/out/ and the database satchel_bench_list_<N>), prints the
# table and writes bench/RESULTS-list.md. SATCHEL_BENCH_FILES overrides the size.
bench-list: deps postgres
	SATCHEL_BENCH_LIST=1 $(GO) test -run '^$$' -bench '^BenchmarkList$$' -benchtime 1x -timeout 60m ./internal/uploads/

# Issue 12's hostile GraphQL documents, each sent once to a stock gqlgen
# server and to Satchel's handler: the answer, CPU time, bytes allocated and
# peak heap of each, side by side with the ratios. Writes
# bench/RESULTS-graphql.md.
.PHONY: bench-graphql
bench-graphql:
	SATCHEL_BENCH_GRAPHQL=1 $(GO) test -run '^$$' -bench '^BenchmarkHostileGraphQL$$' -benchtime 1x -timeout 30m ./graph/

clean:
	rm -rf bin bench/out
