package uploads

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"satchel/internal/apperr"
	"satchel/internal/ids"
	"satchel/models"
)

// Page sizes for List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ListParams are the Relay connection arguments and the filter.
type ListParams struct {
	First, Last   *int
	After, Before *string
	Tag           *string
	TagPrefix     bool
}

// Edge is one file and its cursor.
type Edge struct {
	Cursor string
	File   *models.File
}

// Page is one page of a listing.
type Page struct {
	Edges           []Edge
	HasNextPage     bool
	HasPreviousPage bool
}

// position is a keyset position: the sort key of one file in one ordering.
type position struct {
	Mode string `json:"m"`           // "", "tag" or "prefix"
	Tag  string `json:"g,omitempty"` // the filter's tag
	Sort string `json:"s,omitempty"` // prefix mode: the file's greatest matching tag
	At   int64  `json:"t"`
	ID   string `json:"i"`
}

// EncodeCursor makes an opaque cursor of a position.
func encodeCursor(p position) string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = apperr.New(apperr.BadUserInput, "invalid cursor")

// decodeCursor reads a cursor and checks it belongs to this listing.
func decodeCursor(s, mode, tag string) (position, error) {
	var p position
	if len(s) > 1024 {
		return p, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return p, errBadCursor
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		return p, errBadCursor
	}
	if p.Mode != mode || p.Tag != tag || !ids.Valid(p.ID) || p.At < 0 {
		return p, errBadCursor
	}
	if mode == modePrefix && (!strings.HasPrefix(p.Sort, tag) || !ValidTagName(p.Sort)) {
		return p, errBadCursor
	}
	if mode != modePrefix && p.Sort != "" {
		return p, errBadCursor
	}
	return p, nil
}

const (
	modeAll    = ""
	modeTag    = "tag"
	modePrefix = "prefix"
)

type keyRow struct {
	FileID     string `bun:"file_id"`
	Tag        string `bun:"tag"`
	UploadedAt int64  `bun:"uploaded_at"`
}

// List returns one page of the account's files: newest first; with a tag,
// the files carrying it, newest first; with a tag prefix, each file once,
// by its greatest matching tag, then upload time, then ID, all descending.
// Cursors are keyset positions, so pages stay stable while files come and go.
func (s *Service) List(ctx context.Context, accountID string, lp ListParams) (*Page, error) {
	if lp.First != nil && lp.Last != nil {
		return nil, apperr.New(apperr.BadUserInput, "pass first or last, not both")
	}
	if lp.After != nil && lp.Last != nil || lp.Before != nil && lp.First != nil {
		return nil, apperr.New(apperr.BadUserInput, "use first with after, and last with before")
	}
	backward := lp.Last != nil || (lp.Before != nil && lp.First == nil)
	n := DefaultPageSize
	for _, v := range []*int{lp.First, lp.Last} {
		if v != nil {
			if *v < 0 || *v > MaxPageSize {
				return nil, apperr.Newf(apperr.BadUserInput, "page size must be between 0 and %d", MaxPageSize)
			}
			n = *v
		}
	}
	mode, tag := modeAll, ""
	if lp.Tag != nil {
		tag = *lp.Tag
		mode = modeTag
		if lp.TagPrefix {
			mode = modePrefix
		}
		if tag != "" && !ValidTagName(tag) || tag == "" && mode == modeTag {
			return nil, apperr.New(apperr.BadUserInput, "invalid tag")
		}
	} else if lp.TagPrefix {
		mode = modePrefix
	}
	var cur *position
	for _, c := range []*string{lp.After, lp.Before} {
		if c != nil {
			p, err := decodeCursor(*c, mode, tag)
			if err != nil {
				return nil, err
			}
			cur = &p
		}
	}
	q := keyQuery{db: s, account: accountID, mode: mode, tag: tag}
	rows, err := q.fetch(ctx, cur, backward, false, n+1)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	page := &Page{}
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	// The other direction: is there anything on the far side of the cursor?
	other := false
	if cur != nil {
		back, err := q.fetch(ctx, cur, !backward, true, 1)
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
		other = len(back) > 0
	}
	if backward {
		slices.Reverse(rows)
		page.HasPreviousPage, page.HasNextPage = more, other
	} else {
		page.HasNextPage, page.HasPreviousPage = more, other
	}
	fileIDs := make([]string, len(rows))
	for i, r := range rows {
		fileIDs[i] = r.FileID
	}
	files, err := s.GetMany(ctx, accountID, fileIDs)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	for i, r := range rows {
		if files[i] == nil {
			continue // deleted between the two reads
		}
		p := position{Mode: mode, Tag: tag, At: r.UploadedAt, ID: r.FileID}
		if mode == modePrefix {
			p.Sort = r.Tag
		}
		page.Edges = append(page.Edges, Edge{Cursor: encodeCursor(p), File: files[i]})
	}
	return page, nil
}

type keyQuery struct {
	db      *Service
	account string
	mode    string
	tag     string
}

// fetch reads up to limit sort keys past cur (descending order; ascending
// when reverse). inclusive includes cur itself.
func (q keyQuery) fetch(ctx context.Context, cur *position, reverse, inclusive bool, limit int) ([]keyRow, error) {
	var from string
	var args []any
	var cols []string
	switch q.mode {
	case modeAll:
		from = "(SELECT id AS file_id, '' AS tag, uploaded_at FROM files WHERE account_id = ?) k"
		args = append(args, q.account)
		cols = []string{"k.uploaded_at", "k.file_id"}
	case modeTag:
		from = "(SELECT file_id, name AS tag, uploaded_at FROM file_tags WHERE account_id = ? AND name = ?) k"
		args = append(args, q.account, q.tag)
		cols = []string{"k.uploaded_at", "k.file_id"}
	case modePrefix:
		// Tag characters are all below '~', so [tag, tag+"~") is the prefix range.
		from = "(SELECT file_id, MAX(name) AS tag, MAX(uploaded_at) AS uploaded_at FROM file_tags WHERE account_id = ? AND name >= ? AND name < ? GROUP BY file_id) k"
		args = append(args, q.account, q.tag, q.tag+"~")
		cols = []string{"k.tag", "k.uploaded_at", "k.file_id"}
	}
	sql := "SELECT k.file_id, k.tag, k.uploaded_at FROM " + from
	if cur != nil {
		vals := []any{cur.At, cur.ID}
		if q.mode == modePrefix {
			vals = []any{cur.Sort, cur.At, cur.ID}
		}
		op := "<"
		if reverse {
			op = ">"
		}
		cond, cargs := keysetCond(cols, vals, op, inclusive)
		sql += " WHERE " + cond
		args = append(args, cargs...)
	}
	dir := "DESC"
	if reverse {
		dir = "ASC"
	}
	order := make([]string, len(cols))
	for i, c := range cols {
		order[i] = c + " " + dir
	}
	sql += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"
	args = append(args, limit)
	var rows []keyRow
	err := q.db.DB.NewRaw(sql, args...).Scan(ctx, &rows)
	return rows, err
}

// keysetCond expands (c1, c2, ...) op (v1, v2, ...) into ORs of ANDs, which
// both SQLite and PostgreSQL plan as index range scans.
func keysetCond(cols []string, vals []any, op string, inclusive bool) (string, []any) {
	var ors []string
	var args []any
	for i := range cols {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, cols[j]+" = ?")
			args = append(args, vals[j])
		}
		o := op
		if inclusive && i == len(cols)-1 {
			o += "="
		}
		ands = append(ands, cols[i]+" "+o+" ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}
