package uploads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/mimes"
	"satchel/models"
)

// The limits every upload route applies, in one place: the largest size (the
// server's, narrowed by the key's, the upload ID's and the key that minted
// it), the media-type rules, the per-key cap on unfinished uploads and the
// account's storage quota. An upload records its size bound and type rules
// on its row when it begins, because the requests that carry its bytes are
// authorised by the upload URL alone.

// Errors of the quotas.
var (
	errPendingCap = "this key has %d unfinished uploads, as many as it may have open: finish or terminate some, or let them expire"
	errQuota      = "the account's storage quota of %d bytes is used up (%d bytes used); delete files or ask for a larger quota"
)

// ErrQuotaExceeded refuses a file that does not fit in its account's quota
// when it is committed.
var ErrQuotaExceeded = apperr.New(apperr.QuotaExceeded, "the file does not fit in the account's storage quota; delete files or ask for a larger quota")

// limitFor is the largest upload p may make: the server's limit, narrowed
// by the key's, the upload ID's and its minting key's (0: none).
func (s *Service) limitFor(p *auth.Principal) int64 {
	limit := s.MaxUploadSize
	narrow := func(l int64) {
		if l > 0 && (limit == 0 || l < limit) {
			limit = l
		}
	}
	if p != nil && p.Key != nil {
		narrow(p.Key.MaxFileSize)
	}
	if p != nil && p.Ticket != nil {
		narrow(p.Ticket.MaxFileSize)
	}
	if p != nil && p.Minter != nil {
		narrow(p.Minter.MaxFileSize)
	}
	return limit
}

// CheckSize refuses sizes over the limit of p (see limitFor).
func (s *Service) CheckSize(p *auth.Principal, size int64) error {
	return tooLarge(s.limitFor(p), size)
}

func tooLarge(limit, size int64) error {
	if limit > 0 && size > limit {
		return apperr.Newf(apperr.TooLarge, "the file is larger than the limit of %d bytes", limit)
	}
	return nil
}

// ByteBound is the most bytes an upload may hold (0: no bound): its size
// limit, or what its account's quota had left if that is less.
func ByteBound(up *models.Upload) int64 {
	b := up.MaxSize
	if up.QuotaLeft > 0 && (b == 0 || up.QuotaLeft < b) {
		b = up.QuotaLeft
	}
	return b
}

// OverBound refuses size bytes for an upload, naming the limit they break:
// TOO_LARGE for a size limit, QUOTA_EXCEEDED for the account's quota.
func OverBound(up *models.Upload, size int64) error {
	if err := tooLarge(up.MaxSize, size); err != nil {
		return err
	}
	if up.QuotaLeft > 0 && size > up.QuotaLeft {
		return apperr.Newf(apperr.QuotaExceeded, "the file does not fit in what is left of the account's storage quota (%d bytes)", up.QuotaLeft)
	}
	return nil
}

// mimeRule is one list of type patterns an upload must meet, and whose it is.
type mimeRule struct {
	patterns []string
	owner    string // "key" or "upload ID", for messages
}

// rulesFor lists the type rules p's uploads must meet.
func rulesFor(p *auth.Principal) []mimeRule {
	var rules []mimeRule
	add := func(patterns []string, owner string) {
		if len(patterns) > 0 && !isAnyType(patterns) {
			rules = append(rules, mimeRule{patterns: patterns, owner: owner})
		}
	}
	if p.Key != nil {
		add(p.Key.MimeTypes, "key")
	}
	if p.Ticket != nil {
		add(p.Ticket.MimeTypes, "upload ID")
	}
	if p.Minter != nil {
		add(p.Minter.MimeTypes, "key that created the upload ID")
	}
	return rules
}

func isAnyType(patterns []string) bool {
	for _, p := range patterns {
		if strings.TrimSpace(p) == "*/*" {
			return true
		}
	}
	return false
}

func rulePatterns(rules []mimeRule) [][]string {
	out := make([][]string, len(rules))
	for i, r := range rules {
		out[i] = r.patterns
	}
	return out
}

