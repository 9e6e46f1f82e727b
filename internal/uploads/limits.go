package uploads

import (
	"strings"

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
// authorised by the upload URL alone. The type rules meet the content in
// contenttype.go, the cap and the quota are counted in quotas.go.

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
