package e2e

// Whole-API tests in the style of PocketBase's tests/api.go: each scenario is
// one request (name, method, URL, headers, body) and what must come back
// (status, error code, content). They run on SQLite and on PostgreSQL.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel/internal/ids"
	"satchel/internal/testdb"
	"satchel/models"
)

func TestAPIAuth(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		s := newTestServer(t, b)
		pub, sec := s.keys.PublicKey, s.keys.SecretKey
		own := s.basicUpload(t, sec, "own.txt", "text/plain", []byte("mine"))
		_, otherSecret := s.newAccount(t, "other", models.KindSecret)
		theirs := s.basicUpload(t, otherSecret, "theirs.txt", "text/plain", []byte("theirs"))
		unknownKey := "secret_" + ids.Random(32)
		unknownPublic := "public_" + ids.Random(32)

		filesQ := gqlJSON(`{ files { edges { node { id } } } }`, nil)
		fileQ := func(id string) string {
			return gqlJSON(`query($id: ID!) { file(id: $id) { id name } }`, map[string]any{"id": id})
		}
		deleteQ := func(id string) string {
			return gqlJSON(`mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": id})
		}
		deleteManyQ := func(ids ...string) string {
			return gqlJSON(`mutation($ids: [ID!]!) { deleteFiles(ids: $ids) { deletedIds notFoundIds } }`, map[string]any{"ids": ids})
		}
		gqlAuth := func(auth string) map[string]string { return with(jsonHeaders, "Authorization", auth) }
		creation := with(tusBase, "Upload-Length", "4", "Upload-Metadata", tusMeta("filename", "a.txt"))
		basic := map[string]string{"Content-Type": "text/plain", "X-Upload-File-Name": "a.txt"}
		evil := "https://evil.example"

		runScenarios(t, s, []scenario{
			// No key.
			{name: "graphql files without key", method: "POST", url: "/graphql", headers: jsonHeaders, body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql deleteFile without key", method: "POST", url: "/graphql", headers: jsonHeaders, body: deleteQ(own),
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql files without key over GET", method: "GET", url: "/graphql?query=%7Bfiles%7Bedges%7Bcursor%7D%7D%7D",
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql introspection without key", method: "POST", url: "/graphql", headers: jsonHeaders,
				body:   `{"query":"query { __schema { queryType { name } } __typename }"}`,
				status: 200, contains: []string{`"queryType":{"name":"Query"}`}},
			{name: "graphql introspection mixed with data without key", method: "POST", url: "/graphql", headers: jsonHeaders,
				body:   `{"query":"{ __typename files { edges { cursor } } }"}`,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "basic upload without key", method: "POST", url: "/files/basic", headers: basic, body: "data",
				status: 401, code: "UNAUTHENTICATED"},
			{name: "tus creation without key", method: "POST", url: "/uploads/", headers: creation,
				status: 401, code: "UNAUTHENTICATED"},

			// Unknown, well-formed keys.
			{name: "graphql unknown secret key", method: "POST", url: "/graphql", key: unknownKey, headers: jsonHeaders, body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "basic upload unknown public key", method: "POST", url: "/files/basic", key: unknownPublic, headers: basic, body: "data",
				status: 401, code: "UNAUTHENTICATED"},
			{name: "tus creation unknown public key", method: "POST", url: "/uploads/", key: unknownPublic, headers: creation,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "delivery apiWith unknown key", method: "GET", url: "/files/" + own, key: unknownKey,
				status: 401, code: "UNAUTHENTICATED"},

			// Malformed credentials.
			{name: "graphql malformed bearer", method: "POST", url: "/graphql", headers: gqlAuth("Bearer not-a-key"), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql empty bearer", method: "POST", url: "/graphql", headers: gqlAuth("Bearer"), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql secret key truncated", method: "POST", url: "/graphql", headers: gqlAuth("Bearer " + sec[:len(sec)-1]), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql public key apiWith secret prefix", method: "POST", url: "/graphql", headers: gqlAuth("Bearer secret_" + strings.TrimPrefix(pub, "public_")), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql unknown scheme", method: "POST", url: "/graphql", headers: gqlAuth("Token " + sec), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql basic not base64", method: "POST", url: "/graphql", headers: gqlAuth("Basic !!!"), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "graphql basic without password", method: "POST", url: "/graphql", headers: gqlAuth(basicAuth("apikey", "")), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "basic upload malformed bearer", method: "POST", url: "/files/basic", headers: with(basic, "Authorization", "Bearer public_short"), body: "data",
				status: 401, code: "UNAUTHENTICATED"},
			{name: "tus creation malformed basic", method: "POST", url: "/uploads/", headers: with(creation, "Authorization", "Basic Zm9v"),
				status: 401, code: "UNAUTHENTICATED"},

			// Bearer and Basic (user apikey) are both accepted; another user is not.
			{name: "graphql bearer secret", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: filesQ,
				status: 200, contains: []string{own}},
			{name: "graphql lowercase bearer scheme", method: "POST", url: "/graphql", headers: gqlAuth("bearer " + sec), body: filesQ,
				status: 200, contains: []string{own}},
			{name: "graphql basic apikey secret", method: "POST", url: "/graphql", headers: gqlAuth(basicAuth("apikey", sec)), body: filesQ,
				status: 200, contains: []string{own}},
			{name: "graphql basic other user", method: "POST", url: "/graphql", headers: gqlAuth(basicAuth("admin", sec)), body: filesQ,
				status: 401, code: "UNAUTHENTICATED"},
			{name: "basic upload basic auth apikey", method: "POST", url: "/files/basic", headers: with(basic, "Authorization", basicAuth("apikey", pub)), body: "data",
				status: 200, contains: []string{`"fileId"`, `"fileUrl"`}},
			{name: "basic upload basic auth other user", method: "POST", url: "/files/basic", headers: with(basic, "Authorization", basicAuth("user", pub)), body: "data",
				status: 401, code: "UNAUTHENTICATED"},
			{name: "tus creation basic auth apikey", method: "POST", url: "/uploads/", headers: with(creation, "Authorization", basicAuth("apikey", pub)),
				status: 201},
			{name: "tus creation basic auth other user", method: "POST", url: "/uploads/", headers: with(creation, "Authorization", basicAuth("bob", pub)),
				status: 401, code: "UNAUTHENTICATED"},

			// A public key uploads and does nothing else.
			{name: "public key basic upload", method: "POST", url: "/files/basic", key: pub, headers: basic, body: "data",
				status: 200, contains: []string{`"fileId"`}},
			{name: "public key tus creation", method: "POST", url: "/uploads/", key: pub, headers: creation,
				status: 201},
			{name: "public key file query", method: "POST", url: "/graphql", key: pub, headers: jsonHeaders, body: fileQ(own),
				status: 200, code: "FORBIDDEN", notContains: []string{"own.txt"}},
			{name: "public key files query", method: "POST", url: "/graphql", key: pub, headers: jsonHeaders, body: filesQ,
				status: 200, code: "FORBIDDEN", notContains: []string{own}},
			{name: "public key deleteFile", method: "POST", url: "/graphql", key: pub, headers: jsonHeaders, body: deleteQ(own),
				status: 200, code: "FORBIDDEN"},
			{name: "public key deleteFiles", method: "POST", url: "/graphql", key: pub, headers: jsonHeaders, body: deleteManyQ(own),
				status: 200, code: "FORBIDDEN"},

			// Another account's file is not found, never forbidden, and stays.
			{name: "other account file query", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: fileQ(theirs),
				status: 200, contains: []string{`"data":{"file":null}`}, notContains: []string{"theirs.txt"}},
			{name: "other account deleteFile", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: deleteQ(theirs),
				status: 200, code: "NOT_FOUND"},
			{name: "other account deleteFiles", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: deleteManyQ(theirs),
				status: 200, contains: []string{`{"deleteFiles":{"deletedIds":[],"notFoundIds":["` + theirs + `"]}}`}},
			{name: "other account files list", method: "POST", url: "/graphql", key: sec, headers: jsonHeaders, body: filesQ,
				status: 200, contains: []string{own}, notContains: []string{theirs}},
			{name: "owner still has the file", method: "POST", url: "/graphql", key: otherSecret, headers: jsonHeaders, body: fileQ(theirs),
				status: 200, contains: []string{`"name":"theirs.txt"`}},
			{name: "owner does not see the other account", method: "POST", url: "/graphql", key: otherSecret, headers: jsonHeaders, body: fileQ(own),
				status: 200, contains: []string{`"data":{"file":null}`}},

			// Secret keys from a browser on another origin are refused.
			{name: "secret key cross-origin graphql", method: "POST", url: "/graphql", key: sec, headers: with(jsonHeaders, "Origin", evil), body: filesQ,
				status: 403, code: "FORBIDDEN", notContains: []string{own}},
			{name: "secret key cross-origin basic upload", method: "POST", url: "/files/basic", key: sec, headers: with(basic, "Origin", evil), body: "data",
				status: 403, code: "FORBIDDEN"},
			{name: "secret key cross-origin tus", method: "POST", url: "/uploads/", key: sec, headers: with(creation, "Origin", evil),
				status: 403, code: "FORBIDDEN"},
			{name: "secret key null origin", method: "POST", url: "/graphql", key: sec, headers: with(jsonHeaders, "Origin", "null"), body: filesQ,
				status: 403, code: "FORBIDDEN"},
			{name: "secret key same-origin host apiWith other port", method: "POST", url: "/graphql", key: sec,
				headers: with(jsonHeaders, "Origin", strings.TrimSuffix(s.URL, s.URL[strings.LastIndex(s.URL, ":"):])+":1"), body: filesQ,
				status: 403, code: "FORBIDDEN"},
			{name: "secret key same-origin graphql", method: "POST", url: "/graphql", key: sec, headers: with(jsonHeaders, "Origin", s.URL), body: filesQ,
				status: 200, contains: []string{own}},
			{name: "secret key same-origin basic upload", method: "POST", url: "/files/basic", key: sec, headers: with(basic, "Origin", s.URL), body: "data",
				status: 200},
			{name: "public key cross-origin basic upload", method: "POST", url: "/files/basic", key: pub, headers: with(basic, "Origin", evil), body: "data",
				status: 200, headersWant: map[string]string{"Access-Control-Allow-Origin": evil}},
			{name: "public key cross-origin tus", method: "POST", url: "/uploads/", key: pub, headers: with(creation, "Origin", evil),
				status: 201},
		})

		// Nothing above deleted either file.
		for _, id := range []string{own, theirs} {
			if resp, _ := s.do(t, http.MethodGet, "/files/"+id, "", nil, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("file %s gone after the auth scenarios: %d", id, resp.StatusCode)
			}
		}
	})
}

func TestAPIBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
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
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
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
		// (and the directory of digest states).
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

func TestAPIBadInputTusTermination(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		s := newTestServer(t, b)
		pub := s.keys.PublicKey
		finished := s.tusUpload(t, pub, 5, tusMeta("filename", "done.txt"))
		if resp, data := s.tusPatch(t, finished, 0, []byte("hello")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, data)
		}
		unfinished := s.tusUpload(t, pub, 10, tusMeta("filename", "half.txt"))
		if resp, data := s.tusPatch(t, unfinished, 0, []byte("hello")); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, data)
		}
		ctx := context.Background()
		if _, err := models.GetUpload(ctx, s.app.DB, unfinished); err != nil {
			t.Fatalf("unfinished upload row: %v", err)
		}

		runScenarios(t, s, []scenario{
			{name: "DELETE finished upload", method: "DELETE", url: "/uploads/" + finished, headers: tusBase,
				status: 403, code: "FORBIDDEN"},
			{name: "DELETE finished upload apiWith a secret key", method: "DELETE", url: "/uploads/" + finished, key: s.keys.SecretKey, headers: tusBase,
				status: 403, code: "FORBIDDEN"},
			{name: "finished file still served", method: "GET", url: "/files/" + finished,
				status: 200, contains: []string{"hello"}},
			{name: "DELETE unfinished upload", method: "DELETE", url: "/uploads/" + unfinished, headers: tusBase,
				status: 204},
			{name: "HEAD deleted upload", method: "HEAD", url: "/uploads/" + unfinished, headers: tusBase,
				status: 404, code: "NOT_FOUND"},
			{name: "PATCH deleted upload", method: "PATCH", url: "/uploads/" + unfinished,
				headers: with(tusBase, "Upload-Offset", "5", "Content-Type", "application/offset+octet-stream"), body: "world",
				status: 404, code: "NOT_FOUND"},
			{name: "DELETE deleted upload", method: "DELETE", url: "/uploads/" + unfinished, headers: tusBase,
				status: 404, code: "NOT_FOUND"},
		})

		if _, err := models.GetUpload(ctx, s.app.DB, unfinished); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("upload row after DELETE: %v, want not found", err)
		}
		for _, p := range []string{unfinished, unfinished + ".info", filepath.Join(".sha256", unfinished+".sha256")} {
			if _, err := os.Stat(filepath.Join(s.cfg.FilesDir(), p)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s left in the filestore after DELETE: %v", p, err)
			}
		}
		code, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { name size } }`, map[string]any{"id": finished})
		if code != 200 || string(r.Data) != `{"file":{"name":"done.txt","size":5}}` {
			t.Fatalf("finished file after refused DELETE: %d %s %+v", code, r.Data, r.Errors)
		}
	})
}

