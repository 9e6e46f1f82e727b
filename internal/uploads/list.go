package uploads

import (
	"context"
	"crypto/sha256"
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
	Acct string `json:"a"`           // a digest of the account: cursors are not portable
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

// accountDigest ties cursors to the account they were made for.
func accountDigest(accountID string) string {
	sum := sha256.Sum256([]byte("satchel cursor " + accountID))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// decodeCursor reads a cursor and checks it belongs to this listing.
func decodeCursor(s, acct, mode, tag string) (position, error) {
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
	if p.Acct != acct || p.Mode != mode || p.Tag != tag || !ids.Valid(p.ID) || p.At < 0 {
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

// orders maps a listing's mode to its ordering.
var orders = map[string]models.FileOrder{modeAll: models.ByUploadTime, modeTag: models.ByTag, modePrefix: models.ByTagPrefix}

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
			p, err := decodeCursor(*c, accountDigest(accountID), mode, tag)
			if err != nil {
				return nil, err
			}
			cur = &p
		}
	}
	q := models.FileKeysQuery{AccountID: accountID, Order: orders[mode], Tag: tag}
	if cur != nil {
		q.From = &models.FileKey{FileID: cur.ID, Tag: cur.Sort, UploadedAt: cur.At}
	}
	// fetch reads up to limit keys past the cursor (descending order;
	// ascending when reverse); inclusive includes the cursor itself.
	fetch := func(reverse, inclusive bool, limit int) ([]models.FileKey, error) {
		q := q
		q.Reverse, q.Inclusive, q.Limit = reverse, inclusive, limit
		return models.ListFileKeys(ctx, s.DB, q)
	}
	// The other direction (is there anything on the far side of the
	// cursor?) is asked at the same time as the page, so a page after a
	// cursor costs no more time than the first.
	type probe struct {
		found bool
		err   error
	}
	otherc := make(chan probe, 1)
	if cur != nil {
		go func() {
			back, err := fetch(!backward, true, 1)
			otherc <- probe{len(back) > 0, err}
		}()
	} else {
		otherc <- probe{}
	}
	rows, err := fetch(backward, false, n+1)
	o := <-otherc
	if err == nil {
		err = o.err
	}
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	page := &Page{}
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	other := o.found
	if backward {
		slices.Reverse(rows)
		page.HasPreviousPage, page.HasNextPage = more, other
	} else {
		page.HasNextPage, page.HasPreviousPage = more, other
	}
	acct := accountDigest(accountID)
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
		p := position{Acct: acct, Mode: mode, Tag: tag, At: r.UploadedAt, ID: r.FileID}
		if mode == modePrefix {
			p.Sort = r.Tag
		}
		page.Edges = append(page.Edges, Edge{Cursor: encodeCursor(p), File: files[i]})
	}
	return page, nil
}