// checkDeclared refuses a declared type that a rule does not allow.
func checkDeclared(rules []mimeRule, declared string) error {
	if declared == "" {
		return nil
	}
	for _, r := range rules {
		if !mimes.Allowed(declared, r.patterns) {
			return apperr.Newf(apperr.MimeNotAllowed, "file type %s is not allowed for this %s (allowed: %s)", declared, r.owner, strings.Join(r.patterns, ", "))
		}
	}
	return nil
}

// ContentType decides the type of an upload from its first bytes (at least
// mimes.SniffLen of them, or the whole file): the declared type, or the
// sniffed one when none was declared. Under type rules the sniffed type is
// the one checked when no type was declared, and a declared type that the
// content contradicts (an HTML page declared as image/png) is refused.
func ContentType(rules [][]string, declared string, head []byte) (string, error) {
	sniffed := mimes.Sniff(head)
	for _, patterns := range rules {
		if len(patterns) == 0 || mimes.Allowed(sniffed, patterns) {
			continue
		}
		if declared == "" {
			return "", apperr.Newf(apperr.MimeNotAllowed, "the file's content looks like %s, which is not an allowed type (%s); declare its type if it is one of them", sniffed, strings.Join(patterns, ", "))
		}
		if mimes.Contradicts(declared, sniffed) {
			return "", apperr.Newf(apperr.MimeNotAllowed, "the file's content looks like %s, not the declared %s", sniffed, declared)
		}
	}
	if declared != "" {
		return declared, nil
	}
	if len(head) == 0 {
		return defaultContentType, nil
	}
	return http.DetectContentType(head), nil
}

// GuardHead checks the type of an upload's first bytes before they reach
// the store, when the upload has type rules: body is read until
// mimes.SniffLen bytes (or its end) are at hand, and a refused type fails
// the first Read with MIME_NOT_ALLOWED, so nothing is written. whole says
// that body holds the file from its first byte to its last; otherwise a
// body shorter than mimes.SniffLen decides nothing (the finishing step
// checks the whole head again in any case).
func GuardHead(up *models.Upload, body io.Reader, whole bool) io.Reader {
	if len(up.MimeRules) == 0 {
		return body
	}
	return &headGuard{src: body, rules: up.MimeRules, declared: up.Mime, whole: whole}
}

type headGuard struct {
	src      io.Reader
	rules    [][]string
	declared string
	whole    bool
	head     []byte // read ahead, not yet handed on
	checked  bool
	err      error
}

