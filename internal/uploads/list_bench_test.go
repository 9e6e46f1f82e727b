package uploads

// BenchmarkList measures files(first: 50) at the Go API level
// (Service.List) over a large seeded account, on SQLite and PostgreSQL: the
// median latency of the first page and of a page deep in the listing, for
// no filter, an exact tag and a tag prefix. It prints a table and writes it
// as Markdown to bench/RESULTS-list.md. Run it with `make bench-list`:
//
//	SATCHEL_BENCH_LIST=1 go test -run '^$' -bench BenchmarkList -benchtime 1x -timeout 60m ./internal/uploads/
//
// Environment:
//
//	SATCHEL_BENCH_LIST=1        required (otherwise the benchmark skips)
//	SATCHEL_BENCH_FILES         files to seed (default 1000000)
//	SATCHEL_BENCH_BACKENDS      sqlite,postgres (default both)
//	SATCHEL_BENCH_ITERS         timed iterations per case (default 300; also
//	                            bounded by 20 s per filter)
//	SATCHEL_BENCH_EXPLAIN=1     print EXPLAIN QUERY PLAN / EXPLAIN ANALYZE of
//	                            every query one List call runs
//	SATCHEL_TEST_POSTGRES       the PostgreSQL admin URL (see internal/testdb)
//
// The dataset is built once with bulk SQL (not through Service.Finish) and
// cached: bench/out/list-<N>.db and the PostgreSQL database
// satchel_bench_list_<N>; a rerun reuses them when they hold N files.

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"satchel/internal/db"
	"satchel/internal/testdb"
	"satchel/migrations"
)

const (
	benchAccount  = "BenchAccount0000000001"
	benchPageSize = 50
	benchDeep     = 500_000 // files before the deep page: 10,000 pages of 50
	benchExact    = "plan:free"
	benchPrefix   = "p"
	goalMedianMS  = 5.0
	goalDeepRatio = 1.2
)

// benchFilter is one listing the benchmark measures.
type benchFilter struct {
	label  string
	tag    *string
	prefix bool
}

func benchFilters() []benchFilter {
	exact, prefix := benchExact, benchPrefix
	return []benchFilter{
		{label: "none"},
		{label: "tag " + strconv.Quote(exact), tag: &exact},
		{label: "prefix " + strconv.Quote(prefix), tag: &prefix, prefix: true},
	}
}

// benchResult is one row of the table.
type benchResult struct {
	backend, filter       string
	matching, deepAfter   int
	iters                 int
	first, page2, deep    []time.Duration
	firstP50, firstP90    float64
	page2P50              float64
	deepP50, deepP90      float64
	ratio, ratioPage2     float64
	latencyGoal, deepGoal string
}

var benchListOnce sync.Once

func BenchmarkList(b *testing.B) {
	if os.Getenv("SATCHEL_BENCH_LIST") != "1" {
		b.Skip("set SATCHEL_BENCH_LIST=1 to run the listing benchmark (see make bench-list)")
	}
	// The work is done once per process, whatever b.N the framework asks for.
	benchListOnce.Do(func() { runListBench(b) })
}

