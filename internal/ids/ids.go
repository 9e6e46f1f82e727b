// Package ids makes and checks the opaque random identifiers Satchel hands
// out: file IDs, account IDs, key IDs and upload IDs.
package ids

import (
	"crypto/rand"
	"math/big"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Length is the number of base62 characters in an ID: 22 characters carry
// 130 bits, so every ID has at least 128 random bits.
const Length = 22

var base = big.NewInt(int64(len(alphabet)))

// New returns a fresh ID of Length base62 characters.
func New() string { return Random(Length) }

// Random returns n base62 characters drawn uniformly from crypto/rand.
func Random(n int) string {
	out := make([]byte, n)
	for i := range out {
		v, err := rand.Int(rand.Reader, base)
		if err != nil {
			// crypto/rand never fails on supported platforms; if it does,
			// continuing would hand out guessable IDs.
			panic("ids: crypto/rand failed: " + err.Error())
		}
		out[i] = alphabet[v.Int64()]
	}
	return string(out)
}

// Valid reports whether s has the shape of an ID made by New. It is the
// gate in front of every lookup that turns an ID into a storage path.
func Valid(s string) bool {
	if len(s) != Length {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
