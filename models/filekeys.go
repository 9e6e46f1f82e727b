package models

import (
	"strings"

	"github.com/uptrace/bun"
)

// The keyset listing of an account's files. Its statements are tuned to the
// indexes of migration 4 on SQLite and PostgreSQL (bench/RESULTS-list.md):
// a page is one index seek and a short scan at any depth, never OFFSET.
// Their text is pinned by internal/uploads' TestListSQL.

// FileOrder is an ordering of an account's files.
type FileOrder int

// The orderings. Every one is descending; FileKeysQuery.Reverse reads it
// backwards.
const (
	// ByUploadTime: every file, by upload time, then ID.
	ByUploadTime FileOrder = iota
	// ByTag: the files carrying one searchable tag, by upload time, then ID.
	ByTag
	// ByTagPrefix: each file with a searchable tag that starts with a prefix
	// once, by its greatest such tag, then upload time, then ID.
	ByTagPrefix
)

// FileKey is a file's sort key in an ordering: its position.
type FileKey struct {
	FileID string `bun:"file_id"`
	// Tag is the file's greatest tag with the prefix (ByTagPrefix only).
	Tag        string `bun:"tag"`
	UploadedAt int64  `bun:"uploaded_at"`
}

// FileKeysQuery asks for the keys of up to Limit files past From.
type FileKeysQuery struct {
	AccountID string
	Order     FileOrder
	// Tag is the tag (ByTag) or the prefix (ByTagPrefix).
	Tag string
	// From is the keyset position to start after (nil: the start).
	From *FileKey
	// Reverse reads the ordering backwards (ascending).
	Reverse bool
	// Inclusive includes From itself.
	Inclusive bool
	Limit     int
}

// ListFileKeys returns the keys of up to q.Limit of the account's files past
// q.From, in q.Order (or its reverse).
func ListFileKeys(c ctx, db bun.IDB, q FileKeysQuery) ([]FileKey, error) {
	cur, reverse := q.From, q.Reverse
	var from, sel string
	var args []any
	var cols, where []string
	switch q.Order {
	case ByUploadTime:
		from, sel = "files k", "k.id AS file_id, '' AS tag, k.uploaded_at"
		where = append(where, "k.account_id = ?")
		args = append(args, q.AccountID)
		cols = []string{"k.uploaded_at", "k.id"}
	case ByTag:
		from, sel = "file_tags k", "k.file_id, k.name AS tag, k.uploaded_at"
		where = append(where, "k.account_id = ?", "k.name = ?")
		args = append(args, q.AccountID, q.Tag)
		cols = []string{"k.uploaded_at", "k.file_id"}
	case ByTagPrefix:
		// Walk the tag index in (name, uploaded_at, file_id) order within the
		// prefix range (tag characters are all below '~', so the range is
		// [tag, tag+"~")), keeping a row only when it is the file's greatest
		// matching tag: each file once, found by index seeks, never by
		// grouping every match.
		from, sel = "file_tags k", "k.file_id, k.name AS tag, k.uploaded_at"
		where = append(where, "k.account_id = ?")
		args = append(args, q.AccountID)
		// A cursor's tag carries the prefix, so the keyset condition is the
		// tighter bound on its side of the range. The looser one is left out:
		// given both, SQLite seeks by the plain column bound and filters the
		// keyset condition row by row, from the start of the range.
		if cur == nil || !reverse { // descending: the cursor is the upper bound
			where = append(where, "k.name >= ?")
			args = append(args, q.Tag)
		}
		if cur == nil || reverse { // ascending: the cursor is the lower bound
			where = append(where, "k.name < ?")
			args = append(args, q.Tag+"~")
		}
		where = append(where, "NOT EXISTS (SELECT 1 FROM file_tags g WHERE g.file_id = k.file_id AND g.name > k.name AND g.name < ?)")
		args = append(args, q.Tag+"~")
		cols = []string{"k.name", "k.uploaded_at", "k.file_id"}
	}
	sql := "SELECT " + sel + " FROM " + from
	if cur != nil {
		vals := []any{cur.UploadedAt, cur.FileID}
		if q.Order == ByTagPrefix {
			vals = []any{cur.Tag, cur.UploadedAt, cur.FileID}
		}
		op := "<"
		if reverse {
			op = ">"
		}
		cond, cargs := keysetCond(cols, vals, op, q.Inclusive)
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	dir := "DESC"
	if reverse {
		dir = "ASC"
	}
	order := make([]string, len(cols))
	for i, col := range cols {
		order[i] = col + " " + dir
	}
	sql += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"
	args = append(args, q.Limit)
	var rows []FileKey
	err := db.NewRaw(sql, args...).Scan(c, &rows)
	return rows, err
}

// keysetCond is the row-value comparison (c1, c2, ...) op (v1, v2, ...)
// (lexicographic; every column is NOT NULL). Both SQLite and PostgreSQL use
// it as one index range bound when the columns follow an index's order after
// its equality columns, so a page is a seek and a short scan at any depth.
// (Expanded into ORs of ANDs, only the leading column bounds the scan in
// SQLite, and nothing does in PostgreSQL.)
func keysetCond(cols []string, vals []any, op string, inclusive bool) (string, []any) {
	if inclusive {
		op += "="
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
	return "(" + strings.Join(cols, ", ") + ") " + op + " (" + ph + ")", vals
}