func runListBench(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if v := os.Getenv("SATCHEL_BENCH_FILES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("SATCHEL_BENCH_FILES=%q: want an integer >= 1000", v)
		}
	}
	iters := 300
	if v := os.Getenv("SATCHEL_BENCH_ITERS"); v != "" {
		var err error
		if iters, err = strconv.Atoi(v); err != nil || iters < 5 {
			b.Fatalf("SATCHEL_BENCH_ITERS=%q: want an integer >= 5", v)
		}
	}
	backends := []string{"sqlite", "postgres"}
	if v := os.Getenv("SATCHEL_BENCH_BACKENDS"); v != "" {
		backends = strings.Split(v, ",")
	}
	// The deep page comes after benchDeep files (10,000 pages of 50); a
	// smaller dataset uses its middle instead.
	deep := benchDeep
	if deep > n/2 {
		deep = n / 2 / benchPageSize * benchPageSize
	}
	root := repoRoot(b)
	var data []benchFileRow
	dataset := func() []benchFileRow {
		if data == nil {
			data = genBenchFiles(n)
		}
		return data
	}

	var results []benchResult
	var notes []string
	load0 := loadAvg()
	for _, be := range backends {
		var bdb *bun.DB
		var seedNote string
		switch be {
		case "sqlite":
			bdb, seedNote = openSQLiteBench(ctx, b, root, n, dataset)
		case "postgres":
			bdb, seedNote = openPostgresBench(ctx, b, n, dataset)
		default:
			b.Fatalf("unknown backend %q", be)
		}
		if bdb == nil {
			notes = append(notes, fmt.Sprintf("%s: %s", be, seedNote))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: %s; %s", be, seedNote, backendVersion(ctx, bdb)))
		fmt.Fprintf(os.Stderr, "bench-list: %s: %s\n", be, seedNote)
		svc := &Service{DB: bdb}
		for _, f := range benchFilters() {
			r := measureFilter(ctx, b, svc, be, f, deep, iters)
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "bench-list: %s %s: first %.3f ms, deep %.3f ms (%d iterations)\n",
				be, f.label, r.firstP50, r.deepP50, r.iters)
		}
		bdb.Close()
	}

	notes = append(notes, fmt.Sprintf("load average (1 min) at the start: %s, at the end: %s", load0, loadAvg()))
	var sb strings.Builder
	writeListReport(&sb, n, deep, results, notes)
	fmt.Println()
	fmt.Println(textTable(results))
	for _, nt := range notes {
		fmt.Println("  " + nt)
	}
	out := filepath.Join(root, "bench", "RESULTS-list.md")
	if n != 1_000_000 || len(backends) != 2 {
		out = filepath.Join(root, "bench", "out", fmt.Sprintf("RESULTS-list-%d.md", n))
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	fmt.Println("  written to " + out)
}

// measureFilter times the first page, the second page and the deep page of
// one listing, interleaved so that drift hits all three alike.
func measureFilter(ctx context.Context, b *testing.B, svc *Service, backend string, f benchFilter, deep, iters int) benchResult {
	r := benchResult{backend: backend, filter: f.label, deepAfter: deep}
	r.matching = countMatching(ctx, b, svc.DB, f)
	if r.matching < deep+benchPageSize {
		b.Fatalf("%s %s: only %d matching files, the deep page needs %d", backend, f.label, r.matching, deep+benchPageSize)
	}
	size := benchPageSize
	params := func(after *string) ListParams {
		return ListParams{First: &size, After: after, Tag: f.tag, TagPrefix: f.prefix}
	}

	// The cursor of the deep-th file, by walking the listing in pages of
	// MaxPageSize (the cursor format is the service's own business).
	deepCursor := walkTo(ctx, b, svc, f, deep)
	var page2Cursor string
	first, err := svc.List(ctx, benchAccount, params(nil))
	if err != nil {
		b.Fatal(err)
	}
	if len(first.Edges) != benchPageSize || !first.HasNextPage || first.HasPreviousPage {
		b.Fatalf("%s %s: first page: %d edges, next %v, previous %v", backend, f.label, len(first.Edges), first.HasNextPage, first.HasPreviousPage)
	}
	page2Cursor = first.Edges[len(first.Edges)-1].Cursor

	// Check against an independent query: the pages must start where the
	// ordering says, or the figures would time the wrong thing.
	for _, c := range []struct {
		after  *string
		offset int
	}{{nil, 0}, {&page2Cursor, benchPageSize}, {&deepCursor, deep}} {
		p, err := svc.List(ctx, benchAccount, params(c.after))
		if err != nil {
			b.Fatal(err)
		}
		want := expectedIDAt(ctx, b, svc.DB, f, c.offset)
		if len(p.Edges) != benchPageSize || p.Edges[0].File.ID != want {
			got := "<none>"
			if len(p.Edges) > 0 {
				got = p.Edges[0].File.ID
			}
			b.Fatalf("%s %s: page after %d files starts with %s, want %s (%d edges)", backend, f.label, c.offset, got, want, len(p.Edges))
		}
		if c.after != nil && (!p.HasPreviousPage || !p.HasNextPage) {
			b.Fatalf("%s %s: page after %d files: next %v, previous %v", backend, f.label, c.offset, p.HasNextPage, p.HasPreviousPage)
		}
	}

	if os.Getenv("SATCHEL_BENCH_EXPLAIN") == "1" {
		explainList(ctx, b, svc, backend, f.label+", first page", params(nil))
		explainList(ctx, b, svc, backend, f.label+", deep page", params(&deepCursor))
	}

	run := func(after *string) time.Duration {
		t0 := time.Now()
		p, err := svc.List(ctx, benchAccount, params(after))
		d := time.Since(t0)
		if err != nil || len(p.Edges) != benchPageSize {
			b.Fatalf("list: %v", err)
		}
		return d
	}
	for i := 0; i < 10; i++ { // warm-up: caches, prepared plans, pool
		run(nil)
		run(&page2Cursor)
		run(&deepCursor)
	}
	budget := time.Now().Add(20 * time.Second)
	for i := 0; i < iters && (i < 11 || time.Now().Before(budget)); i++ {
		r.first = append(r.first, run(nil))
		r.page2 = append(r.page2, run(&page2Cursor))
		r.deep = append(r.deep, run(&deepCursor))
	}
	r.iters = len(r.first)
	r.firstP50, r.firstP90 = quantileMS(r.first, 0.5), quantileMS(r.first, 0.9)
	r.page2P50 = quantileMS(r.page2, 0.5)
	r.deepP50, r.deepP90 = quantileMS(r.deep, 0.5), quantileMS(r.deep, 0.9)
	r.ratio = r.deepP50 / r.firstP50
	r.ratioPage2 = r.deepP50 / r.page2P50
	r.latencyGoal = "n/a"
	if backend == "sqlite" {
		r.latencyGoal = passMiss(r.firstP50 < goalMedianMS && r.deepP50 < goalMedianMS)
	}
	r.deepGoal = passMiss(r.ratio <= goalDeepRatio)
	return r
}

