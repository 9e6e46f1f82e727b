package e2e

// What an upload can leave behind (rows, stored bytes, spent upload IDs, an
// account's usage), to check that a refusal stored or spent nothing; what
// the byte store holds, seen the same way on both stores; and the upload
// service's clock.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// storedState is what an upload can leave behind: rows and stored bytes.
type storedState struct {
	files, uploads, parts, spentTickets int
	bytesUsed                           int64
	stored                              []string
}

func (s *testServer) state(t testing.TB) storedState {
	t.Helper()
	ctx := context.Background()
	var st storedState
	count := func(table, where string) int {
		q := s.app.DB.NewSelect().Table(table)
		if where != "" {
			q = q.Where(where)
		}
		n, err := q.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	st.files = count("files", "")
	st.uploads = count("uploads", "")
	st.parts = count("multipart_parts", "")
	st.spentTickets = count("upload_tickets", "consumed_at IS NOT NULL")
	if err := s.app.DB.NewSelect().Table("accounts").ColumnExpr("COALESCE(SUM(bytes_used), 0)").Scan(ctx, &st.bytesUsed); err != nil {
		t.Fatal(err)
	}
	for _, it := range s.storeItems(t) {
		st.stored = append(st.stored, it.String())
	}
	return st
}

// unchanged fails when anything was stored or spent since before.
func (s *testServer) unchanged(t testing.TB, what string, before storedState) {
	t.Helper()
	after := s.state(t)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("%s stored or spent something:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// storeItem is one thing the byte store holds, and its size in bytes.
type storeItem struct {
	name string
	size int64
	// bytes: the item holds an upload's bytes (a file, the parts of an
	// unfinished S3 multipart upload, its incomplete part), not
	// bookkeeping.
	bytes bool
}

func (it storeItem) String() string { return it.name + " " + strconv.FormatInt(it.size, 10) }

// The suffix of an unfinished S3 multipart upload's item.
const multipartSuffix = " (multipart upload)"

// storeItems is what the byte store holds, named the same way on both
// stores: each upload's bytes and info ("<id>", "<id>.info"), its derived
// results ("derived/<id>/<key>") and its running digest. On the filestore,
// the files under the data dir's files/ (the digests in .sha256/); on S3,
// the bucket's objects under the prefix, its unfinished multipart uploads
// ("<id> (multipart upload)", sized by their parts), this process's part
// buffers ("tmp/<name>") and the digests in the database ("digest <id>",
// sized by the bytes they cover).
func (s *testServer) storeItems(t testing.TB) []storeItem {
	t.Helper()
	if s.bucket == nil {
		return fileItems(s.cfg.FilesDir())
	}
	items := s.bucket.items(t)
	tmp := s3PartBuffers()
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(tmp, p)
			if fi, err := d.Info(); err == nil {
				items = append(items, storeItem{name: "tmp/" + filepath.ToSlash(rel), size: fi.Size()})
			}
		}
		return nil
	})
	var digests []struct {
		ID     string `bun:"id"`
		Hashed int64  `bun:"hashed"`
	}
	if err := s.app.DB.NewSelect().Table("upload_digests").Column("id", "hashed").Scan(context.Background(), &digests); err != nil {
		t.Fatal(err)
	}
	for _, d := range digests {
		items = append(items, storeItem{name: "digest " + d.ID, size: d.Hashed})
	}
	slices.SortFunc(items, func(a, b storeItem) int { return strings.Compare(a.name, b.name) })
	return items
}

// fileItems is what the filestore under root holds.
func fileItems(root string) []storeItem {
	var items []storeItem
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			if fi, err := d.Info(); err == nil {
				items = append(items, storeItem{name: filepath.ToSlash(rel), size: fi.Size(),
					bytes: !strings.HasSuffix(rel, ".info") && !strings.HasPrefix(rel, ".sha256")})
			}
		}
		return nil
	})
	return items
}

// items is what the bucket holds: its objects under the prefix and its
// unfinished multipart uploads.
func (b *s3Bucket) items(t testing.TB) []storeItem {
	t.Helper()
	var items []storeItem
	for key, size := range b.objects(t) {
		name, ok := strings.CutPrefix(key, b.prefix+"/")
		if !ok {
			name = "outside the prefix: " + key
		}
		items = append(items, storeItem{name: name, size: size, bytes: !strings.HasSuffix(name, ".info")})
	}
	for _, mu := range b.multipartUploads(t) {
		name, _ := strings.CutPrefix(mu.key, b.prefix+"/")
		items = append(items, storeItem{name: name + multipartSuffix, size: mu.size, bytes: true})
	}
	return items
}

// s3PartBuffers is where this process's S3 stores buffer parts (README,
// "S3 storage": $TMPDIR/satchel-s3/<pid>).
func s3PartBuffers() string {
	return filepath.Join(os.TempDir(), "satchel-s3", strconv.Itoa(os.Getpid()))
}

// leftInStore lists what the store still holds of upload id: its bytes,
// its info, its digest, its derived results.
func (s *testServer) leftInStore(t testing.TB, id string) []string {
	t.Helper()
	var left []string
	for _, it := range s.storeItems(t) {
		if strings.Contains(it.name, id) {
			left = append(left, it.String())
		}
	}
	return left
}

// derivedStored lists the derived results stored for file id.
func (s *testServer) derivedStored(t testing.TB, id string) []string {
	t.Helper()
	var out []string
	for _, it := range s.storeItems(t) {
		if strings.HasPrefix(it.name, "derived/"+id+"/") {
			out = append(out, it.String())
		}
	}
	return out
}

// storedSize is how many bytes of upload id the store holds: its file, or
// on S3 the parts of its unfinished multipart upload and its incomplete
// part; ok is false when the store holds no bytes of it at all.
func (s *testServer) storedSize(t testing.TB, id string) (size int64, ok bool) {
	t.Helper()
	return sizeOf(s.storeItems(t), id)
}

func sizeOf(items []storeItem, id string) (size int64, ok bool) {
	for _, it := range items {
		switch it.name {
		case id, id + multipartSuffix, id + ".part":
			size += it.size
			ok = true
		}
	}
	return size, ok
}

// largestStored is the most bytes any one upload has in the store.
func (s *testServer) largestStored(t testing.TB) int64 {
	t.Helper()
	sizes := map[string]int64{}
	for _, it := range s.storeItems(t) {
		if it.bytes {
			id := strings.TrimSuffix(strings.TrimSuffix(it.name, multipartSuffix), ".part")
			sizes[id] += it.size
		}
	}
	var biggest int64
	for _, n := range sizes {
		biggest = max(biggest, n)
	}
	return biggest
}

// corruptInfo replaces upload id's info (tusd's .info, a file or an
// object) with bytes that are not JSON.
func (s *testServer) corruptInfo(t testing.TB, id string) {
	t.Helper()
	if s.bucket != nil {
		s.bucket.put(t, id+".info", []byte("{not json"))
		return
	}
	if err := os.WriteFile(filepath.Join(s.cfg.FilesDir(), id+".info"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setNow makes the upload service see now+d until reset. No request may
// be in flight while it changes.
func (s *testServer) setNow(d time.Duration) {
	s.app.Uploads.Now = func() time.Time { return time.Now().Add(d) }
}

func (s *testServer) resetNow() { s.app.Uploads.Now = nil }
