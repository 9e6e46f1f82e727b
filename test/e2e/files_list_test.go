package e2e

// Listing (Query.files): Relay cursor walks forward and backward in every
// filter mode against an order computed from the database, stable while
// files are added and deleted, bad arguments refused, accounts kept apart.
// On SQLite and on PostgreSQL.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"satchel/models"
)

// seeded is the ground truth of one seeded file, read back from the database.
type seeded struct {
	id   string
	at   int64
	tags []models.Tag
}

var listColors = []string{"color:red", "color:green", "color:blue"}
var listSizes = []string{"size:s", "size:m", "size:l", "size:xl"}

// seedFiles uploads n files through POST /files/basic with varied tags and
// returns them as stored.
func seedFiles(t *testing.T, s *testServer, key string, n, offset int) []seeded {
	t.Helper()
	for i := offset; i < offset+n; i++ {
		tags := []models.Tag{
			{Name: listColors[i%3], Searchable: true},
			{Name: listSizes[i%4], Searchable: true},
			{Name: fmt.Sprintf("n:%d", i), Searchable: false},
		}
		if i%5 == 0 { // a second color: prefix listing must show the file once, at its greatest
			tags = append(tags, models.Tag{Name: listColors[(i+1)%3], Searchable: true})
		}
		raw, _ := json.Marshal(tags)
		resp, body := s.do(t, http.MethodPost, "/files/basic", key, strings.NewReader(fmt.Sprint("file ", i)), map[string]string{
			"Content-Type": "text/plain", "X-Upload-File-Name": fmt.Sprintf("f%d.txt", i), "X-Upload-Tags": string(raw),
		})
		if resp.StatusCode != 200 {
			t.Fatalf("seed %d: %d %s", i, resp.StatusCode, body)
		}
	}
	return loadSeeded(t, s, key)
}