// loadAvg is the 1-minute load average (the machine may be shared).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// walkTo returns the cursor of the n-th file of the listing (1-based).
func walkTo(ctx context.Context, b *testing.B, svc *Service, f benchFilter, n int) string {
	var after *string
	for left := n; left > 0; {
		size := min(left, MaxPageSize)
		p, err := svc.List(ctx, benchAccount, ListParams{First: &size, After: after, Tag: f.tag, TagPrefix: f.prefix})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Edges) != size {
			b.Fatalf("walk: page of %d edges, want %d", len(p.Edges), size)
		}
		c := p.Edges[len(p.Edges)-1].Cursor
		after = &c
		left -= size
	}
	return *after
}

// matchSQL is the listing's ordering written plainly (no keyset, no index
// tricks): the reference the pages are checked against.
func matchSQL(bdb *bun.DB, f benchFilter) (string, []any) {
	coll := ""
	if db.IsPostgres(bdb) {
		coll = ` COLLATE "C"`
	}
	switch {
	case f.tag == nil:
		return "SELECT id AS file_id FROM files WHERE account_id = ? ORDER BY uploaded_at DESC, id" + coll + " DESC", []any{benchAccount}
	case !f.prefix:
		return "SELECT file_id FROM file_tags WHERE account_id = ? AND name = ? ORDER BY uploaded_at DESC, file_id" + coll + " DESC", []any{benchAccount, *f.tag}
	default:
		return "SELECT file_id FROM file_tags WHERE account_id = ? AND substr(name, 1, ?) = ? GROUP BY file_id, uploaded_at" +
				" ORDER BY MAX(name" + coll + ") DESC, uploaded_at DESC, file_id" + coll + " DESC",
			[]any{benchAccount, len(*f.tag), *f.tag}
	}
}

func expectedIDAt(ctx context.Context, b *testing.B, bdb *bun.DB, f benchFilter, offset int) string {
	q, args := matchSQL(bdb, f)
	var id string
	if err := bdb.NewRaw(q+" LIMIT 1 OFFSET ?", append(args, offset)...).Scan(ctx, &id); err != nil {
		b.Fatalf("reference query: %v", err)
	}
	return id
}

func countMatching(ctx context.Context, b *testing.B, bdb *bun.DB, f benchFilter) int {
	q, args := matchSQL(bdb, f)
	q = q[:strings.Index(q, " ORDER BY")]
	var n int
	if err := bdb.NewRaw("SELECT COUNT(*) FROM ("+q+") m", args...).Scan(ctx, &n); err != nil {
		b.Fatalf("count: %v", err)
	}
	return n
}

