package uploads

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"satchel/internal/dbtest"
	"satchel/internal/testdb"
	"satchel/models"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestListSQL pins the statements List sends, arguments included, for every
// ordering and direction, on SQLite and PostgreSQL: the listing's SQL is
// tuned to the indexes (bench/RESULTS-list.md), so any change to its text
// must be deliberate (go test -run TestListSQL -update, and a new benchmark
// run). It also checks the pages themselves.
func TestListSQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		ctx := t.Context()
		bdb := dbtest.Open(t, b)
		const acct = "ListSQLAccount00000001"
		if err := models.InsertAccount(ctx, bdb, &models.Account{ID: acct, Name: "a", CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
		// Five files, newest last; a and ab tags spread over them.
		tagsOf := [][]string{{"a"}, {"ab"}, {"a", "ab"}, {"b"}, {"ab", "abc"}}
		var files []*models.File
		for i, names := range tagsOf {
			f := &models.File{ID: fmt.Sprintf("ListSQLFile%011d", i), AccountID: acct, Name: "f", Mime: "text/plain", UploadedAt: int64(1000 + i)}
			for _, n := range names {
				f.Tags = append(f.Tags, models.Tag{Name: n, Searchable: true})
			}
			files = append(files, f)
		}
		if err := models.InsertFiles(ctx, bdb, files); err != nil {
			t.Fatal(err)
		}
		s := &Service{DB: bdb}
		h := &captureHook{}
		bdb.AddQueryHook(h)

		two := 2
		str := func(s string) *string { return &s }
		filters := []struct {
			label  string
			tag    *string
			prefix bool
			want   []int // the files listed, in order
		}{
			{"all", nil, false, []int{4, 3, 2, 1, 0}},
			{"tag a", str("a"), false, []int{2, 0}},
			{"tag ab", str("ab"), false, []int{4, 2, 1}},
			{"prefix a", str("a"), true, []int{4, 2, 1, 0}},
			{"prefix ab", str("ab"), true, []int{4, 2, 1}},
			{"prefix with no tag", nil, true, []int{3, 4, 2, 1, 0}},
		}
		var out strings.Builder
		run := func(label string, lp ListParams) *Page {
			t.Helper()
			h.mu.Lock()
			h.on, h.queries = true, nil
			h.mu.Unlock()
			p, err := s.List(ctx, acct, lp)
			h.mu.Lock()
			h.on = false
			qs := slices.Clone(h.queries)
			h.mu.Unlock()
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			// The page and the probe of the other direction run at once.
			slices.Sort(qs)
			fmt.Fprintf(&out, "-- %s\n", label)
			for _, q := range qs {
				out.WriteString(q + "\n")
			}
			return p
		}
		ids := func(p *Page) []int {
			var got []int
			for _, e := range p.Edges {
				var i int
				fmt.Sscanf(e.File.ID, "ListSQLFile%d", &i)
				got = append(got, i)
			}
			return got
		}
		for _, f := range filters {
			base := ListParams{Tag: f.tag, TagPrefix: f.prefix}
			all := base
			if p := run(f.label+": default page", all); !slices.Equal(ids(p), f.want) {
				t.Errorf("%s: listed %v, want %v", f.label, ids(p), f.want)
			}
			first := base
			first.First = &two
			p1 := run(f.label+": first 2", first)
			after := first
			after.After = &p1.Edges[len(p1.Edges)-1].Cursor
			p2 := run(f.label+": first 2 after", after)
			if got := append(ids(p1), ids(p2)...); !slices.Equal(got, f.want[:min(4, len(f.want))]) {
				t.Errorf("%s: two pages of two: %v, want %v", f.label, got, f.want)
			}
			last := base
			last.Last = &two
			l1 := run(f.label+": last 2", last)
			before := last
			before.Before = &l1.Edges[0].Cursor
			l2 := run(f.label+": last 2 before", before)
			if got, want := append(ids(l2), ids(l1)...), f.want[max(0, len(f.want)-4):]; !slices.Equal(got, want) {
				t.Errorf("%s: two pages of two from the end: %v, want %v", f.label, got, want)
			}
			beforeFirst := base
			beforeFirst.Before = &l1.Edges[0].Cursor
			run(f.label+": before, no size", beforeFirst)
		}

		golden := filepath.Join("testdata", "list-sql-"+b.Name+".golden")
		if *updateGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range max(len(gl), len(wl)) {
				g, w := "", ""
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Fatalf("the listing's SQL changed (line %d of %s):\n got: %s\nwant: %s", i+1, golden, g, w)
				}
			}
		}
	})
}
