package tus

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strings"

	"satchel/internal/apperr"
	"satchel/internal/storage"
)

// checksumAlgorithms are the tus checksum extension's algorithms Satchel
// verifies, by their names in Upload-Checksum.
var checksumAlgorithms = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
}

// checksumAlgorithmList advertises checksumAlgorithms (Tus-Checksum-Algorithm).
const checksumAlgorithmList = "md5,sha1,sha256"

// uploadChecksum is a parsed Upload-Checksum header.
type uploadChecksum struct {
	Algorithm string
	Sum       []byte
}

// parseChecksum reads an Upload-Checksum header, "<algorithm> <base64
// digest>", strictly: one of the algorithms of Tus-Checksum-Algorithm,
// spelt as advertised, and a standard base64 digest of that algorithm's
// size. Anything else is BAD_USER_INPUT.
func parseChecksum(header string) (uploadChecksum, error) {
	alg, digest, ok := strings.Cut(header, " ")
	if !ok || alg == "" || digest == "" || strings.Contains(digest, " ") {
		return uploadChecksum{}, apperr.New(apperr.BadUserInput, `Upload-Checksum is "<algorithm> <base64 digest>"`)
	}
	newHash, known := checksumAlgorithms[alg]
	if !known {
		if len(alg) > 32 {
			alg = alg[:32]
		}
		return uploadChecksum{}, apperr.Newf(apperr.BadUserInput, "Upload-Checksum algorithm %q is not supported; use one of %s", alg, checksumAlgorithmList)
	}
	sum, err := base64.StdEncoding.Strict().DecodeString(digest)
	if err != nil {
		return uploadChecksum{}, apperr.New(apperr.BadUserInput, "Upload-Checksum digest is not standard base64")
	}
	if size := newHash().Size(); len(sum) != size {
		return uploadChecksum{}, apperr.Newf(apperr.BadUserInput, "Upload-Checksum digest is %d bytes; a %s digest is %d", len(sum), alg, size)
	}
	return uploadChecksum{Algorithm: alg, Sum: sum}, nil
}

// errChecksumMismatch is the answer to a chunk that fails its checksum.
var errChecksumMismatch = apperr.New(apperr.ChecksumMismatch,
	"the request's bytes do not match its Upload-Checksum; none of them was kept: send them again from the same offset")

// withChecksum returns r carrying its Upload-Checksum for the store, which
// verifies the bytes as they arrive; r itself when it has none. A malformed
// header is refused before any byte is read.
func withChecksum(r *http.Request) (*http.Request, error) {
	header := r.Header.Get("Upload-Checksum")
	if header == "" {
		return r, nil
	}
	c, err := parseChecksum(header)
	if err != nil {
		return nil, err
	}
	length := r.ContentLength
	if length < 0 {
		length = -1
	}
	ctx := storage.WithChunkChecksum(r.Context(), storage.ChunkChecksum{
		New: checksumAlgorithms[c.Algorithm], Sum: c.Sum, Length: length, Err: hookError(r.Context(), errChecksumMismatch),
	})
	return r.WithContext(ctx), nil
}