func quantileMS(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(q * float64(len(s)-1))
	if q == 0.5 && len(s)%2 == 0 {
		return float64(s[len(s)/2-1]+s[len(s)/2]) / 2 / 1e6
	}
	return float64(s[i]) / 1e6
}

// --- the dataset ---------------------------------------------------------

// benchFileRow is one seeded file. Files come in upload order: uploaded_at
// never decreases, and about one in twenty shares its predecessor's
// microsecond (ties are broken by ID). IDs are 22 base62 characters from a
// seeded generator, so the dataset is the same on every run and backend.
type benchFileRow struct {
	id      string
	at      int64
	user    int    // user:<0..999>, uniform
	project int    // project:<0..49>, uniform
	plan    string // plan:free 60%, plan:pro 30%, plan:team 10%
	size    int64
	sha     string
	mime    string
	name    string
	source  string // a non-searchable tag
}

func (f *benchFileRow) searchable() [3]string {
	return [3]string{"user:" + strconv.Itoa(f.user), "project:" + strconv.Itoa(f.project), "plan:" + f.plan}
}

func (f *benchFileRow) tagsJSON() string {
	t := f.searchable()
	return fmt.Sprintf(`[{"name":%q,"searchable":true},{"name":%q,"searchable":true},{"name":%q,"searchable":true},{"name":"source:%s","searchable":false}]`,
		t[0], t[1], t[2], f.source)
}

var benchT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

func genBenchFiles(n int) []benchFileRow {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	rng := rand.New(rand.NewPCG(20261121, uint64(n)))
	mimes := []struct{ mime, ext string }{{"image/jpeg", "jpg"}, {"image/png", "png"}, {"application/pdf", "pdf"}, {"video/mp4", "mp4"}, {"text/plain", "txt"}}
	sources := []string{"web", "ios", "android", "api"}
	out := make([]benchFileRow, n)
	at := benchT0
	var id [22]byte
	var sum [32]byte
	for i := range out {
		if i > 0 && rng.IntN(20) != 0 {
			at += 1 + rng.Int64N(60_000_000) // up to a minute apart: ~1M files a year
		}
		for j := range id {
			id[j] = alphabet[rng.IntN(len(alphabet))]
		}
		for j := range sum {
			sum[j] = byte(rng.Uint32())
		}
		plan := "free"
		switch p := rng.IntN(10); {
		case p >= 9:
			plan = "team"
		case p >= 6:
			plan = "pro"
		}
		m := mimes[rng.IntN(len(mimes))]
		out[i] = benchFileRow{
			id: string(id[:]), at: at,
			user: rng.IntN(1000), project: rng.IntN(50), plan: plan,
			size: 1 + rng.Int64N(20<<20), sha: hex.EncodeToString(sum[:]),
			mime: m.mime, name: fmt.Sprintf("file-%07d.%s", i, m.ext),
			source: sources[rng.IntN(len(sources))],
		}
	}
	return out
}

