package e2e

// The bad-input suite of issue 12: every upload route (tus creation, PATCH,
// creation-with-upload, deferred length, concatenation, multipart parts,
// POST /files/basic, POST /files/public/{id}, GraphQL uploadFile and the
// mutations around them) answered with hostile or over-limit input, on
// SQLite and PostgreSQL. Each case asserts the status and the code, and that
// nothing was stored or spent: no file, no upload row, no part row, no
// spent upload ID, no byte stored (on disk or in the bucket), no change in
// any account's usage.
// Then the whole-API table of malformed requests, and hostile file names
// that must never reach the disk.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel/internal/config"
	"satchel/internal/ids"
	"satchel/models"
)

// badCase is one refused request. fresh, when set, builds the request
// from fixtures of its own, made before the state is taken: for refusals
// that drop what they refuse.
type badCase struct {
	scenario
	fresh func(t *testing.T) scenario
}

func TestBadInputStoresNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		const limit = 6 << 20 // the server's limit: a multipart session of two parts fits
		s := newTestServer(t, b, func(c *config.Config) { c.MaxUploadSize = limit })
		pk, sk := s.keys.PublicKey, s.keys.SecretKey

		// Keys with rules.
		small, _ := s.createKey(t, sk, map[string]any{"kind": "PUBLIC", "maxFileSize": 10})
		images, _ := s.createKey(t, sk, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
		capped, _ := s.createKey(t, sk, map[string]any{"kind": "PUBLIC", "maxPendingUploads": 1})
		s.tusUpload(t, capped, 5, "") // its one open upload
		slow, _ := s.createKey(t, sk, map[string]any{"kind": "PUBLIC", "uploadsPerMinute": 1})
		s.basicUpload(t, slow, "once.txt", "text/plain", []byte("once"))
		origins, _ := s.createKey(t, sk, map[string]any{"kind": "PUBLIC", "allowedOrigins": []string{"https://app.example.com"}})
		revoked, rec := s.createKey(t, sk, map[string]any{"kind": "PUBLIC"})
		minter, minterRec := s.createKey(t, sk, map[string]any{"kind": "SECRET", "name": "minter"})

		// Upload IDs.
		tkSmall := s.newTicket(t, "", map[string]any{"maxFileSize": 10}).UploadID
		tkPNG := s.newTicket(t, "", map[string]any{"allowedMimeTypes": []string{"image/png"}}).UploadID
		tkExpired := s.newTicket(t, "", map[string]any{"expiresInSeconds": 1}).UploadID
		tkUsed := s.newTicket(t, "", nil).UploadID
		s.publicUpload(t, tkUsed, []byte("spent"), nil)
		tkRevoked := s.newTicket(t, minter, nil).UploadID
		tkFree := s.newTicket(t, "", nil).UploadID

		// Another account, with a file, a partial upload and a session.
		_, otherSecret := s.newAccount(t, "other", models.KindSecret)
		otherPub, _ := s.createKey(t, otherSecret, map[string]any{"kind": "PUBLIC"})
		otherFile := s.basicUpload(t, otherPub, "theirs.txt", "text/plain", []byte("theirs"))
		otherPartial, _ := s.tusCreate(t, otherPub, map[string]string{"Upload-Length": "3", "Upload-Concat": "partial"}, nil)
		otherSession, _, _ := s.beginMultipart(t, otherPub, 100, "theirs.bin")

		// An account with a small quota, nearly full.
		quotaAcct, quotaSecret := s.newAccount(t, "quota", models.KindSecret)
		s.setQuota(t, quotaAcct, 100)
		quotaKey, _ := s.createKey(t, quotaSecret, map[string]any{"kind": "PUBLIC"})
		s.basicUpload(t, quotaKey, "ninety.bin", "application/octet-stream", bytes.Repeat([]byte("n"), 90))

		// Uploads under way, a file, a multipart session.
		fixed := s.tusUpload(t, pk, 10, tusMeta("filename", "ten.txt"))
		deferred := func(key string) string {
			resp, _ := s.tusCreate(t, key, map[string]string{"Upload-Defer-Length": "1"}, nil)
			return idOf(resp.Header.Get("Location"))
		}
		deferredSmall, deferredBig, deferredQuota := deferred(small), deferred(pk), deferred(quotaKey)
		file := s.basicUpload(t, pk, "done.txt", "text/plain", []byte("done"))
		partial, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": "3", "Upload-Concat": "partial"}, []byte("abc"))
		unfinishedPartial, _ := s.tusCreate(t, pk, map[string]string{"Upload-Length": "3", "Upload-Concat": "partial"}, nil)
		session, count, part0 := s.beginMultipart(t, pk, limit, "big.bin")
		part0ID := idOf(part0.UploadURL)
		if count != 2 {
			t.Fatalf("session of %d parts", count)
		}
		// Revoked last, so that their fixtures above could be made.
		for _, id := range []string{rec.ID, minterRec.ID} {
			if _, r := s.gql(t, sk, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
		}
		time.Sleep(time.Until(time.Now().Add(1100 * time.Millisecond))) // tkExpired expires

		creation := func(kv ...string) map[string]string {
			return with(tusBase, append([]string{"Upload-Length", "4"}, kv...)...)
		}
		withBody := func(kv ...string) map[string]string {
			return with(creation(kv...), "Content-Type", "application/offset+octet-stream")
		}
		basic := func(kv ...string) map[string]string {
			return with(map[string]string{"Content-Type": "text/plain", "X-Upload-File-Name": "a.txt"}, kv...)
		}
		gql := func(name, key, query string, vars map[string]any, code string) badCase {
			return badCase{scenario: scenario{name: name, method: "POST", url: "/graphql", key: key, headers: jsonHeaders,
				body: gqlJSON(query, vars), status: 200, code: code}}
		}
		uploadFile := func(name, key string, file formPart, input map[string]any, status int, code string) badCase {
			vars := map[string]any{"file": nil}
			if input != nil {
				vars["input"] = input
			}
			ct, body := formBody(formOps(uploadFileQuery, vars), formField("map", `{"0":["variables.file"]}`), file)
			return badCase{scenario: scenario{name: name, method: "POST", url: "/graphql", key: key,
				headers: map[string]string{"Content-Type": ct}, body: string(body), status: status, code: code}}
		}
		rawUpload := func(name, key string, parts []formPart, status int, code string) badCase {
			ct, body := formBody(parts...)
			return badCase{scenario: scenario{name: name, method: "POST", url: "/graphql", key: key,
				headers: map[string]string{"Content-Type": ct}, body: string(body), status: status, code: code}}
		}
		c := func(sc scenario) badCase { return badCase{scenario: sc} }
		big := strings.Repeat("x", limit+1)
		html := string(scriptHTML)
		hugeMeta := "k " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("m"), 13<<10))
		var manyPairs []string
		for i := range 65 {
			manyPairs = append(manyPairs, fmt.Sprintf("k%d", i), "v")
		}
		var tagList []string
		for j := range 51 {
			tagList = append(tagList, fmt.Sprintf(`{"name":"t%d","searchable":false}`, j))
		}
		tags51 := "[" + strings.Join(tagList, ",") + "]"
		const beginQ = `mutation($in: BeginMultipartUploadInput!) { beginMultipartUpload(input: $in) { fileId } }`
		const ticketQ = `mutation($in: CreateUploadTicketInput!) { createUploadTicket(input: $in) { uploadId } }`

		cases := []badCase{
			// tus creation: who may.
			c(scenario{name: "tus create without a key", method: "POST", url: "/uploads/", headers: creation(), status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "tus create slash-less without a key", method: "POST", url: "/uploads", headers: creation(), status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "tus create with a wrong key", method: "POST", url: "/uploads/", key: "public_" + strings.Repeat("A", 32), headers: creation(), status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "tus create with a revoked key", method: "POST", url: "/uploads/", key: revoked, headers: creation(), status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "tus create with a secret key cross-origin", method: "POST", url: "/uploads/", key: sk, headers: creation("Origin", "https://evil.example"), status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "tus create from an origin the key refuses", method: "POST", url: "/uploads/", key: origins, headers: creation("Origin", "https://evil.example"), status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "tus create without Tus-Resumable", method: "POST", url: "/uploads/", key: pk, headers: map[string]string{"Upload-Length": "4"}, status: 412, code: "UNSUPPORTED_VERSION"}),
			c(scenario{name: "tus create in tus 0.2.2", method: "POST", url: "/uploads/", key: pk, headers: creation("Tus-Resumable", "0.2.2"), status: 412, code: "UNSUPPORTED_VERSION"}),
			// tus creation: lengths.
			c(scenario{name: "tus create without a length", method: "POST", url: "/uploads/", key: pk, headers: tusBase, status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a negative length", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Length", "-1"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a length that is no number", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Length", "4x"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a length and a deferred length", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Defer-Length", "1"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with Upload-Defer-Length 2", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Defer-Length", "2"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create over the server limit", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Length", fmt.Sprint(limit+1)), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create of 9 EB", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Length", "9223372036854775807"), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create over the key's limit", method: "POST", url: "/uploads/", key: small, headers: creation("Upload-Length", "11"), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create over the upload ID's limit", method: "POST", url: "/uploads/", headers: creation("Upload-Length", "11", "Upload-Metadata", tusMeta("uploadId", tkSmall)), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create with upload over the key's limit", method: "POST", url: "/uploads/", key: small, headers: withBody("Upload-Length", "11"), body: "01234567890", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create deferred with a body over the key's limit", method: "POST", url: "/uploads/", key: small,
				headers: with(tusBase, "Upload-Defer-Length", "1", "Content-Type", "application/offset+octet-stream"), body: strings.Repeat("d", 3000), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create deferred chunked over the key's limit", method: "POST", url: "/uploads/", key: small, chunked: true,
				headers: with(tusBase, "Upload-Defer-Length", "1", "Content-Type", "application/offset+octet-stream"), body: strings.Repeat("d", 3000), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus create with a body longer than its length", method: "POST", url: "/uploads/", key: pk, headers: withBody(), body: "0123456789", status: 413, code: "TOO_LARGE"}),
			// tus creation: metadata.
			c(scenario{name: "tus create with metadata not in base64", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", "filename a.txt"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with an empty metadata key", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", "a "+b64("1")+",,b "+b64("2")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a repeated metadata key", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("a", "1", "a", "2")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a metadata pair of three words", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", "a "+b64("1")+" extra"), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a metadata key of 65 bytes", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta(strings.Repeat("k", 65), "v")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with 65 metadata pairs", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta(manyPairs...)), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with 17 KiB of metadata", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", hugeMeta+","+hugeMeta[:2]+"2"+hugeMeta[1:]), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a file name with a slash", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("filename", "../etc/passwd")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a file name with NUL", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("filename", "a\x00b")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a file name of invalid UTF-8", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("filename", "a\xffb")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a file name of 256 bytes", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("filename", strings.Repeat("n", 256))), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with tags that are not JSON", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("tags", "[oops")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a tag of spaces", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("tags", `["a b"]`)), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with 51 tags", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("tags", tags51)), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a type that is no media type", method: "POST", url: "/uploads/", key: pk, headers: creation("Upload-Metadata", tusMeta("filetype", "not a type")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a type the key refuses", method: "POST", url: "/uploads/", key: images, headers: creation("Upload-Metadata", tusMeta("filetype", "text/html")), status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "tus create with a type the upload ID refuses", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", tkPNG, "filetype", "image/gif")), status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "tus create with upload of HTML declared as PNG", method: "POST", url: "/uploads/", key: images,
				headers: withBody("Upload-Length", fmt.Sprint(len(html)), "Upload-Metadata", tusMeta("filetype", "image/png")), body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "tus create with upload of HTML with no type", method: "POST", url: "/uploads/", key: images,
				headers: withBody("Upload-Length", fmt.Sprint(len(html))), body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			// tus creation: upload IDs.
			c(scenario{name: "tus create with an unknown upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", ids.New())), status: 404, code: "UPLOAD_ID_UNKNOWN"}),
			c(scenario{name: "tus create with a malformed upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", "../x")), status: 404, code: "UPLOAD_ID_UNKNOWN"}),
			c(scenario{name: "tus create with an expired upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", tkExpired)), status: 410, code: "UPLOAD_ID_EXPIRED"}),
			c(scenario{name: "tus create with a spent upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", tkUsed)), status: 409, code: "UPLOAD_ID_USED"}),
			c(scenario{name: "tus create with a revoked key's upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Metadata", tusMeta("uploadId", tkRevoked)), status: 410, code: "UPLOAD_ID_EXPIRED"}),
			c(scenario{name: "tus create partial with an upload ID", method: "POST", url: "/uploads/", headers: creation("Upload-Concat", "partial", "Upload-Metadata", tusMeta("uploadId", tkFree)), status: 400, code: "BAD_USER_INPUT"}),
			// tus creation: quotas and rates.
			c(scenario{name: "tus create over the pending cap", method: "POST", url: "/uploads/", key: capped, headers: creation(), status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "tus create over the storage quota", method: "POST", url: "/uploads/", key: quotaKey, headers: creation("Upload-Length", "11"), status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "tus create over the rate", method: "POST", url: "/uploads/", key: slow, headers: creation(), status: 429, code: "RATE_LIMITED"}),
			// tus creation: concatenation.
			c(scenario{name: "tus concat of an unknown part", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+s.URL+"/uploads/"+ids.New()), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus concat of a path", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+s.URL+"/uploads/../../satchel.db"), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus concat of another account's part", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+otherPartial.Header.Get("Location")), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus concat of a multipart part", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+part0.UploadURL), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus concat of an upload that is no part", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+s.URL+"/uploads/"+fixed), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus concat of an unfinished part", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+partial.Header.Get("Location")+" "+unfinishedPartial.Header.Get("Location")), status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus concat with a body", method: "POST", url: "/uploads/", key: pk, headers: with(tusBase, "Upload-Concat", "final;"+partial.Header.Get("Location"), "Content-Type", "application/offset+octet-stream"), body: "more", status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "tus concat of the same part with a key of another account", method: "POST", url: "/uploads/", key: otherPub, headers: with(tusBase, "Upload-Concat", "final;"+partial.Header.Get("Location")), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus create with an unknown checksum algorithm", method: "POST", url: "/uploads/", key: pk, headers: withBody("Upload-Checksum", "crc32 AAAAAA=="), body: "abcd", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus create with a checksum not in base64", method: "POST", url: "/uploads/", key: pk, headers: withBody("Upload-Checksum", "sha1 !!!"), body: "abcd", status: 400, code: "BAD_USER_INPUT"}),

			// tus PATCH.
			c(scenario{name: "tus PATCH without Tus-Resumable", method: "PATCH", url: "/uploads/" + fixed, headers: map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, body: "abc", status: 412, code: "UNSUPPORTED_VERSION"}),
			c(scenario{name: "tus PATCH of JSON", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Content-Type", "application/json"), body: "{}", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"}),
			c(scenario{name: "tus PATCH without a type", method: "PATCH", url: "/uploads/" + fixed, headers: with(tusBase, "Upload-Offset", "0"), body: "abc", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"}),
			c(scenario{name: "tus PATCH without an offset", method: "PATCH", url: "/uploads/" + fixed, headers: with(tusBase, "Content-Type", "application/offset+octet-stream"), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH at a negative offset", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(-1), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH at the wrong offset", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(3), body: "abc", status: 409, code: "OFFSET_MISMATCH"}),
			c(scenario{name: "tus PATCH past the length", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0), body: "0123456789X", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus PATCH declaring a length of a fixed upload", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Length", "5"), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH of an unknown upload", method: "PATCH", url: "/uploads/" + ids.New(), headers: tusPatchHeaders(0), body: "abc", status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus PATCH of a finished file", method: "PATCH", url: "/uploads/" + file, headers: tusPatchHeaders(0), body: "abc", status: 409, code: "OFFSET_MISMATCH"}),
			c(scenario{name: "tus PATCH of a malformed ID", method: "PATCH", url: "/uploads/..%2F..%2Fsatchel.db", headers: tusPatchHeaders(0), body: "abc", status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus PATCH of an ID with NUL", method: "PATCH", url: "/uploads/a%00b", headers: tusPatchHeaders(0), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH with a sha256 that does not match", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", tusChecksum("sha256", []byte("other"), false)), body: "abc", status: 460, code: "CHECKSUM_MISMATCH"}),
			c(scenario{name: "tus PATCH with an md5 that does not match", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", tusChecksum("md5", []byte("other"), false)), body: "abc", status: 460, code: "CHECKSUM_MISMATCH"}),
			c(scenario{name: "tus PATCH with a sha1 that does not match", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", tusChecksum("sha1", []byte("other"), false)), body: "0123456789", status: 460, code: "CHECKSUM_MISMATCH"}),
			c(scenario{name: "tus PATCH with a sha256 of the wrong length", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256 "+b64("short")), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH with an unknown checksum algorithm", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", "sha512 "+b64(strings.Repeat("x", 64))), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH with a checksum of one word", method: "PATCH", url: "/uploads/" + fixed, headers: tusPatchHeaders(0, "Upload-Checksum", "sha256"), body: "abc", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH deferred declaring over the key's limit", method: "PATCH", url: "/uploads/" + deferredSmall, headers: tusPatchHeaders(0, "Upload-Length", "5000"), body: "hello", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus PATCH deferred sending over the key's limit", method: "PATCH", url: "/uploads/" + deferredSmall, headers: tusPatchHeaders(0), body: strings.Repeat("x", 3000), status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus PATCH deferred declaring over the server limit", method: "PATCH", url: "/uploads/" + deferredBig, headers: tusPatchHeaders(0, "Upload-Length", fmt.Sprint(limit+1)), body: "hello", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus PATCH deferred sending over the server limit", method: "PATCH", url: "/uploads/" + deferredBig, headers: tusPatchHeaders(0), body: big, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "tus PATCH deferred declaring a negative length", method: "PATCH", url: "/uploads/" + deferredBig, headers: tusPatchHeaders(0, "Upload-Length", "-5"), body: "hello", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PATCH deferred over the quota left", method: "PATCH", url: "/uploads/" + deferredQuota, headers: tusPatchHeaders(0), body: strings.Repeat("q", 11), status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "tus PATCH deferred declaring over the quota left", method: "PATCH", url: "/uploads/" + deferredQuota, headers: tusPatchHeaders(0, "Upload-Length", "11"), body: "q", status: 403, code: "QUOTA_EXCEEDED"}),
			{fresh: func(t *testing.T) scenario {
				id := s.tusUpload(t, images, 5000, tusMeta("filetype", "image/png"))
				return scenario{name: "tus PATCH of HTML declared as PNG", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(0), body: html, status: 415, code: "MIME_NOT_ALLOWED"}
			}, scenario: scenario{name: "tus PATCH of HTML declared as PNG"}},
			{fresh: func(t *testing.T) scenario {
				id := s.tusUpload(t, images, len(html), "")
				return scenario{name: "tus PATCH of HTML with no type", method: "PATCH", url: "/uploads/" + id, headers: tusPatchHeaders(0), body: html, status: 415, code: "MIME_NOT_ALLOWED"}
			}, scenario: scenario{name: "tus PATCH of HTML with no type"}},
			// tus HEAD, DELETE, PUT.
			c(scenario{name: "tus HEAD of an unknown upload", method: "HEAD", url: "/uploads/" + ids.New(), headers: tusBase, status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus DELETE of a finished file", method: "DELETE", url: "/uploads/" + file, headers: tusBase, status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "tus DELETE of a multipart part", method: "DELETE", url: "/uploads/" + part0ID, headers: tusBase, status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "tus DELETE of an unknown upload", method: "DELETE", url: "/uploads/" + ids.New(), headers: tusBase, status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus DELETE without Tus-Resumable", method: "DELETE", url: "/uploads/" + fixed, status: 412, code: "UNSUPPORTED_VERSION"}),
			c(scenario{name: "tus PUT on an upload that is no part", method: "PUT", url: "/uploads/" + fixed, body: "0123456789", status: 405, code: "METHOD_NOT_ALLOWED"}),
			c(scenario{name: "tus PUT of a part of the wrong length", method: "PUT", url: "/uploads/" + part0ID, body: "short", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PUT of a part chunked", method: "PUT", url: "/uploads/" + part0ID, body: "short", chunked: true, status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "tus PUT of an unknown part", method: "PUT", url: "/uploads/" + ids.New(), body: "x", status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "tus GET is not served", method: "GET", url: "/uploads/" + fixed, status: 405, code: "METHOD_NOT_ALLOWED"}),

			// POST /files/basic.
			c(scenario{name: "basic without a key", method: "POST", url: "/files/basic", headers: basic(), body: "data", status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "basic with a malformed bearer", method: "POST", url: "/files/basic", headers: basic("Authorization", "Bearer x y"), body: "data", status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "basic with Basic auth of another user", method: "POST", url: "/files/basic", headers: basic("Authorization", basicAuth("admin", pk)), body: "data", status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "basic with a revoked key", method: "POST", url: "/files/basic", key: revoked, headers: basic(), body: "data", status: 401, code: "UNAUTHENTICATED"}),
			c(scenario{name: "basic with a secret key cross-origin", method: "POST", url: "/files/basic", key: sk, headers: basic("Origin", "https://evil.example"), body: "data", status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "basic from an origin the key refuses", method: "POST", url: "/files/basic", key: origins, headers: basic("Origin", "http://localhost"), body: "data", status: 403, code: "FORBIDDEN"}),
			c(scenario{name: "basic GET", method: "GET", url: "/files/basic", key: pk, status: 405, code: "METHOD_NOT_ALLOWED"}),
			c(scenario{name: "basic over the server limit", method: "POST", url: "/files/basic", key: pk, headers: basic(), body: big, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "basic chunked over the server limit", method: "POST", url: "/files/basic", key: pk, headers: basic(), body: big, chunked: true, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "basic over the key's limit", method: "POST", url: "/files/basic", key: small, headers: basic(), body: "01234567890", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "basic chunked over the key's limit", method: "POST", url: "/files/basic", key: small, headers: basic(), body: "01234567890", chunked: true, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "basic expecting 100-continue over the limit", method: "POST", url: "/files/basic", key: pk, headers: basic(), body: big, expectContinue: true, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "basic with a type that is no media type", method: "POST", url: "/files/basic", key: pk, headers: basic("Content-Type", "text"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a name with a slash", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-File-Name", "a/b"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a name of dots", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-File-Name", ".."), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a percent-encoded NUL in the name", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-File-Name", "a%00b"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with percent-encoded invalid UTF-8 in the name", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-File-Name", "a%FFb"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a name with a right-to-left override", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-File-Name", "a%E2%80%AEtxt.exe"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with tags that are not JSON", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-Tags", "{"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a tag object with extra fields", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-Tags", `[{"name":"a","color":"red"}]`), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with 11 searchable tags", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-Tags", `["a","b","c","d","e","f","g","h","i","j","k"]`), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic with a tag of 129 bytes", method: "POST", url: "/files/basic", key: pk, headers: basic("X-Upload-Tags", `["`+strings.Repeat("t", 129)+`"]`), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "basic of HTML with no type under image/*", method: "POST", url: "/files/basic", key: images, body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "basic of HTML declared as PNG", method: "POST", url: "/files/basic", key: images, headers: map[string]string{"Content-Type": "image/png"}, body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "basic of SVG script declared as JPEG", method: "POST", url: "/files/basic", key: images, headers: map[string]string{"Content-Type": "image/jpeg"}, body: `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "basic of text declared as HTML under image/*", method: "POST", url: "/files/basic", key: images, headers: map[string]string{"Content-Type": "text/html"}, body: "hello", status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "basic chunked HTML declared as GIF", method: "POST", url: "/files/basic", key: images, headers: map[string]string{"Content-Type": "image/gif"}, body: html, chunked: true, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "basic over the pending cap", method: "POST", url: "/files/basic", key: capped, headers: basic(), body: "data", status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "basic over the storage quota", method: "POST", url: "/files/basic", key: quotaKey, headers: basic(), body: strings.Repeat("q", 11), status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "basic chunked over the storage quota", method: "POST", url: "/files/basic", key: quotaKey, headers: basic(), body: strings.Repeat("q", 11), chunked: true, status: 403, code: "QUOTA_EXCEEDED"}),
			c(scenario{name: "basic over the rate", method: "POST", url: "/files/basic", key: slow, headers: basic(), body: "data", status: 429, code: "RATE_LIMITED"}),

			// POST /files/public/{uploadId}.
			c(scenario{name: "public with an unknown upload ID", method: "POST", url: "/files/public/" + ids.New(), headers: basic(), body: "data", status: 404, code: "UPLOAD_ID_UNKNOWN"}),
			c(scenario{name: "public with a malformed upload ID", method: "POST", url: "/files/public/not-an-id", headers: basic(), body: "data", status: 404, code: "UPLOAD_ID_UNKNOWN"}),
			c(scenario{name: "public with NUL in the upload ID", method: "POST", url: "/files/public/a%00", headers: basic(), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "public with an expired upload ID", method: "POST", url: "/files/public/" + tkExpired, headers: basic(), body: "data", status: 410, code: "UPLOAD_ID_EXPIRED"}),
			c(scenario{name: "public with a spent upload ID", method: "POST", url: "/files/public/" + tkUsed, headers: basic(), body: "data", status: 409, code: "UPLOAD_ID_USED"}),
			c(scenario{name: "public with a revoked key's upload ID", method: "POST", url: "/files/public/" + tkRevoked, headers: basic(), body: "data", status: 410, code: "UPLOAD_ID_EXPIRED"}),
			c(scenario{name: "public over the upload ID's limit", method: "POST", url: "/files/public/" + tkSmall, headers: basic(), body: "01234567890", status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "public chunked over the upload ID's limit", method: "POST", url: "/files/public/" + tkSmall, headers: basic(), body: "01234567890", chunked: true, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "public with a type the upload ID refuses", method: "POST", url: "/files/public/" + tkPNG, headers: basic("Content-Type", "image/gif"), body: "GIF89a", status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "public of HTML declared as PNG", method: "POST", url: "/files/public/" + tkPNG, headers: basic("Content-Type", "image/png"), body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "public of HTML with no type", method: "POST", url: "/files/public/" + tkPNG, body: html, status: 415, code: "MIME_NOT_ALLOWED"}),
			c(scenario{name: "public with a bad name", method: "POST", url: "/files/public/" + tkFree, headers: basic("X-Upload-File-Name", "a\\b"), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "public with bad tags", method: "POST", url: "/files/public/" + tkFree, headers: basic("X-Upload-Tags", `[1]`), body: "data", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "public over the server limit", method: "POST", url: "/files/public/" + tkFree, headers: basic(), body: big, status: 413, code: "TOO_LARGE"}),
			c(scenario{name: "public PUT", method: "PUT", url: "/files/public/" + tkFree, body: "data", status: 405, code: "METHOD_NOT_ALLOWED"}),

			// GraphQL uploadFile.
			uploadFile("uploadFile without a key", "", formFile("0", "a.txt", "text/plain", []byte("data")), nil, 401, "UNAUTHENTICATED"),
			uploadFile("uploadFile over the server limit", pk, formFile("0", "a.bin", "application/octet-stream", []byte(big)), nil, 413, "TOO_LARGE"),
			uploadFile("uploadFile over the key's limit", small, formFile("0", "a.bin", "application/octet-stream", []byte("01234567890")), nil, 413, "TOO_LARGE"),
			uploadFile("uploadFile of HTML declared as PNG", images, formFile("0", "a.png", "image/png", scriptHTML), nil, 200, "MIME_NOT_ALLOWED"),
			uploadFile("uploadFile of HTML with no type", images, formFile("0", "a.png", "", scriptHTML), nil, 200, "MIME_NOT_ALLOWED"),
			uploadFile("uploadFile with a type the key refuses", images, formFile("0", "a.txt", "text/plain", []byte("data")), nil, 200, "MIME_NOT_ALLOWED"),
			uploadFile("uploadFile with a bad name", pk, formFile("0", "a.txt", "text/plain", []byte("data")), map[string]any{"fileName": "../x"}, 200, "BAD_USER_INPUT"),
			uploadFile("uploadFile with a bad tag", pk, formFile("0", "a.txt", "text/plain", []byte("data")), map[string]any{"tags": []map[string]any{{"name": "no spaces"}}}, 200, "BAD_USER_INPUT"),
			uploadFile("uploadFile over the pending cap", capped, formFile("0", "a.txt", "text/plain", []byte("data")), nil, 200, "QUOTA_EXCEEDED"),
			uploadFile("uploadFile over the storage quota", quotaKey, formFile("0", "a.bin", "application/octet-stream", bytes.Repeat([]byte("q"), 11)), nil, 200, "QUOTA_EXCEEDED"),
			rawUpload("uploadFile without a map", pk, []formPart{formOps(uploadFileQuery, map[string]any{"file": nil}), formFile("0", "a.txt", "text/plain", []byte("x"))}, 400, "BAD_USER_INPUT"),
			rawUpload("uploadFile with operations that are not JSON", pk, []formPart{formField("operations", "{"), formField("map", `{"0":["variables.file"]}`), formFile("0", "a.txt", "text/plain", []byte("x"))}, 400, "BAD_USER_INPUT"),
			rawUpload("uploadFile mapping a missing file", pk, []formPart{formOps(uploadFileQuery, map[string]any{"file": nil}), formField("map", `{"0":["variables.file"]}`)}, 400, "BAD_USER_INPUT"),
			rawUpload("uploadFile mapping to a path that is not there", pk, []formPart{formOps(uploadFileQuery, map[string]any{"file": nil}), formField("map", `{"0":["variables.nope.deeper"]}`), formFile("0", "a.txt", "text/plain", []byte("x"))}, 400, "BAD_USER_INPUT"),

			// Multipart sessions.
			gql("multipart of a negative size", pk, beginQ, map[string]any{"in": map[string]any{"fileSize": -1}}, "BAD_USER_INPUT"),
			gql("multipart over the server limit", pk, beginQ, map[string]any{"in": map[string]any{"fileSize": limit + 1}}, "TOO_LARGE"),
			gql("multipart over the key's limit", small, beginQ, map[string]any{"in": map[string]any{"fileSize": 11}}, "TOO_LARGE"),
			gql("multipart with a type the key refuses", images, beginQ, map[string]any{"in": map[string]any{"fileSize": 10, "mime": "text/html"}}, "MIME_NOT_ALLOWED"),
			gql("multipart with a bad name", pk, beginQ, map[string]any{"in": map[string]any{"fileSize": 10, "fileName": "a/b"}}, "BAD_USER_INPUT"),
			gql("multipart with a bad type", pk, beginQ, map[string]any{"in": map[string]any{"fileSize": 10, "mime": "nope"}}, "BAD_USER_INPUT"),
			gql("multipart with bad tags", pk, beginQ, map[string]any{"in": map[string]any{"fileSize": 10, "tags": []map[string]any{{"name": ""}}}}, "BAD_USER_INPUT"),
			gql("multipart over the pending cap", capped, beginQ, map[string]any{"in": map[string]any{"fileSize": 10}}, "QUOTA_EXCEEDED"),
			gql("multipart over the storage quota", quotaKey, beginQ, map[string]any{"in": map[string]any{"fileSize": 11}}, "QUOTA_EXCEEDED"),
			{scenario: scenario{name: "multipart without a key", method: "POST", url: "/graphql", headers: jsonHeaders,
				body: gqlJSON(beginQ, map[string]any{"in": map[string]any{"fileSize": 10}}), status: 401, code: "UNAUTHENTICATED"}},
			gql("uploadPart past the last", pk, `query($f: ID!) { uploadPart(fileId: $f, uploadPartIndex: 2) { uploadUrl } }`, map[string]any{"f": session}, "BAD_USER_INPUT"),
			gql("uploadPart of a negative index", pk, `query($f: ID!) { uploadPart(fileId: $f, uploadPartIndex: -1) { uploadUrl } }`, map[string]any{"f": session}, "BAD_USER_INPUT"),
			gql("uploadPart of another account's session", pk, `query($f: ID!) { uploadPart(fileId: $f, uploadPartIndex: 1) { uploadUrl } }`, map[string]any{"f": otherSession}, "NOT_FOUND"),
			gql("uploadPart of an unknown session", pk, `query($f: ID!) { uploadPart(fileId: $f, uploadPartIndex: 1) { uploadUrl } }`, map[string]any{"f": ids.New()}, "NOT_FOUND"),
			gql("completeUploadPart with a wrong ETag", pk, `mutation($f: ID!) { completeUploadPart(input: {fileId: $f, uploadPartIndex: 0, etag: "\"abc\""}) { remainingUploadParts } }`, map[string]any{"f": session}, "BAD_USER_INPUT"),
			gql("completeUploadPart of a part without bytes", pk, `mutation($f: ID!) { completeUploadPart(input: {fileId: $f, uploadPartIndex: 1, etag: "x"}) { remainingUploadParts } }`, map[string]any{"f": session}, "BAD_USER_INPUT"),
			gql("completeUploadPart past the last", pk, `mutation($f: ID!) { completeUploadPart(input: {fileId: $f, uploadPartIndex: 9, etag: "x"}) { remainingUploadParts } }`, map[string]any{"f": session}, "BAD_USER_INPUT"),
			gql("completeUploadPart of another account's session", pk, `mutation($f: ID!) { completeUploadPart(input: {fileId: $f, uploadPartIndex: 0, etag: "x"}) { remainingUploadParts } }`, map[string]any{"f": otherSession}, "NOT_FOUND"),

			// Upload IDs are minted with care.
			gql("createUploadTicket with a public key", pk, ticketQ, map[string]any{"in": map[string]any{}}, "FORBIDDEN"),
			gql("createUploadTicket for 3601 seconds", sk, ticketQ, map[string]any{"in": map[string]any{"expiresInSeconds": 3601}}, "BAD_USER_INPUT"),
			gql("createUploadTicket for 0 seconds", sk, ticketQ, map[string]any{"in": map[string]any{"expiresInSeconds": -5}}, "BAD_USER_INPUT"),
			gql("createUploadTicket with a bad pattern", sk, ticketQ, map[string]any{"in": map[string]any{"allowedMimeTypes": []string{"image"}}}, "BAD_USER_INPUT"),
			gql("createUploadTicket with a negative size", sk, ticketQ, map[string]any{"in": map[string]any{"maxFileSize": -1}}, "BAD_USER_INPUT"),
			gql("createUploadTicket with a bad name", sk, ticketQ, map[string]any{"in": map[string]any{"fileName": "a/b"}}, "BAD_USER_INPUT"),
			gql("createUploadTicket with bad tags", sk, ticketQ, map[string]any{"in": map[string]any{"tags": []map[string]any{{"name": "a b"}}}}, "BAD_USER_INPUT"),
			gql("createApiKey with a pending cap of 0", sk, `mutation { createApiKey(input: {kind: PUBLIC, maxPendingUploads: 0}) { key } }`, nil, "BAD_USER_INPUT"),
			gql("createApiKey with a bad origin", sk, `mutation { createApiKey(input: {kind: PUBLIC, allowedOrigins: ["javascript:alert(1)"]}) { key } }`, nil, "BAD_USER_INPUT"),
			gql("createApiKey with a bad pattern", sk, `mutation { createApiKey(input: {kind: PUBLIC, allowedMimeTypes: ["*/png"]}) { key } }`, nil, "BAD_USER_INPUT"),
			gql("createApiKey with a public key", pk, `mutation { createApiKey(input: {kind: PUBLIC}) { key } }`, nil, "FORBIDDEN"),
			gql("deleteFile of another account's file", sk, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": otherFile}, "NOT_FOUND"),
			gql("deleteFile with a public key", pk, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": file}, "FORBIDDEN"),
			gql("account with a public key", pk, `{ account { storageUsed } }`, nil, "FORBIDDEN"),

			// Delivery.
			c(scenario{name: "GET an unknown file", method: "GET", url: "/files/" + ids.New(), status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "GET a file's unknown transformation", method: "GET", url: "/files/" + file + "/nope", status: 404, code: "NOT_FOUND"}),
			c(scenario{name: "GET a file with NUL", method: "GET", url: "/files/%00", status: 400, code: "BAD_USER_INPUT"}),
			c(scenario{name: "DELETE a file over REST", method: "DELETE", url: "/files/" + file, status: 405, code: "METHOD_NOT_ALLOWED"}),
			c(scenario{name: "POST to a file", method: "POST", url: "/files/" + file, body: "x", status: 405, code: "METHOD_NOT_ALLOWED"}),
		}
		if len(cases) < 150 {
			t.Fatalf("%d cases; the suite promises at least 150", len(cases))
		}
		seen := map[string]bool{}
		for _, bc := range cases {
			if seen[bc.name] {
				t.Fatalf("duplicate case %q", bc.name)
			}
			seen[bc.name] = true
			t.Run(bc.name, func(t *testing.T) {
				before := s.state(t)
				sc := bc.scenario
				if bc.fresh != nil {
					sc = bc.fresh(t)
				}
				sc.run(t, s)
				s.unchanged(t, sc.name, before)
			})
		}
		// And the server still serves.
		s.stillServing(t)
	})
}

func TestAPIBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b, limitedUploads)
		const limit = 1 << 20
		pub, sec := s.keys.PublicKey, s.keys.SecretKey
		own := s.basicUpload(t, sec, "own.txt", "text/plain", []byte("mine"))
		pending := s.tusUpload(t, pub, 10, tusMeta("filename", "pending.bin"))
		unknown := ids.New()
		malformed := []string{"not-an-id", "0123456789abcdefghijk", "0123456789abcdefghijklm", "0123456789abcdefghij_k", "..%2F..%2Fsatchel.db"}
		// NUL, control characters and invalid UTF-8 in a path are bad input.
		unclean := []string{"%00", "a%00b", "%0A", "%FF%FE", "x%7F"}

		creation := func(kv ...string) map[string]string {
			return with(tusBase, append([]string{"Upload-Length", "4"}, kv...)...)
		}
		basic := func(kv ...string) map[string]string {
			return with(map[string]string{"Content-Type": "text/plain", "X-Upload-File-Name": "a.txt"}, kv...)
		}
		patch := func(kv ...string) map[string]string { return tusPatchHeaders(0, kv...) }
		big := strings.Repeat("x", limit+1)
		// 100 pages of 1000 files: 300,100, over the complexity limit.
		var costly strings.Builder
		costly.WriteString("{")
		for i := range 100 {
			fmt.Fprintf(&costly, " p%d: files(first: 1000) { edges { node { id } } }", i)
		}
		costly.WriteString(" }")
		graphqlJSON := with(jsonHeaders, "Accept", "application/json")
		graphqlResp := with(jsonHeaders, "Accept", "application/graphql-response+json")

		scenarios := []scenario{
			// Upload-Metadata that is not the tus format.
			{name: "tus metadata value not base64", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename !!!notbase64"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata three parts", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename YQ== YQ=="),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata two spaces", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename  YQ=="),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata empty pair", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename YQ==,,filetype dGV4dC9wbGFpbg=="),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata duplicate key", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename YQ==,filename Yg=="),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata trailing comma", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename YQ==,"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata base64url value", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename _-8"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus metadata key without value", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", "filename YS50eHQ=,private"),
				status: 201},
			{name: "tus metadata bad filetype", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("filetype", "not a type")),
				status: 400, code: "BAD_USER_INPUT"},

			// Tags that are not a JSON array of tags.
			{name: "tus tags not JSON", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("tags", "not json")),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus tags object", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("tags", `{"name":"a"}`)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus tags numbers", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("tags", `[1,2]`)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus tags unknown field", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("tags", `[{"name":"a","colour":"red"}]`)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus tags bad name", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Metadata", tusMeta("tags", `["apiWith space"]`)),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "basic tags not JSON", method: "POST", url: "/files/basic", key: pub, headers: basic("X-Upload-Tags", "not json"), body: "data",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "basic tags truncated", method: "POST", url: "/files/basic", key: pub, headers: basic("X-Upload-Tags", `["a",`), body: "data",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "basic tags object", method: "POST", url: "/files/basic", key: pub, headers: basic("X-Upload-Tags", `{"name":"a"}`), body: "data",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "basic tags bad name", method: "POST", url: "/files/basic", key: pub, headers: basic("X-Upload-Tags", `["a b"]`), body: "data",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "basic content type not a type", method: "POST", url: "/files/basic", key: pub, headers: basic("Content-Type", "not a type"), body: "data",
				status: 400, code: "BAD_USER_INPUT"},

			// tus protocol errors.
			{name: "tus PATCH wrong offset", method: "PATCH", url: "/uploads/" + pending, headers: patch("Upload-Offset", "5"), body: "hello",
				status: 409, code: "OFFSET_MISMATCH"},
			{name: "tus PATCH offset not a number", method: "PATCH", url: "/uploads/" + pending, headers: patch("Upload-Offset", "abc"), body: "hello",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus PATCH wrong content type", method: "PATCH", url: "/uploads/" + pending, headers: patch("Content-Type", "text/plain"), body: "hello",
				status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
			{name: "tus PATCH past the upload length", method: "PATCH", url: "/uploads/" + pending, headers: patch(), body: "hello world",
				status: 413, code: "TOO_LARGE"},
			{name: "tus PATCH without Tus-Resumable", method: "PATCH", url: "/uploads/" + pending,
				headers: map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, body: "hello",
				status: 412, code: "UNSUPPORTED_VERSION"},
			{name: "tus creation length not a number", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Length", "four"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus creation negative length", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Length", "-1"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus creation Upload-Concat without parts", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Concat", "final;"),
				status: 400, code: "BAD_USER_INPUT"},
			{name: "tus creation Upload-Concat not an upload URL", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Concat", "final;nonsense"),
				status: 404, code: "NOT_FOUND"},
			{name: "tus creation Upload-Concat unknown part", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Concat", "final;"+s.URL+"/uploads/"+unknown),
				status: 404, code: "NOT_FOUND"},
			{name: "tus creation Upload-Concat path traversal", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Concat", "final;"+s.URL+"/uploads/../../satchel"),
				status: 404, code: "NOT_FOUND"},
			// An upload that is no partial upload is no part: as unknown.
			{name: "tus creation Upload-Concat of an upload that is no partial", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Concat", "final;"+s.URL+"/uploads/"+pending),
				status: 404, code: "NOT_FOUND"},

			// Over SATCHEL_MAX_UPLOAD_SIZE.
			{name: "tus creation over the limit", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Length", strconv.Itoa(limit+1)),
				status: 413, code: "TOO_LARGE"},
			{name: "tus creation at the limit", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Length", strconv.Itoa(limit)),
				status: 201},
			{name: "tus creation far over the limit", method: "POST", url: "/uploads/", key: pub, headers: creation("Upload-Length", "9223372036854775807"),
				status: 413, code: "TOO_LARGE"},
			{name: "basic upload Content-Length over the limit", method: "POST", url: "/files/basic", key: pub, headers: basic(), body: big,
				status: 413, code: "TOO_LARGE"},
			{name: "basic upload Content-Length over the limit, 100-continue", method: "POST", url: "/files/basic", key: pub, headers: basic(), body: big,
				expectContinue: true, status: 413, code: "TOO_LARGE"},
			{name: "basic upload chunked past the limit", method: "POST", url: "/files/basic", key: pub, headers: basic(), body: big, chunked: true,
				status: 413, code: "TOO_LARGE"},
			{name: "basic upload chunked at the limit", method: "POST", url: "/files/basic", key: pub, headers: basic(), body: big[:limit], chunked: true,
				status: 200},

			// Unknown file IDs.
			{name: "GET unknown file", method: "GET", url: "/files/" + unknown, status: 404, code: "NOT_FOUND"},
			{name: "HEAD unknown file", method: "HEAD", url: "/files/" + unknown, status: 404, code: "NOT_FOUND"},
			{name: "GET unfinished upload as file", method: "GET", url: "/files/" + pending, status: 404, code: "NOT_FOUND"},
			{name: "tus HEAD unknown upload", method: "HEAD", url: "/uploads/" + unknown, headers: tusBase, status: 404, code: "NOT_FOUND"},
			{name: "tus PATCH unknown upload", method: "PATCH", url: "/uploads/" + unknown, headers: patch(), body: "data", status: 404, code: "NOT_FOUND"},
			{name: "tus DELETE unknown upload", method: "DELETE", url: "/uploads/" + unknown, headers: tusBase, status: 404, code: "NOT_FOUND"},
			{name: "graphql file unknown", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders,
				body:   gqlJSON(`query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": unknown}),
				status: 200, contains: []string{`"data":{"file":null}`}},
			{name: "graphql deleteFile unknown", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders,
				body:   gqlJSON(`mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": unknown}),
				status: 200, code: "NOT_FOUND"},
			{name: "graphql deleteFiles unknown and malformed", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders,
				body:   gqlJSON(`mutation($ids: [ID!]!) { deleteFiles(ids: $ids) { deletedIds notFoundIds } }`, map[string]any{"ids": []string{unknown, "../x", ""}}),
				status: 200, contains: []string{`{"deleteFiles":{"deletedIds":[],"notFoundIds":["` + unknown + `","../x",""]}}`}},
		}
		for _, m := range malformed {
			scenarios = append(scenarios,
				scenario{name: "GET malformed file id " + m, method: "GET", url: "/files/" + m, status: 404, code: "NOT_FOUND"},
				scenario{name: "HEAD malformed file id " + m, method: "HEAD", url: "/files/" + m, status: 404, code: "NOT_FOUND"},
				scenario{name: "tus HEAD malformed id " + m, method: "HEAD", url: "/uploads/" + m, headers: tusBase, status: 404, code: "NOT_FOUND"},
				scenario{name: "tus PATCH malformed id " + m, method: "PATCH", url: "/uploads/" + m, headers: patch(), body: "data", status: 404, code: "NOT_FOUND"},
				scenario{name: "tus DELETE malformed id " + m, method: "DELETE", url: "/uploads/" + m, headers: tusBase, status: 404, code: "NOT_FOUND"},
			)
		}
		for _, m := range unclean {
			scenarios = append(scenarios,
				scenario{name: "GET unclean file id " + m, method: "GET", url: "/files/" + m, status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "HEAD unclean file id " + m, method: "HEAD", url: "/files/" + m, status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "GET unclean transformation " + m, method: "GET", url: "/files/" + own + "/" + m, status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "POST unclean upload ID " + m, method: "POST", url: "/files/public/" + m, body: "x", status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "tus HEAD unclean id " + m, method: "HEAD", url: "/uploads/" + m, headers: tusBase, status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "tus PATCH unclean id " + m, method: "PATCH", url: "/uploads/" + m, headers: patch(), body: "data", status: 400, code: "BAD_USER_INPUT"},
				scenario{name: "tus DELETE unclean id " + m, method: "DELETE", url: "/uploads/" + m, headers: tusBase, status: 400, code: "BAD_USER_INPUT"},
			)
		}
		for _, m := range []string{"%00", "%7B%00%7D", "%FF%FE"} {
			scenarios = append(scenarios,
				scenario{name: "graphql GET with unclean query " + m, method: "GET", url: "/graphql?query=" + m, key: sec, status: 400, code: "BAD_USER_INPUT"})
		}
		for i, m := range []string{"not-an-id", "../" + own, strings.Repeat("A", 5000)} {
			scenarios = append(scenarios,
				scenario{name: "graphql file malformed id " + strconv.Itoa(i), method: "POST", url: "/graphql", key: sec, headers: jsonHeaders,
					body:   gqlJSON(`query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": m}),
					status: 200, contains: []string{`"data":{"file":null}`}},
				scenario{name: "graphql deleteFile malformed id " + strconv.Itoa(i), method: "POST", url: "/graphql", key: sec, headers: jsonHeaders,
					body:   gqlJSON(`mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": m}),
					status: 200, code: "NOT_FOUND"})
		}
		scenarios = append(scenarios, []scenario{
			// Unknown routes and wrong methods: JSON 404/405.
			{name: "unknown route", method: "GET", url: "/nope", status: 404, code: "NOT_FOUND"},
			{name: "unknown route POST", method: "POST", url: "/api/v1/files", body: "{}", status: 404, code: "NOT_FOUND"},
			{name: "unknown route under graphql", method: "POST", url: "/graphql/extra", key: sec, headers: jsonHeaders, body: gqlJSON(`{ files { edges { cursor } } }`, nil),
				status: 404, code: "NOT_FOUND"},
			{name: "files root", method: "GET", url: "/files/", status: 404, code: "NOT_FOUND"},
			{name: "unknown route under files", method: "GET", url: "/files/" + own + "/x/y", status: 404, code: "NOT_FOUND"},
			{name: "unknown route under uploads", method: "GET", url: "/uploads/" + pending + "/x", status: 404, code: "NOT_FOUND"},
			{name: "wrong method on basic upload", method: "DELETE", url: "/files/basic", key: pub, status: 405, code: "METHOD_NOT_ALLOWED",
				headersWant: map[string]string{"Allow": "POST"}},
			{name: "GET on basic upload", method: "GET", url: "/files/basic", status: 405, code: "METHOD_NOT_ALLOWED",
				headersWant: map[string]string{"Allow": "POST"}},
			{name: "wrong method on a file", method: "PUT", url: "/files/" + own, key: sec, body: "x", status: 405, code: "METHOD_NOT_ALLOWED",
				headersWant: map[string]string{"Allow": "GET, HEAD"}},
			{name: "DELETE on a file", method: "DELETE", url: "/files/" + own, key: sec, status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "wrong method on healthz", method: "POST", url: "/healthz", status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "wrong method on metrics", method: "DELETE", url: "/metrics", status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "wrong method on graphql", method: "DELETE", url: "/graphql", key: sec, status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "PUT on graphql", method: "PUT", url: "/graphql", key: sec, headers: jsonHeaders, body: gqlJSON(`{ files { edges { cursor } } }`, nil),
				status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "GET on tus creation URL", method: "GET", url: "/uploads/", key: pub, status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "GET on a tus upload", method: "GET", url: "/uploads/" + pending, status: 405, code: "METHOD_NOT_ALLOWED"},
			{name: "PUT on a tus upload", method: "PUT", url: "/uploads/" + pending, headers: tusBase, body: "x", status: 405, code: "METHOD_NOT_ALLOWED"},

			// GraphQL requests that are not GraphQL.
			{name: "graphql body not JSON", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: "{not json",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "graphql body not JSON, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp, body: "query { files }",
				status: 400, code: "BAD_USER_INPUT"},
			{name: "graphql body JSON of the wrong shape", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: `["query"]`,
				status: 400, code: "BAD_USER_INPUT"},
			{name: "graphql does not parse, json", method: "POST", url: "/graphql", key: sec, headers: graphqlJSON, body: gqlJSON(`{ files { edges `, nil),
				status: 200, code: "GRAPHQL_PARSE_FAILED"},
			{name: "graphql does not parse, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp, body: gqlJSON(`{ files { edges `, nil),
				status: 400, code: "GRAPHQL_PARSE_FAILED"},
			{name: "graphql does not validate, json", method: "POST", url: "/graphql", key: sec, headers: graphqlJSON, body: gqlJSON(`{ nope }`, nil),
				status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
			{name: "graphql does not validate, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp, body: gqlJSON(`{ nope }`, nil),
				status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
			{name: "graphql bad variable, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp,
				body:   gqlJSON(`query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": map[string]any{"x": 1}}),
				status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
			{name: "graphql GET does not parse, json", method: "GET", url: "/graphql?query=%7B+files+%7B", key: sec, headers: map[string]string{"Accept": "application/json"},
				status: 200, code: "GRAPHQL_PARSE_FAILED"},
			{name: "graphql GET does not parse, graphql-response", method: "GET", url: "/graphql?query=%7B+files+%7B", key: sec,
				headers: map[string]string{"Accept": "application/graphql-response+json"},
				status:  400, code: "GRAPHQL_PARSE_FAILED"},
			{name: "graphql GET variables not JSON", method: "GET", url: "/graphql?query=%7B+files+%7B+edges+%7B+cursor+%7D+%7D+%7D&variables=%7Bnope", key: sec,
				status: 400, code: "BAD_USER_INPUT"},
			{name: "graphql GET mutation", method: "GET", url: "/graphql?query=mutation+%7B+deleteFile(id%3A%22" + own + "%22)+%7B+id+%7D+%7D", key: sec,
				status: 405, code: "METHOD_NOT_ALLOWED", headersWant: map[string]string{"Allow": "POST"}},
			{name: "graphql GET query", method: "GET", url: "/graphql?query=%7B+files+%7B+edges+%7B+cursor+%7D+%7D+%7D", key: sec,
				status: 200, contains: []string{`"edges":[{`}},
			{name: "graphql too costly, json", method: "POST", url: "/graphql", key: sec, headers: graphqlJSON, body: gqlJSON(costly.String(), nil),
				status: 200, code: "BAD_USER_INPUT", notContains: []string{`"data"`}},
			{name: "graphql too costly, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp, body: gqlJSON(costly.String(), nil),
				status: 400, code: "BAD_USER_INPUT", notContains: []string{`"data"`}},
			// A NUL is not text: the operation is refused before it runs
			// (PostgreSQL cannot even compare one), not looked up.
			{name: "graphql file id with NUL, json", method: "POST", url: "/graphql", key: sec, headers: graphqlJSON,
				body:   gqlJSON(`query($id: ID!) { file(id: $id) { id } }`, map[string]any{"id": "\x00"}),
				status: 200, code: "BAD_USER_INPUT", notContains: []string{`"data"`}},
			{name: "graphql deleteFile id with NUL, graphql-response", method: "POST", url: "/graphql", key: sec, headers: graphqlResp,
				body:   gqlJSON(`mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": "\x00"}),
				status: 400, code: "BAD_USER_INPUT", notContains: []string{`"data"`}},
		}...)
		runScenarios(t, s, scenarios)

		// The pending upload survived the bad PATCHes at offset 0.
		resp, _ := s.tusHead(t, pending)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != "0" {
			t.Fatalf("pending upload after bad PATCHes: %d offset %q", resp.StatusCode, resp.Header.Get("Upload-Offset"))
		}
		s.stillServing(t)
	})
}

// hostileNames are file names no client may set.
var hostileNames = map[string]string{
	"parent traversal":     "../../../../outside.txt",
	"dot dot":              "..",
	"dot":                  ".",
	"slash":                "dir/file.txt",
	"absolute":             "/etc/passwd",
	"backslash":            `..\..\outside.txt`,
	"tab":                  "a\tb.txt",
	"NUL":                  "evil\x00.txt",
	"newline":              "evil\r\nX-Injected: 1.txt",
	"escape sequence":      "\x1b[31mred.txt",
	"DEL":                  "del\x7f.txt",
	"bidi override":        "invoice\u202Efdp.exe",
	"10 KB":                strings.Repeat("n", 10<<10),
	"invalid UTF-8":        "\xff\xfe.txt",
	"truncated UTF-8":      "r\xc3.txt",
	"leading space":        " name.txt",
	"overlong slash UTF-8": "\xc0\xaf..\xc0\xafoutside.txt",
}

// headerSafe reports whether s reaches the server unchanged as a header
// value: Go's client refuses control characters, and servers trim
// surrounding white space.
func headerSafe(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func TestAPIBadInputHostileNamesStayInDataDir(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		pub := s.keys.PublicKey
		var scenarios []scenario
		for label, name := range hostileNames {
			scenarios = append(scenarios, scenario{
				name: "tus filename " + label, method: "POST", url: "/uploads/", key: pub,
				headers: with(tusBase, "Upload-Length", "4", "Upload-Metadata", tusMeta("filename", name, "filetype", "text/plain")),
				status:  400, code: "BAD_USER_INPUT",
			})
			scenarios = append(scenarios, scenario{
				name: "tus creation-apiWith-upload filename " + label, method: "POST", url: "/uploads/", key: pub,
				headers: with(tusBase, "Upload-Length", "4", "Upload-Metadata", tusMeta("filename", name),
					"Content-Type", "application/offset+octet-stream"),
				body:   "evil",
				status: 400, code: "BAD_USER_INPUT",
			})
			if headerSafe(name) {
				scenarios = append(scenarios, scenario{
					name: "X-Upload-File-Name " + label, method: "POST", url: "/files/basic", key: pub,
					headers: map[string]string{"Content-Type": "text/plain", "X-Upload-File-Name": name},
					body:    "evil",
					status:  400, code: "BAD_USER_INPUT",
				})
			}
		}
		// Deterministic order for readable output.
		sortScenarios(scenarios)
		runScenarios(t, s, scenarios)

		// Nothing was written outside the data dir: beside it there is only
		// the SQLite database of the sqlite backend.
		parent := filepath.Dir(s.dataDir)
		err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == s.dataDir {
				return filepath.SkipDir
			}
			if d.IsDir() {
				return nil
			}
			if b.Name == "sqlite" && strings.HasPrefix(p, b.URL) {
				return nil
			}
			t.Errorf("file outside the data dir: %s", p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range hostileNames {
			for _, p := range []string{filepath.Join(s.dataDir, name), filepath.Join(s.cfg.FilesDir(), name)} {
				if _, err := os.Lstat(p); err == nil && p != s.dataDir && p != s.cfg.FilesDir() && !strings.HasPrefix(s.dataDir, p) {
					t.Errorf("a hostile name reached the disk: %q", p)
				}
			}
		}
		// Inside the data dir, the filestore holds only ID-named files
		// (and the directory of digest states); on S3 the bucket holds
		// only ID-named keys under the prefix.
		if b.Store == fileStore {
			entry := regexp.MustCompile(`^([0-9A-Za-z]{22}(\.info)?|\.sha256)$`)
			entries, err := os.ReadDir(s.cfg.FilesDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !entry.MatchString(e.Name()) {
					t.Errorf("unexpected entry in the filestore: %q", e.Name())
				}
			}
		} else {
			key := regexp.MustCompile(`^e2e/([0-9A-Za-z]{22}(\.info|\.part)?|derived/[0-9A-Za-z]{22}/[^/]+)$`)
			for _, k := range s.bucket.srv.Keys(t, s.bucket.name) {
				if !key.MatchString(k) {
					t.Errorf("unexpected key in the bucket: %q", k)
				}
			}
			for _, mu := range s.bucket.multipartUploads(t) {
				if !key.MatchString(mu.key) {
					t.Errorf("unexpected multipart upload in the bucket: %q", mu.key)
				}
			}
		}
		// None of the refused uploads left a row behind.
		var n int
		if err := s.app.DB.NewSelect().Model((*models.Upload)(nil)).ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d upload rows left by refused creations", n)
		}
		s.stillServing(t)
	})
}
