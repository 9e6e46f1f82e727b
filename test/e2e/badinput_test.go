package e2e

// The bad-input suite of issue 12: every upload route (tus creation, PATCH,
// creation-with-upload, deferred length, concatenation, multipart parts,
// POST /files/basic, POST /files/public/{id}, GraphQL uploadFile and the
// mutations around them) answered with hostile or over-limit input, on
// SQLite and PostgreSQL. Each case asserts the status and the code, and that
// nothing was stored or spent: no file, no upload row, no part row, no
// spent upload ID, no byte on disk, no change in any account's usage.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"satchel/internal/config"
	"satchel/internal/ids"
	"satchel/internal/testdb"
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
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
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