func repoRoot(b *testing.B) string {
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			b.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// benchReady reports whether bdb holds the seeded dataset of n files.
func benchReady(ctx context.Context, bdb *bun.DB, n int) bool {
	var files, tags int
	if err := bdb.NewRaw("SELECT COUNT(*) FROM files WHERE account_id = ?", benchAccount).Scan(ctx, &files); err != nil {
		return false
	}
	if err := bdb.NewRaw("SELECT COUNT(*) FROM file_tags WHERE account_id = ?", benchAccount).Scan(ctx, &tags); err != nil {
		return false
	}
	return files == n && tags == 3*n
}

func openMigrated(ctx context.Context, b *testing.B, url string) *bun.DB {
	bdb, err := db.Open(ctx, url, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := migrations.Run(ctx, bdb); err != nil {
		b.Fatal(err)
	}
	return bdb
}

// openSQLiteBench opens (seeding first if needed) bench/out/list-<n>.db the
// way the server opens its database.
func openSQLiteBench(ctx context.Context, b *testing.B, root string, n int, dataset func() []benchFileRow) (*bun.DB, string) {
	path := filepath.Join(root, "bench", "out", fmt.Sprintf("list-%d.db", n))
	// The seeding note is kept beside the cache, so reruns still report it.
	seeded := path + ".seeded"
	if _, err := os.Stat(path); err == nil {
		bdb := openMigrated(ctx, b, path)
		if benchReady(ctx, bdb, n) {
			note, _ := os.ReadFile(seeded)
			return bdb, "cached " + relPath(root, path) + " (" + orUnknown(string(note)) + ")"
		}
		bdb.Close()
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", seeded} {
		os.Remove(p)
	}
	// Seed a temporary file and rename it into place when complete, so an
	// interrupted seeding never leaves a half-filled cache.
	tmp := path + ".seeding"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"} {
		os.Remove(p)
	}
	t0 := time.Now()
	bdb := openMigrated(ctx, b, tmp) // the production schema, through the migrations
	bdb.Close()
	files := dataset()
	tGen := time.Since(t0)
	if err := seedSQLite(ctx, tmp, files); err != nil {
		b.Fatalf("seed sqlite: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	note := fmt.Sprintf("seeded in %s on %s, generating the rows: %s", time.Since(t0).Round(100*time.Millisecond),
		time.Now().UTC().Format("2006-01-02"), tGen.Round(100*time.Millisecond))
	if err := os.WriteFile(seeded, []byte(note+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return openMigrated(ctx, b, path), relPath(root, path) + " " + note
}

func orUnknown(note string) string {
	if note = strings.TrimSpace(note); note == "" {
		return "seeding time not recorded"
	}
	return note
}

func relPath(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}

func seedSQLite(ctx context.Context, path string, files []benchFileRow) error {
	// A loading connection: no WAL, no fsync, a big page cache. The file is
	// switched back to WAL at the end, as the server's db.Open expects.
	q := url.Values{}
	for _, p := range []string{"journal_mode(DELETE)", "synchronous(OFF)", "cache_size(-1000000)", "foreign_keys(0)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer sqldb.Close()
	sqldb.SetMaxOpenConns(1)
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", benchAccount, "bench", benchT0); err != nil {
		return err
	}
	if err := bulkInsert(ctx, tx, "files (id, account_id, name, mime, size, sha256, tags, uploaded_at)", 8, len(files), func(i int, args []any) []any {
		f := &files[i]
		return append(args, f.id, benchAccount, f.name, f.mime, f.size, f.sha, f.tagsJSON(), f.at)
	}); err != nil {
		return err
	}
	if err := bulkInsert(ctx, tx, "file_tags (account_id, file_id, name, uploaded_at)", 4, 3*len(files), func(i int, args []any) []any {
		f := &files[i/3]
		return append(args, benchAccount, f.id, f.searchable()[i%3], f.at)
	}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = sqldb.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	return err
}

// bulkInsert inserts rows with multi-row INSERTs of prepared statements.
func bulkInsert(ctx context.Context, tx *sql.Tx, into string, cols, rows int, row func(i int, args []any) []any) error {
	per := 4000 / cols
	ph := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	prepare := func(k int) (*sql.Stmt, error) {
		return tx.PrepareContext(ctx, "INSERT INTO "+into+" VALUES "+strings.TrimSuffix(strings.Repeat(ph+",", k), ","))
	}
	full, err := prepare(per)
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, per*cols)
	for start := 0; start < rows; start += per {
		k := min(per, rows-start)
		args = args[:0]
		for i := start; i < start+k; i++ {
			args = row(i, args)
		}
		st := full
		if k < per {
			if st, err = prepare(k); err != nil {
				return err
			}
			defer st.Close()
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// openPostgresBench opens (creating and seeding first if needed) the
// database satchel_bench_list_<n> on the test PostgreSQL server.
func openPostgresBench(ctx context.Context, b *testing.B, n int, dataset func() []benchFileRow) (*bun.DB, string) {
	name := fmt.Sprintf("satchel_bench_list_%d", n)
	admin, err := sql.Open("pgx", testdb.AdminURL())
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("PostgreSQL at %s: %v", testdb.AdminURL(), err)
		}
		return nil, fmt.Sprintf("skipped, PostgreSQL unreachable at %s (%v)", testdb.AdminURL(), err)
	}
	u, err := url.Parse(testdb.AdminURL())
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if exists {
		bdb := openMigrated(ctx, b, u.String())
		if benchReady(ctx, bdb, n) {
			var note sql.NullString
			admin.QueryRowContext(ctx, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name).Scan(&note)
			return bdb, "cached database " + name + " (" + orUnknown(note.String) + ")"
		}
		bdb.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	bdb := openMigrated(ctx, b, u.String())
	files := dataset()
	tGen := time.Since(t0)
	if err := seedPostgres(ctx, bdb, files); err != nil {
		bdb.Close()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		b.Fatalf("seed postgres: %v", err)
	}
	note := fmt.Sprintf("seeded in %s on %s, generating the rows: %s", time.Since(t0).Round(100*time.Millisecond),
		time.Now().UTC().Format("2006-01-02"), tGen.Round(100*time.Millisecond))
	if _, err := admin.ExecContext(ctx, "COMMENT ON DATABASE "+name+" IS '"+note+"'"); err != nil {
		b.Fatal(err)
	}
	return bdb, "database " + name + " " + note
}

func seedPostgres(ctx context.Context, bdb *bun.DB, files []benchFileRow) error {
	conn, err := bdb.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)", benchAccount, "bench", benchT0); err != nil {
			return err
		}
		i := 0
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"files"},
			[]string{"id", "account_id", "name", "mime", "size", "sha256", "tags", "uploaded_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(files) {
					return nil, nil
				}
				f := &files[i]
				i++
				return []any{f.id, benchAccount, f.name, f.mime, f.size, f.sha, f.tagsJSON(), f.at}, nil
			})); err != nil {
			return err
		}
		i = 0
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"file_tags"},
			[]string{"account_id", "file_id", "name", "uploaded_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == 3*len(files) {
					return nil, nil
				}
				f := &files[i/3]
				t := f.searchable()[i%3]
				i++
				return []any{benchAccount, f.id, t, f.at}, nil
			})); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return err
	}
	// What autovacuum would have done by the time a database holds a
	// million files: statistics, and a visibility map for index-only scans.
	_, err = bdb.ExecContext(ctx, "VACUUM (ANALYZE) files, file_tags")
	return err
}