func TestAPIDeliveryHeaders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, b testdb.Backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey
		type upload struct {
			name, mime, body string
			disposition      string
		}
		uploads := []upload{
			{"résumé.pdf", "application/pdf", "%PDF-1.4 not really", "inline"},
			{`say "hi".txt`, "text/plain; charset=utf-8", "hi", "inline"},
			{`a;b=c, "d".txt`, "text/plain", "odd", "inline"},
			{"日本語 ファイル.png", "image/png", "\x89PNG\r\n\x1a\n", "inline"},
			{"page.html", "text/html", "<script>alert(1)</script>", "attachment"},
			{"page.htm", "text/html; charset=utf-8", "<b>x</b>", "attachment"},
			{"vector.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>", "attachment"},
			{"page.xhtml", "application/xhtml+xml", "<html/>", "attachment"},
			{"PAGE.HTML", "TEXT/HTML", "<b>x</b>", "attachment"},
			{"style.xsl", "text/xsl", "<xsl:stylesheet/>", "attachment"},
			{"feed.rss", "application/rss+xml", "<rss/>", "attachment"},
			{"feed.atom", "application/atom+xml", "<feed/>", "attachment"},
			{"math.mml", "application/mathml+xml", "<math/>", "attachment"},
			{"t.xslt", "application/xslt+xml", "<xsl:stylesheet/>", "attachment"},
			{"doc.xml", "text/xml", "<a/>", "attachment"},
			{"doc2.xml", "application/xml", "<a/>", "attachment"},
			{"app.js", "text/javascript", "alert(1)", "attachment"},
			{"app2.js", "application/javascript", "alert(1)", "attachment"},
			{"app3.js", "application/ecmascript", "alert(1)", "attachment"},
			{"app.mjs", "application/x-javascript", "alert(1)", "attachment"},
			{"blob.bin", "application/octet-stream", "\x00\x01", "attachment"},
			{"data.json", "application/json", `{"a":1}`, "inline"},
			{"song.mp3", "audio/mpeg", "ID3", "inline"},
			{"clip.mp4", "video/mp4", "\x00\x00\x00\x18ftypmp42", "inline"},
		}
		for _, u := range uploads {
			t.Run(u.name, func(t *testing.T) {
				id := s.basicUpload(t, sec, u.name, u.mime, []byte(u.body))
				var last http.Header
				runScenarios(t, s, []scenario{{
					name: "GET", method: "GET", url: "/files/" + id, status: 200, contains: []string{u.body},
					headersWant: map[string]string{
						"Content-Length":         strconv.Itoa(len(u.body)),
						"X-Content-Type-Options": "nosniff",
					},
					after: func(t *testing.T, resp *http.Response, body []byte) {
						last = resp.Header
						checkDeliveryHeaders(t, resp.Header, u.name, u.mime, u.disposition)
						if string(body) != u.body {
							t.Fatalf("body %q, want %q", body, u.body)
						}
					},
				}})
				runScenarios(t, s, []scenario{
					{name: "HEAD", method: "HEAD", url: "/files/" + id, status: 200,
						headersWant: map[string]string{"Content-Length": strconv.Itoa(len(u.body)), "X-Content-Type-Options": "nosniff"},
						after: func(t *testing.T, resp *http.Response, _ []byte) {
							checkDeliveryHeaders(t, resp.Header, u.name, u.mime, u.disposition)
							for _, h := range []string{"ETag", "Last-Modified", "Content-Disposition", "Content-Type"} {
								if resp.Header.Get(h) != last.Get(h) {
									t.Errorf("HEAD %s = %q, GET had %q", h, resp.Header.Get(h), last.Get(h))
								}
							}
						}},
					{name: "If-None-Match", method: "GET", url: "/files/" + id, headers: map[string]string{"If-None-Match": last.Get("ETag")},
						status: 304},
					{name: "If-Modified-Since", method: "GET", url: "/files/" + id, headers: map[string]string{"If-Modified-Since": last.Get("Last-Modified")},
						status: 304},
				})
			})
		}
	})
}

