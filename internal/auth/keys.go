// Package auth turns credentials into a Principal: API keys (Bearer or Basic
// apikey:<key>), hashed at rest and compared in constant time. It also
// creates accounts and keys, and bootstraps the first account.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"satchel/internal/ids"
	"satchel/models"
)

// keyRandomLen base62 characters carry 190 random bits.
const keyRandomLen = 32

// GenerateKey returns a new key of kind, its hash and a display hint.
func GenerateKey(kind string) (plain, hash, hint string) {
	r := ids.Random(keyRandomLen)
	plain = kind + "_" + r
	return plain, HashKey(plain), kind + "_" + r[:4] + "…"
}

// HashKey is the stored form of a key. Keys carry 190 random bits, so a plain
// SHA-256 is as strong as a slow hash here and keeps lookups cheap.
func HashKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// kindOf returns the kind a key's prefix claims, or "" when it is malformed.
func kindOf(plain string) string {
	kind, rest, ok := strings.Cut(plain, "_")
	if !ok || len(rest) != keyRandomLen || (kind != models.KindPublic && kind != models.KindSecret) {
		return ""
	}
	return kind
}

// hashesEqual compares two hex hashes in constant time.
func hashesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
