// Package mimes matches media types against the patterns keys and upload
// IDs may carry ("image/*", "application/pdf", "*/*").
package mimes

import "strings"

// ValidPattern reports whether p is "type/subtype", "type/*" or "*/*".
func ValidPattern(p string) bool {
	typ, sub, ok := strings.Cut(p, "/")
	if !ok || typ == "" || sub == "" || len(p) > 255 {
		return false
	}
	if typ == "*" {
		return sub == "*"
	}
	return token(typ) && (sub == "*" || token(sub))
}

func token(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&-^_.+", c) >= 0) {
			return false
		}
	}
	return true
}

// Allowed reports whether media type mt (parameters ignored) matches one of
// patterns. No patterns allow everything.
func Allowed(mt string, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	base, _, _ := strings.Cut(mt, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "*/*" || p == base {
			return true
		}
		if strings.HasSuffix(p, "/*") && strings.HasPrefix(base, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}
