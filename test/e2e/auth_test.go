package e2e

// Who may do what (DESIGN.md "Accounts, keys, auth"): bearer and basic
// credentials, public keys that only upload, secret keys scoped to their
// account and refused cross-origin, the per-key rules and key management,
// the bootstrap keys and the data directory's modes. On SQLite and
// PostgreSQL, through the real routes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"satchel/internal/config"
	"satchel/internal/ids"
	"satchel/internal/testdb"
	"satchel/models"
)

func TestAPIAuth(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
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

func TestKeyRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey

		t.Run("allowed origins", func(t *testing.T) {
			key, k := s.createKey(t, sec, map[string]any{"kind": "PUBLIC", "allowedOrigins": []string{"https://app.example.com"}})
			if fmt.Sprint(k.AllowedOrigins) != "[https://app.example.com]" {
				t.Fatalf("allowedOrigins %v", k.AllowedOrigins)
			}
			for _, origin := range []string{"https://app.example.com", ""} {
				h := map[string]string{"Content-Type": "text/plain"}
				if origin != "" {
					h["Origin"] = origin
				}
				if resp, body := s.postBasic(t, key, []byte("hi"), h); resp.StatusCode != http.StatusOK {
					t.Fatalf("basic upload, Origin %q: %d %s", origin, resp.StatusCode, body)
				}
				var extra []string
				if origin != "" {
					extra = []string{"Origin", origin}
				}
				if resp, body := s.tusCreate(t, key, tusHeaders(2, "", extra...), nil); resp.StatusCode != http.StatusCreated {
					t.Fatalf("tus creation, Origin %q: %d %s", origin, resp.StatusCode, body)
				}
			}
			for _, origin := range []string{"https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.net", "null"} {
				resp, body := s.postBasic(t, key, []byte("hi"), map[string]string{"Origin": origin})
				wantError(t, "basic upload from "+origin, resp, body, http.StatusForbidden, "FORBIDDEN")
				resp, body = s.tusCreate(t, key, tusHeaders(2, "", "Origin", origin), nil)
				wantError(t, "tus creation from "+origin, resp, body, http.StatusForbidden, "FORBIDDEN")
			}
		})

		t.Run("max file size", func(t *testing.T) {
			key, k := s.createKey(t, sec, map[string]any{"kind": "PUBLIC", "maxFileSize": 10})
			if k.MaxFileSize == nil || *k.MaxFileSize != 10 {
				t.Fatalf("maxFileSize %v", k.MaxFileSize)
			}
			resp, body := s.tusCreate(t, key, tusHeaders(11, ""), nil)
			wantError(t, "tus creation of 11 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			resp, body = s.postBasic(t, key, []byte("0123456789A"), nil)
			wantError(t, "basic upload of 11 bytes", resp, body, http.StatusRequestEntityTooLarge, "TOO_LARGE")
			if resp, body := s.tusCreate(t, key, tusHeaders(10, ""), nil); resp.StatusCode != http.StatusCreated {
				t.Fatalf("tus creation of 10 bytes: %d %s", resp.StatusCode, body)
			}
			if resp, body := s.postBasic(t, key, []byte("0123456789"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("basic upload of 10 bytes: %d %s", resp.StatusCode, body)
			}
		})

		t.Run("allowed MIME types", func(t *testing.T) {
			key, k := s.createKey(t, sec, map[string]any{"kind": "PUBLIC", "allowedMimeTypes": []string{"image/*"}})
			if fmt.Sprint(k.AllowedMimeTypes) != "[image/*]" {
				t.Fatalf("allowedMimeTypes %v", k.AllowedMimeTypes)
			}
			resp, body := s.tusCreate(t, key, tusHeaders(4, tusMeta("filetype", "text/plain")), nil)
			wantError(t, "tus creation of text/plain", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			resp, body = s.postBasic(t, key, []byte("text"), map[string]string{"Content-Type": "text/plain"})
			wantError(t, "basic upload of text/plain", resp, body, http.StatusUnsupportedMediaType, "MIME_NOT_ALLOWED")
			if resp, body := s.tusCreate(t, key, tusHeaders(4, tusMeta("filetype", "image/png")), nil); resp.StatusCode != http.StatusCreated {
				t.Fatalf("tus creation of image/png: %d %s", resp.StatusCode, body)
			}
			if resp, body := s.postBasic(t, key, []byte("\x89PNG"), map[string]string{"Content-Type": "image/png"}); resp.StatusCode != http.StatusOK {
				t.Fatalf("basic upload of image/png: %d %s", resp.StatusCode, body)
			}
		})

		retryAfter := func(t *testing.T, what string, resp *http.Response, body []byte) {
			t.Helper()
			wantError(t, what, resp, body, http.StatusTooManyRequests, "RATE_LIMITED")
			ra := resp.Header.Get("Retry-After")
			n, err := strconv.Atoi(ra)
			if err != nil || n <= 0 || n > 60 {
				t.Fatalf("%s: Retry-After %q, want whole seconds in 1..60; headers %v body %s", what, ra, resp.Header, body)
			}
		}

		t.Run("uploads per minute, basic upload", func(t *testing.T) {
			key, k := s.createKey(t, sec, map[string]any{"kind": "PUBLIC", "uploadsPerMinute": 3})
			if k.UploadsPerMinute == nil || *k.UploadsPerMinute != 3 {
				t.Fatalf("uploadsPerMinute %v", k.UploadsPerMinute)
			}
			for i := 0; i < 3; i++ {
				if resp, body := s.postBasic(t, key, []byte("x"), nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("upload %d: %d %s", i+1, resp.StatusCode, body)
				}
			}
			resp, body := s.postBasic(t, key, []byte("x"), nil)
			retryAfter(t, "4th basic upload", resp, body)
			// Other keys are not affected.
			if resp, body := s.postBasic(t, s.keys.PublicKey, []byte("x"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("another key: %d %s", resp.StatusCode, body)
			}
		})

		t.Run("uploads per minute, tus creation", func(t *testing.T) {
			key, _ := s.createKey(t, sec, map[string]any{"kind": "PUBLIC", "uploadsPerMinute": 3})
			for i := 0; i < 3; i++ {
				if resp, body := s.tusCreate(t, key, tusHeaders(1, ""), nil); resp.StatusCode != http.StatusCreated {
					t.Fatalf("creation %d: %d %s", i+1, resp.StatusCode, body)
				}
			}
			resp, body := s.tusCreate(t, key, tusHeaders(1, ""), nil)
			retryAfter(t, "4th tus creation", resp, body)
		})
	})
}

func TestKeyRulesManagement(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newTestServer(t, b)
		sec := s.keys.SecretKey
		_, otherSecret := s.newAccount(t, "other", models.KindSecret)

		t.Run("apiKeys lists the account's keys only, without secrets", func(t *testing.T) {
			key, created := s.createKey(t, sec, map[string]any{
				"kind": "PUBLIC", "name": "web", "allowedOrigins": []string{"https://app.example.com"},
				"maxFileSize": 1000, "allowedMimeTypes": []string{"image/*"}, "uploadsPerMinute": 5,
			})
			otherKey, otherCreated := s.createKey(t, otherSecret, map[string]any{"kind": "PUBLIC", "name": "theirs"})

			list, raw := s.listKeys(t, sec)
			if len(list) != 3 {
				t.Fatalf("apiKeys: %d keys, want 3 (2 bootstrap + 1): %s", len(list), raw)
			}
			var got *apiKey
			kinds := map[string]int{}
			for i := range list {
				kinds[list[i].Kind]++
				if list[i].ID == otherCreated.ID {
					t.Fatalf("another account's key listed: %s", raw)
				}
				if list[i].ID == created.ID {
					got = &list[i]
				}
			}
			if kinds["PUBLIC"] != 2 || kinds["SECRET"] != 1 {
				t.Fatalf("kinds %v", kinds)
			}
			if got == nil {
				t.Fatalf("created key not listed: %s", raw)
			}
			if got.Name != "web" || got.Hint != key[:len("public_")+4]+"…" ||
				fmt.Sprint(got.AllowedOrigins) != "[https://app.example.com]" || fmt.Sprint(got.AllowedMimeTypes) != "[image/*]" ||
				got.MaxFileSize == nil || *got.MaxFileSize != 1000 || got.UploadsPerMinute == nil || *got.UploadsPerMinute != 5 || got.RevokedAt != nil {
				t.Fatalf("listed key %+v (key %s…)", *got, key[:11])
			}
			for _, secret := range []string{key, sec, s.keys.PublicKey, otherKey, otherSecret} {
				if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(secret[len(secret)-20:])) {
					t.Fatalf("apiKeys shows a key: %s", raw)
				}
			}
			theirs, raw := s.listKeys(t, otherSecret)
			if len(theirs) != 2 {
				t.Fatalf("other account's apiKeys: %s", raw)
			}
			for _, k := range theirs {
				if k.ID == created.ID {
					t.Fatalf("other account sees our key: %s", raw)
				}
			}
			// Public keys may not list keys.
			if _, r := s.gql(t, s.keys.PublicKey, `{ apiKeys { id } }`, nil); r.errCode() != "FORBIDDEN" {
				t.Fatalf("apiKeys with a public key: %s %+v", r.Data, r.Errors)
			}
		})

		t.Run("revokeApiKey takes effect at once", func(t *testing.T) {
			pub, pk := s.createKey(t, sec, map[string]any{"kind": "PUBLIC"})
			secret2, sk := s.createKey(t, sec, map[string]any{"kind": "SECRET"})
			if resp, body := s.postBasic(t, pub, []byte("before"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("before revoke: %d %s", resp.StatusCode, body)
			}
			if st, r := s.gql(t, secret2, `{ apiKeys { id } }`, nil); st != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("second secret before revoke: %d %+v", st, r.Errors)
			}
			for _, id := range []string{pk.ID, sk.ID} {
				st, r := s.gql(t, sec, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, map[string]any{"id": id})
				var out struct {
					RevokeAPIKey struct {
						ID        string  `json:"id"`
						RevokedAt *string `json:"revokedAt"`
					} `json:"revokeApiKey"`
				}
				if st != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.RevokeAPIKey.ID != id || out.RevokeAPIKey.RevokedAt == nil {
					t.Fatalf("revokeApiKey(%s): %d %s %+v", id, st, r.Data, r.Errors)
				}
			}
			resp, body := s.postBasic(t, pub, []byte("after"), nil)
			wantError(t, "basic upload with a revoked key", resp, body, http.StatusUnauthorized, "UNAUTHENTICATED")
			resp, body = s.tusCreate(t, pub, map[string]string{"Upload-Length": "1"}, nil)
			wantError(t, "tus creation with a revoked key", resp, body, http.StatusUnauthorized, "UNAUTHENTICATED")
			st, r := s.gql(t, secret2, `{ apiKeys { id } }`, nil)
			if st != http.StatusUnauthorized || r.errCode() != "UNAUTHENTICATED" {
				t.Fatalf("GraphQL with a revoked secret: %d %s %+v", st, r.Data, r.Errors)
			}
			st, r, _ = s.tryTicket(t, secret2, nil)
			if st != http.StatusUnauthorized || r.errCode() != "UNAUTHENTICATED" {
				t.Fatalf("createUploadTicket with a revoked secret: %d %+v", st, r.Errors)
			}
			list, _ := s.listKeys(t, sec)
			for _, k := range list {
				if (k.ID == pk.ID || k.ID == sk.ID) != (k.RevokedAt != nil) {
					t.Fatalf("revokedAt of %s: %v", k.ID, k.RevokedAt)
				}
			}
		})

		t.Run("revoking another account's key is NOT_FOUND", func(t *testing.T) {
			theirKey, theirs := s.createKey(t, otherSecret, map[string]any{"kind": "PUBLIC"})
			for _, id := range []string{theirs.ID, ids.New(), "not-an-id"} {
				_, r := s.gql(t, sec, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": id})
				if r.errCode() != "NOT_FOUND" || string(r.Data) != "null" {
					t.Fatalf("revokeApiKey(%s): %s %+v", id, r.Data, r.Errors)
				}
			}
			if resp, body := s.postBasic(t, theirKey, []byte("still mine"), nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("their key after our revoke attempt: %d %s", resp.StatusCode, body)
			}
		})

		t.Run("createApiKey bad input", func(t *testing.T) {
			before, _ := s.listKeys(t, sec)
			for _, in := range []map[string]any{
				{"kind": "PUBLIC", "allowedOrigins": []string{"not a url"}},
				{"kind": "PUBLIC", "allowedOrigins": []string{"https://app.example.com/path"}},
				{"kind": "PUBLIC", "allowedOrigins": []string{"ftp://app.example.com"}},
				{"kind": "PUBLIC", "allowedMimeTypes": []string{"x"}},
				{"kind": "PUBLIC", "maxFileSize": -1},
				{"kind": "PUBLIC", "uploadsPerMinute": -1},
			} {
				st, r := s.gql(t, sec, createKeyQuery, map[string]any{"in": in})
				if r.errCode() != "BAD_USER_INPUT" || bytes.Contains(r.Data, []byte("_")) {
					t.Fatalf("createApiKey(%v): %d %s %+v", in, st, r.Data, r.Errors)
				}
			}
			if after, raw := s.listKeys(t, sec); len(after) != len(before) {
				t.Fatalf("bad input created keys: %s", raw)
			}
			// A public key may not create keys.
			if _, r := s.gql(t, s.keys.PublicKey, createKeyQuery, map[string]any{"in": map[string]any{"kind": "PUBLIC"}}); r.errCode() != "FORBIDDEN" {
				t.Fatalf("createApiKey with a public key: %+v", r.Errors)
			}
		})

		t.Run("secret key from another origin", func(t *testing.T) {
			st, r, _ := s.gqlPost(t, sec, map[string]string{"Origin": "https://other.example"}, gqlOp(`{ apiKeys { id } }`, nil))
			if st != http.StatusForbidden || r.errCode() != "FORBIDDEN" {
				t.Fatalf("cross-origin secret on /graphql: %d %s %+v", st, r.Data, r.Errors)
			}
			st, r, _ = s.gqlPost(t, sec, map[string]string{"Origin": "https://other.example"}, gqlOp(createTicketQuery, map[string]any{"in": map[string]any{}}))
			if st != http.StatusForbidden || r.errCode() != "FORBIDDEN" {
				t.Fatalf("cross-origin createUploadTicket: %d %s %+v", st, r.Data, r.Errors)
			}
			resp, body := s.postBasic(t, sec, []byte("x"), map[string]string{"Origin": "https://other.example"})
			wantError(t, "cross-origin secret on /files/basic", resp, body, http.StatusForbidden, "FORBIDDEN")
			// Same origin (the playground) and no origin (a server) are fine.
			for _, origin := range []string{s.cfg.PublicURL, ""} {
				h := map[string]string{}
				if origin != "" {
					h["Origin"] = origin
				}
				st, r, _ := s.gqlPost(t, sec, h, gqlOp(`{ apiKeys { id } }`, nil))
				if st != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("secret with Origin %q: %d %+v", origin, st, r.Errors)
				}
			}
			// A public key from another origin is fine (no origin rule).
			if resp, body := s.postBasic(t, s.keys.PublicKey, []byte("x"), map[string]string{"Origin": "https://other.example"}); resp.StatusCode != http.StatusOK {
				t.Fatalf("public key cross-origin: %d %s", resp.StatusCode, body)
			}
		})
	})
}