func backendVersion(ctx context.Context, bdb *bun.DB) string {
	var v string
	if db.IsPostgres(bdb) {
		bdb.NewRaw("SHOW server_version").Scan(ctx, &v)
		return "PostgreSQL " + v
	}
	bdb.NewRaw("SELECT sqlite_version()").Scan(ctx, &v)
	return "SQLite " + v + " (modernc)"
}

// --- EXPLAIN ----------------------------------------------------------------

// captureHook records the SQL of the queries run while it is on.
type captureHook struct {
	mu      sync.Mutex
	on      bool
	queries []string
}

func (h *captureHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *captureHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on {
		h.queries = append(h.queries, e.Query)
	}
}

var explainHooks = map[*bun.DB]*captureHook{}

// explainList runs List once, then prints the plan of every query it ran.
func explainList(ctx context.Context, b *testing.B, svc *Service, backend, label string, lp ListParams) {
	h := explainHooks[svc.DB]
	if h == nil {
		h = &captureHook{}
		svc.DB.AddQueryHook(h)
		explainHooks[svc.DB] = h
	}
	h.mu.Lock()
	h.on, h.queries = true, nil
	h.mu.Unlock()
	_, err := svc.List(ctx, benchAccount, lp)
	h.mu.Lock()
	h.on = false
	queries := h.queries
	h.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\n=== EXPLAIN %s: %s\n", backend, label)
	for _, q := range queries {
		fmt.Println("--- " + q)
		prefix := "EXPLAIN QUERY PLAN "
		if backend == "postgres" {
			prefix = "EXPLAIN (ANALYZE, BUFFERS) "
		}
		rows, err := svc.DB.DB.QueryContext(ctx, prefix+q)
		if err != nil {
			b.Fatalf("explain: %v", err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			if backend == "postgres" {
				fmt.Printf("    %v\n", vals[0])
			} else {
				fmt.Printf("    %v %v %v\n", vals[0], vals[1], vals[len(vals)-1])
			}
		}
		rows.Close()
	}
}

// --- the report ---------------------------------------------------------------

func textTable(results []benchResult) string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tfilter\tmatching\tfirst p50 ms\tfirst p90 ms\tpage 2 p50 ms\tdeep p50 ms\tdeep p90 ms\tdeep/first\tdeep/page 2\t< 5 ms (SQLite)\tdeep <= 1.2x first\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\t%s\t%s\t\n",
			r.backend, r.filter, r.matching, r.firstP50, r.firstP90, r.page2P50, r.deepP50, r.deepP90, r.ratio, r.ratioPage2, r.latencyGoal, r.deepGoal)
	}
	tw.Flush()
	return sb.String()
}

