// Package mimes matches media types against the patterns keys and upload
// IDs may carry ("image/*", "application/pdf", "*/*").
package mimes

import (
	"net/http"
	"strings"
)

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

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 512

// Sniff returns the media type the content starts like (the WHATWG sniffing
// algorithm of net/http, parameters dropped): "application/octet-stream" or
// "text/plain" when it cannot tell more.
func Sniff(head []byte) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	mt, _, _ := strings.Cut(http.DetectContentType(head), ";")
	return strings.TrimSpace(mt)
}

// Indeterminate reports whether a sniffed type says nothing about what the
// content is: unknown binary or plain text.
func Indeterminate(sniffed string) bool {
	return sniffed == "application/octet-stream" || sniffed == "text/plain"
}

// families are sniffed types that stand for a family of declared types the
// sniffer cannot tell apart (an SVG sniffs as text/xml, a .docx as a zip).
var families = map[string]func(declared string) bool{
	"text/xml": func(d string) bool {
		return d == "text/xml" || d == "application/xml" || strings.HasSuffix(d, "+xml")
	},
	"application/zip": func(d string) bool {
		return strings.HasSuffix(d, "+zip") || strings.HasPrefix(d, "application/vnd.") ||
			d == "application/java-archive" || d == "application/x-zip-compressed"
	},
	"application/ogg": func(d string) bool { return d == "audio/ogg" || d == "video/ogg" || d == "application/ogg" },
	"audio/wave":      func(d string) bool { return d == "audio/wav" || d == "audio/x-wav" || d == "audio/vnd.wave" },
	"video/webm":      func(d string) bool { return d == "audio/webm" },
	"audio/mpeg":      func(d string) bool { return d == "audio/mp3" },
	"video/mp4":       func(d string) bool { return d == "audio/mp4" || d == "video/quicktime" || d == "audio/x-m4a" },
	"video/avi":       func(d string) bool { return d == "video/x-msvideo" },
	"image/x-icon":    func(d string) bool { return d == "image/vnd.microsoft.icon" },
	"font/ttf":        func(d string) bool { return d == "application/x-font-ttf" },
}

// Contradicts reports whether content that sniffs as sniffed cannot be of
// the declared type: the sniffer recognised something specific, and it is
// neither the declared type nor of its family. An HTML page declared as
// image/png contradicts it; an unknown binary contradicts nothing.
func Contradicts(declared, sniffed string) bool {
	d, _, _ := strings.Cut(declared, ";")
	d = strings.ToLower(strings.TrimSpace(d))
	s := strings.ToLower(strings.TrimSpace(sniffed))
	if Indeterminate(s) || d == s {
		return false
	}
	if same, ok := families[s]; ok && same(d) {
		return false
	}
	return true
}