func (g *headGuard) Read(p []byte) (int, error) {
	if !g.checked {
		g.checked = true
		buf := make([]byte, mimes.SniffLen)
		n, err := io.ReadFull(g.src, buf)
		g.head = buf[:n]
		switch {
		case err == nil || ((errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && g.whole):
			if _, cerr := ContentType(g.rules, g.declared, g.head); cerr != nil {
				g.head, g.err = nil, cerr
			}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			// A short first chunk of a longer file: the finish decides.
		default:
			g.err = err
		}
		if g.err == nil && err != nil {
			g.err = io.EOF
		}
	}
	if len(g.head) > 0 {
		n := copy(p, g.head)
		g.head = g.head[n:]
		return n, nil
	}
	if g.err != nil {
		return 0, g.err
	}
	return g.src.Read(p)
}

// readHead reads the first mimes.SniffLen bytes of a stored upload.
func (s *Service) readHead(ctx context.Context, id string) ([]byte, error) {
	obj, err := s.Bytes.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	buf := make([]byte, mimes.SniffLen)
	n, err := io.ReadFull(obj, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return bytes.Clone(buf[:n]), nil
}

// The quotas are checked when an upload begins from figures at most a few
// seconds old (a query per upload would double the statements of a small
// one); the account's storage quota is then enforced exactly, in the
// transaction that commits each file.
const quotaCacheTTL = 2 * time.Second

type quotaCache struct {
	mu       sync.Mutex
	accounts map[string]accountUse
	keys     map[string]keyUse
}

type accountUse struct {
	used, quota int64
	at          time.Time
}

// keyUse is a key's unfinished uploads as last counted, plus those begun
// here since.
type keyUse struct {
	counted, since int64
	at             time.Time
}

// storageLeft returns the account's remaining quota (0: no quota) and
// refuses a new upload of size bytes (-1: unknown) that cannot fit.
func (s *Service) storageLeft(ctx context.Context, accountID string, size int64) (int64, error) {
	now := time.Now()
	c := &s.quotas
	c.mu.Lock()
	u, ok := c.accounts[accountID]
	c.mu.Unlock()
	if !ok || now.Sub(u.at) > quotaCacheTTL {
		a, err := models.GetAccount(ctx, s.DB, accountID)
		if err != nil {
			return 0, fmt.Errorf("load account: %w", err)
		}
		u = accountUse{used: a.BytesUsed, quota: s.QuotaOf(a), at: now}
		c.mu.Lock()
		if c.accounts == nil || len(c.accounts) > 10000 {
			c.accounts = map[string]accountUse{}
		}
		c.accounts[accountID] = u
		c.mu.Unlock()
	}
	if u.quota <= 0 {
		return 0, nil
	}
	left := u.quota - u.used
	if left <= 0 || size > left {
		return 0, &apperr.Error{Code: apperr.QuotaExceeded, Message: fmt.Sprintf(errQuota, u.quota, u.used)}
	}
	return left, nil
}

// PendingCap is the cap on a key's unfinished uploads (0: none).
func (s *Service) PendingCap(k *models.APIKey) int { return int(s.pendingCap(k)) }

// QuotaOf is an account's storage quota in bytes (0: none).
func (s *Service) QuotaOf(a *models.Account) int64 {
	if a.StorageQuota != nil {
		return *a.StorageQuota
	}
	return s.StorageQuota
}

// pendingCap returns the cap on a key's unfinished uploads (0: none): the
// server's, lowered by the key's own.
func (s *Service) pendingCap(k *models.APIKey) int64 {
	limit := int64(s.MaxPendingUploads)
	if k != nil && k.MaxPendingUploads != nil && *k.MaxPendingUploads > 0 && (limit == 0 || int64(*k.MaxPendingUploads) < limit) {
		limit = int64(*k.MaxPendingUploads)
	}
	return limit
}

// admitPending counts a new unfinished upload for key and refuses it when
// the key already has capN open. The count is re-read from the database at
// most every quotaCacheTTL, or when the estimate reaches the cap.
func (s *Service) admitPending(ctx context.Context, keyID string, capN int64) error {
	if keyID == "" || capN <= 0 {
		return nil
	}
	now := time.Now()
	c := &s.quotas
	c.mu.Lock()
	u, ok := c.keys[keyID]
	fresh := ok && now.Sub(u.at) <= quotaCacheTTL && u.counted+u.since < capN
	if fresh {
		u.since++
		c.keys[keyID] = u
	}
	c.mu.Unlock()
	if fresh {
		return nil
	}
	n, err := models.CountPendingUploadsOfKey(ctx, s.DB, keyID)
	if err != nil {
		return fmt.Errorf("count unfinished uploads: %w", err)
	}
	if n >= capN {
		return &apperr.Error{Code: apperr.QuotaExceeded, Message: fmt.Sprintf(errPendingCap, n)}
	}
	c.mu.Lock()
	if c.keys == nil || len(c.keys) > 10000 {
		c.keys = map[string]keyUse{}
	}
	c.keys[keyID] = keyUse{counted: n, since: 1, at: now}
	c.mu.Unlock()
	return nil
}

// addUse keeps the cached usage of an account in step with the files this
// process commits (delta > 0) and deletes (delta < 0).
func (s *Service) addUse(accountID string, delta int64) {
	s.quotas.mu.Lock()
	if u, ok := s.quotas.accounts[accountID]; ok {
		u.used += delta
		s.quotas.accounts[accountID] = u
	}
	s.quotas.mu.Unlock()
}

// forgetUse drops the cached usage of an account (files were deleted).
func (s *Service) forgetUse(accountID string) {
	s.quotas.mu.Lock()
	delete(s.quotas.accounts, accountID)
	s.quotas.mu.Unlock()
}