func writeListReport(sb *strings.Builder, n, deep int, results []benchResult, notes []string) {
	fmt.Fprintf(sb, "# Listing benchmark: files(first: %d)\n\n", benchPageSize)
	fmt.Fprintf(sb, "Written by `make bench-list` (internal/uploads/list_bench_test.go, BenchmarkList) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(sb, "`uploads.Service.List` for one account holding %d files, called in-process over a database opened\n", n)
	sb.WriteString("with `db.Open` and migrated with `migrations.Run`, as the server does. Each latency is one whole\n")
	sb.WriteString("`List` call: the keyset query, the `hasPreviousPage` probe (pages after a cursor only) and the\n")
	sb.WriteString("fetch of the page's 50 files.\n\n")
	fmt.Fprintf(sb, "- First page: `first: %d`. Deep page: `first: %d, after:` the cursor of file %d (%d pages deep).\n",
		benchPageSize, benchPageSize, deep, deep/benchPageSize)
	sb.WriteString("  Page 2 (`after:` the 50th file) is shown too: it runs the same queries as the deep page, so\n")
	sb.WriteString("  deep/page 2 isolates the cost of depth from the cost of the extra `hasPreviousPage` query.\n")
	fmt.Fprintf(sb, "- Goals: median < %.0f ms on SQLite for every case; deep page median <= %.1fx the first page's.\n", goalMedianMS, goalDeepRatio)
	sb.WriteString("- Medians and p90 over the iterations (first, page 2 and deep interleaved, after 10 warm-up rounds).\n\n")
	sb.WriteString("Dataset (seeded once with bulk SQL, cached between runs): files in upload order, `uploaded_at`\n")
	sb.WriteString("up to a minute apart with about 1 in 20 sharing its predecessor's microsecond (ties broken by ID),\n")
	sb.WriteString("22-character base62 IDs from a seeded generator, and 3 searchable tags per file: `user:<0..999>`\n")
	sb.WriteString("(uniform), `project:<0..49>` (uniform), `plan:free|pro|team` (60/30/10 %), plus one\n")
	sb.WriteString("non-searchable tag. Filters:\n\n")
	sb.WriteString("- none: every file, newest first.\n")
	fmt.Fprintf(sb, "- exact tag `%s`: ~60%% of the files.\n", benchExact)
	fmt.Fprintf(sb, "- tag prefix `%s`: matches two tags of every file (`plan:*` and `project:*`); each file is listed\n", benchPrefix)
	sb.WriteString("  once under its greatest matching tag (`project:*`), so the index range holds twice as many rows\n")
	sb.WriteString("  as the listing and every `plan:*` row must be skipped.\n\n")
	sb.WriteString("Plans (print them with `SATCHEL_BENCH_EXPLAIN=1`): every keyset query is one index range seek and a\n")
	sb.WriteString("scan of at most 51 entries, on both backends: `files_account_time` with no filter, `file_tags_keyset`\n")
	sb.WriteString("(account_id, name, uploaded_at, file_id) for a tag or a prefix, bounded by a row-value comparison\n")
	sb.WriteString("with the cursor; the prefix query checks each candidate with one primary-key probe of `file_tags`\n")
	sb.WriteString("(no greater matching tag); the page's files are read through `files_account_id` (account_id, id).\n\n")
	fmt.Fprintf(sb, "Machine: %d CPUs (nproc), %s/%s, %s.\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, nt := range notes {
		fmt.Fprintf(sb, "- %s\n", nt)
	}
	sb.WriteString("\n| backend | filter | matching files | iterations | first p50 ms | first p90 ms | page 2 p50 ms | deep p50 ms | deep p90 ms | deep/first | deep/page 2 | < 5 ms (SQLite) | deep <= 1.2x first |\n")
	sb.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|\n")
	for _, r := range results {
		fmt.Fprintf(sb, "| %s | %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | %s | %s |\n",
			r.backend, strings.ReplaceAll(r.filter, `"`, "`"), r.matching, r.iters, r.firstP50, r.firstP90, r.page2P50, r.deepP50, r.deepP90, r.ratio, r.ratioPage2, r.latencyGoal, r.deepGoal)
	}
}