func checkDeliveryHeaders(t *testing.T, h http.Header, name, mimeType, disposition string) {
	t.Helper()
	wantType, wantParams, _ := mime.ParseMediaType(mimeType)
	gotType, gotParams, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || gotType != wantType || gotParams["charset"] != wantParams["charset"] {
		t.Errorf("Content-Type %q, want %q", h.Get("Content-Type"), mimeType)
	}
	if etag := h.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{64}"$`).MatchString(etag) {
		t.Errorf("ETag %q, want the quoted SHA-256", etag)
	}
	if lm, err := http.ParseTime(h.Get("Last-Modified")); err != nil || time.Since(lm) > time.Hour || time.Until(lm) > time.Minute {
		t.Errorf("Last-Modified %q", h.Get("Last-Modified"))
	}
	cd := h.Get("Content-Disposition")
	for i := 0; i < len(cd); i++ {
		if cd[i] < 0x20 || cd[i] >= 0x7f {
			t.Fatalf("Content-Disposition is not plain ASCII: %q", cd)
		}
	}
	disp, params, err := mime.ParseMediaType(cd)
	if err != nil {
		t.Fatalf("Content-Disposition %q does not parse: %v", cd, err)
	}
	if disp != disposition {
		t.Errorf("Content-Disposition %q, want %s", cd, disposition)
	}
	if params["filename"] != name {
		t.Errorf("Content-Disposition %q names %q, want %q", cd, params["filename"], name)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", h.Get("X-Content-Type-Options"))
	}
}