func TestSecretKeyOriginIsThePublicURL(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)))
	query := strings.NewReader(`{"query":"{ files(first: 1) { edges { cursor } } }"}`)
	send := func(origin, host string) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", query)
		query.Seek(0, 0)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.keys.SecretKey)
		req.Header.Set("Origin", origin)
		req.Host = host
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(s.cfg.PublicURL, s.Listener.Addr().String()); got != 200 {
		t.Fatalf("same origin: %d", got)
	}
	// A browser page on evil.example whose request reached us with its own
	// Host (DNS rebinding, a proxy) is still another origin.
	if got := send("http://evil.example", "evil.example"); got != 403 {
		t.Fatalf("Origin equal to the Host but not the public URL: %d", got)
	}
}

func TestBootstrapKeysFile(t *testing.T) {
	s := newTestServer(t, fileBackend(testdb.SQLite(t)))
	st, err := os.Stat(filepath.Join(s.dataDir, "bootstrap-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap-keys.json mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.HasPrefix(s.keys.PublicKey, "public_") || !strings.HasPrefix(s.keys.SecretKey, "secret_") || s.keys.AccountID == "" {
		t.Fatalf("keys = %+v", s.keys)
	}
	// The keys work, and only the secret one reads.
	if code, r := s.gql(t, s.keys.SecretKey, `{ files { edges { cursor } } }`, nil); code != 200 || len(r.Errors) > 0 {
		t.Fatalf("secret key: %d %+v", code, r.Errors)
	}
	if _, r := s.gql(t, s.keys.PublicKey, `{ files { edges { cursor } } }`, nil); r.errCode() != "FORBIDDEN" {
		t.Fatalf("public key read: %+v", r.Errors)
	}
}

// The data directory, the database and every stored file are private to
// the service user. On S3 the bytes never touch the data directory (no
// files/ is made there), and the directory where the process buffers parts
// is private too.
func TestDataDirIsPrivate(t *testing.T) {
	type private struct {
		path string
		mode os.FileMode
	}
	eachStore(t, func(t *testing.T, b backend) {
		dir := filepath.Join(t.TempDir(), "new", "data")
		b.URL = filepath.Join(dir, "satchel.db")
		s := newTestServer(t, b, func(c *config.Config) { c.DataDir = dir })
		id := s.basicUpload(t, s.keys.PublicKey, "a.txt", "text/plain", []byte("private"))
		want := []private{
			{dir, 0o700},
			{filepath.Join(dir, "satchel.db"), 0o600},
			{filepath.Join(dir, "satchel.db-wal"), 0o600},
			{filepath.Join(dir, "bootstrap-keys.json"), 0o600},
		}
		switch b.Store {
		case fileStore:
			want = append(want,
				private{s.cfg.FilesDir(), 0o700},
				private{filepath.Join(s.cfg.FilesDir(), id), 0o600},
				private{filepath.Join(s.cfg.FilesDir(), id+".info"), 0o600})
		case s3Store:
			if _, err := os.Stat(s.cfg.FilesDir()); !os.IsNotExist(err) {
				t.Errorf("%s on S3: %v, want none", s.cfg.FilesDir(), err)
			}
			if stored := s.leftInStore(t, id); len(stored) != 2 {
				t.Fatalf("the file in the bucket: %v, want its bytes and info", stored)
			}
			want = append(want, private{s3PartBuffers(), 0o700})
		}
		for _, c := range want {
			st, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm()&^c.mode != 0 {
				t.Errorf("%s: mode %v, want at most %v", c.path, st.Mode().Perm(), c.mode)
			}
		}
	})
}