func loadSeeded(t *testing.T, s *testServer, key string) []seeded {
	t.Helper()
	p, err := s.authService().Authenticate(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	var fs []models.File
	if err := s.app.DB.NewSelect().Model(&fs).Where("account_id = ?", p.AccountID).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := make([]seeded, len(fs))
	for i, f := range fs {
		out[i] = seeded{id: f.ID, at: f.UploadedAt, tags: f.Tags}
	}
	return out
}

// expectedOrder computes a listing's order from the ground truth.
func expectedOrder(files []seeded, tag *string, prefix bool) []string {
	type row struct {
		sort string
		at   int64
		id   string
	}
	var rows []row
	for _, f := range files {
		best, ok := "", false
		for _, tg := range f.tags {
			if !tg.Searchable || tag == nil {
				continue
			}
			if (prefix && strings.HasPrefix(tg.Name, *tag)) || (!prefix && tg.Name == *tag) {
				if !ok || tg.Name > best {
					best, ok = tg.Name, true
				}
			}
		}
		if tag == nil {
			ok = true
		}
		if !ok {
			continue
		}
		if !prefix {
			best = ""
		}
		rows = append(rows, row{best, f.at, f.id})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.sort != b.sort {
			return a.sort > b.sort
		}
		if a.at != b.at {
			return a.at > b.at
		}
		return a.id > b.id
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

type pageResult struct {
	ids                 []string
	hasNext, hasPrev    bool
	startCursor, endCur string
	cursors             []string
}

const filesQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter) {
  files(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func (s *testServer) filesPage(t *testing.T, key string, vars map[string]any) (pageResult, gqlResponse) {
	t.Helper()
	code, r := s.gql(t, key, filesQuery, vars)
	if code != 200 {
		t.Fatalf("files: HTTP %d", code)
	}
	var out struct {
		Files *struct {
			Edges []struct {
				Cursor string
				Node   struct{ ID string }
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
	}
	if len(r.Errors) > 0 {
		return pageResult{}, r
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || out.Files == nil {
		t.Fatalf("files: %s", r.Data)
	}
	var p pageResult
	for _, e := range out.Files.Edges {
		p.ids = append(p.ids, e.Node.ID)
		p.cursors = append(p.cursors, e.Cursor)
	}
	p.hasNext, p.hasPrev = out.Files.PageInfo.HasNextPage, out.Files.PageInfo.HasPreviousPage
	if out.Files.PageInfo.StartCursor != nil {
		p.startCursor = *out.Files.PageInfo.StartCursor
	}
	if out.Files.PageInfo.EndCursor != nil {
		p.endCur = *out.Files.PageInfo.EndCursor
	}
	if len(p.cursors) > 0 && (p.startCursor != p.cursors[0] || p.endCur != p.cursors[len(p.cursors)-1]) {
		t.Fatalf("start/end cursors do not match the edges")
	}
	return p, r
}

func filterVars(tag *string, prefix bool) map[string]any {
	if tag == nil && !prefix {
		return nil
	}
	f := map[string]any{"tagPrefix": prefix}
	if tag != nil {
		f["tag"] = *tag
	}
	return f
}

func strp(s string) *string { return &s }

// TestFilesListingWalks pages through 240 files in every mode. It reads
// rows alone: its uploads are fixtures, so it runs on the filestore only
// (240 one-shot uploads on S3 would double its time and test nothing new:
// listings of files on S3 are walked under changes, with deletes, below).
func TestFilesListingWalks(t *testing.T) {
	eachDatabase(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sk := s.keys.SecretKey
		files := seedFiles(t, s, sk, 240, 0)

		modes := []struct {
			name   string
			tag    *string
			prefix bool
		}{
			{"all", nil, false},
			{"exact color:red", strp("color:red"), false},
			{"exact size:xl", strp("size:xl"), false},
			{"exact non-searchable", strp("n:5"), false},
			{"exact unknown", strp("nope"), false},
			{"prefix color:", strp("color:"), true},
			{"prefix c", strp("c"), true},
			{"prefix empty (every searchable tag)", strp(""), true},
			{"prefix non-searchable n:", strp("n:"), true},
		}
		for _, m := range modes {
			want := expectedOrder(files, m.tag, m.prefix)
			for _, size := range []int{7, 50, 1000} {
				t.Run(fmt.Sprintf("%s/forward %d", m.name, size), func(t *testing.T) {
					var got []string
					var after any
					for page := 0; ; page++ {
						p, r := s.filesPage(t, sk, map[string]any{"first": size, "after": after, "filter": filterVars(m.tag, m.prefix)})
						if len(r.Errors) > 0 {
							t.Fatalf("page %d: %+v", page, r.Errors)
						}
						if p.hasPrev != (page > 0) {
							t.Fatalf("page %d: hasPreviousPage = %v", page, p.hasPrev)
						}
						got = append(got, p.ids...)
						if !p.hasNext {
							break
						}
						if len(p.ids) != size {
							t.Fatalf("page %d: %d edges with hasNextPage", page, len(p.ids))
						}
						after = p.endCur
					}
					if !slices.Equal(got, want) {
						t.Fatalf("forward walk: got %d ids, want %d; first mismatch at %d", len(got), len(want), firstMismatch(got, want))
					}
				})
				t.Run(fmt.Sprintf("%s/backward %d", m.name, size), func(t *testing.T) {
					var got []string
					var before any
					for page := 0; ; page++ {
						p, r := s.filesPage(t, sk, map[string]any{"last": size, "before": before, "filter": filterVars(m.tag, m.prefix)})
						if len(r.Errors) > 0 {
							t.Fatalf("page %d: %+v", page, r.Errors)
						}
						if p.hasNext != (page > 0) {
							t.Fatalf("page %d: hasNextPage = %v", page, p.hasNext)
						}
						got = append(slices.Clone(p.ids), got...)
						if !p.hasPrev {
							break
						}
						before = p.startCursor
					}
					if !slices.Equal(got, want) {
						t.Fatalf("backward walk: got %d ids, want %d; first mismatch at %d", len(got), len(want), firstMismatch(got, want))
					}
				})
			}
		}

		t.Run("default page size is 50", func(t *testing.T) {
			p, _ := s.filesPage(t, sk, nil)
			if len(p.ids) != 50 || !p.hasNext || p.hasPrev {
				t.Fatalf("%d edges, next %v prev %v", len(p.ids), p.hasNext, p.hasPrev)
			}
		})
		t.Run("prefix lists each file once at its greatest tag", func(t *testing.T) {
			p, _ := s.filesPage(t, sk, map[string]any{"first": 1000, "filter": filterVars(strp("color:"), true)})
			if len(p.ids) != 240 {
				t.Fatalf("%d files, want 240", len(p.ids))
			}
			seen := map[string]bool{}
			for _, id := range p.ids {
				if seen[id] {
					t.Fatalf("%s twice", id)
				}
				seen[id] = true
			}
		})
	})
}

func firstMismatch(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestFilesListingStableUnderChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sk := s.keys.SecretKey
		for _, m := range []struct {
			name   string
			tag    *string
			prefix bool
		}{{"all", nil, false}, {"exact", strp("size:m"), false}, {"prefix", strp("color:"), true}} {
			t.Run(m.name, func(t *testing.T) {
				snapshot := seedFiles(t, s, sk, 60, len(loadSeeded(t, s, sk)))
				start := expectedOrder(snapshot, m.tag, m.prefix)
				deleted, deletedUnseen := map[string]bool{}, map[string]bool{}
				var got []string
				var after any
				for page := 0; page < 100; page++ {
					p, r := s.filesPage(t, sk, map[string]any{"first": 5, "after": after, "filter": filterVars(m.tag, m.prefix)})
					if len(r.Errors) > 0 {
						t.Fatalf("%+v", r.Errors)
					}
					got = append(got, p.ids...)
					if !p.hasNext {
						break
					}
					after = p.endCur
					// Between pages: a new file arrives (newest: before the
					// cursor, never seen), one not yet seen and one already
					// seen are deleted.
					snapshot = append(snapshot, seedFiles(t, s, sk, 1, 1000+page)...)
					rest := slices.DeleteFunc(slices.Clone(start), func(id string) bool { return deleted[id] || slices.Contains(got, id) })
					var del []string
					if len(rest) > 3 {
						del = append(del, rest[2])
						deletedUnseen[rest[2]] = true
					}
					if len(got) > 0 {
						del = append(del, got[0])
					}
					for _, id := range del {
						deleted[id] = true
					}
					if _, r := s.gql(t, sk, `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) { deletedIds } }`, map[string]any{"ids": del}); len(r.Errors) > 0 {
						t.Fatalf("delete: %+v", r.Errors)
					}
				}
				// No duplicates; every file that existed at the start and was
				// not deleted before its turn appears; and the walk is in the
				// listing's order (new files may appear only where they sort
				// after the cursor).
				seen := map[string]bool{}
				for _, id := range got {
					if seen[id] {
						t.Fatalf("duplicate %s", id)
					}
					seen[id] = true
				}
				for _, id := range start {
					if !deleted[id] && !seen[id] {
						t.Fatalf("skipped %s", id)
					}
					if deletedUnseen[id] && seen[id] {
						t.Fatalf("%s listed after it was deleted", id)
					}
				}
				if len(deletedUnseen) == 0 {
					t.Fatal("the walk deleted nothing ahead of the cursor")
				}
				all := map[string]seeded{}
				for _, f := range snapshot {
					all[f.id] = f
				}
				for _, f := range loadSeeded(t, s, sk) {
					all[f.id] = f
				}
				var everything []seeded
				for _, f := range all {
					everything = append(everything, f)
				}
				order := expectedOrder(everything, m.tag, m.prefix)
				pos := map[string]int{}
				for i, id := range order {
					pos[id] = i
				}
				for i := 1; i < len(got); i++ {
					if pos[got[i-1]] >= pos[got[i]] {
						t.Fatalf("out of order at %d", i)
					}
				}
			})
		}
	})
}

func TestFilesListingArgumentsAndIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sk := s.keys.SecretKey
		seedFiles(t, s, sk, 12, 0)
		_, otherKey := s.newAccount(t, "other", models.KindSecret)
		seedFiles(t, s, otherKey, 5, 100)

		own, _ := s.filesPage(t, sk, map[string]any{"first": 3})
		tagged, _ := s.filesPage(t, sk, map[string]any{"first": 3, "filter": filterVars(strp("color:red"), false)})
		foreign, _ := s.filesPage(t, otherKey, map[string]any{"first": 3})

		bad := []struct {
			name string
			vars map[string]any
		}{
			{"first over 1000", map[string]any{"first": 1001}},
			{"negative first", map[string]any{"first": -1}},
			{"negative last", map[string]any{"last": -5}},
			{"first and last", map[string]any{"first": 2, "last": 2}},
			{"last with after", map[string]any{"last": 2, "after": own.endCur}},
			{"first with before", map[string]any{"first": 2, "before": own.endCur}},
			{"garbage cursor", map[string]any{"first": 2, "after": "garbage"}},
			{"base64 garbage cursor", map[string]any{"first": 2, "after": "eyJ4IjoxfQ"}},
			{"cursor of another filter", map[string]any{"first": 2, "after": tagged.endCur}},
			{"cursor of another account", map[string]any{"first": 2, "after": foreign.endCur}},
			{"unfiltered cursor on a filter", map[string]any{"first": 2, "after": own.endCur, "filter": filterVars(strp("color:red"), false)}},
			{"invalid tag", map[string]any{"first": 2, "filter": map[string]any{"tag": "bad tag!"}}},
			{"huge cursor", map[string]any{"first": 2, "after": strings.Repeat("A", 5000)}},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				_, r := s.filesPage(t, sk, c.vars)
				if r.errCode() != "BAD_USER_INPUT" {
					t.Fatalf("errors = %+v, want BAD_USER_INPUT", r.Errors)
				}
			})
		}
		t.Run("first 0", func(t *testing.T) {
			p, r := s.filesPage(t, sk, map[string]any{"first": 0})
			if len(r.Errors) > 0 || len(p.ids) != 0 || !p.hasNext {
				t.Fatalf("%+v %+v", p, r.Errors)
			}
		})
		t.Run("isolation", func(t *testing.T) {
			mine, _ := s.filesPage(t, sk, map[string]any{"first": 1000})
			theirs, _ := s.filesPage(t, otherKey, map[string]any{"first": 1000, "filter": filterVars(strp(""), true)})
			if len(mine.ids) != 12 || len(theirs.ids) != 5 {
				t.Fatalf("mine %d theirs %d", len(mine.ids), len(theirs.ids))
			}
			for _, id := range theirs.ids {
				if slices.Contains(mine.ids, id) {
					t.Fatal("shared file")
				}
			}
			red, _ := s.filesPage(t, otherKey, map[string]any{"first": 1000, "filter": filterVars(strp("color:red"), false)})
			for _, id := range red.ids {
				if slices.Contains(mine.ids, id) {
					t.Fatal("tag filter crossed accounts")
				}
			}
		})
	})
}
