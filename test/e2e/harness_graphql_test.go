package e2e

// The tests' GraphQL client: operations over GraphQL-over-HTTP POSTs,
// decoded; the File as GraphQL shows it; uploadFile over the GraphQL
// multipart request spec; multipart sessions (begun and completed over
// GraphQL, their parts PUT to their upload URLs).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"satchel/models"
)

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// errCode is the first error's extensions.code, or "".
func (r gqlResponse) errCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gqlOp is a GraphQL-over-HTTP request object: the operation and its
// variables.
func gqlOp(query string, vars map[string]any) map[string]any {
	return map[string]any{"query": query, "variables": vars}
}

// gqlJSON is a GraphQL-over-HTTP POST body.
func gqlJSON(query string, vars map[string]any) string {
	b, _ := json.Marshal(gqlOp(query, vars))
	return string(b)
}

var jsonHeaders = map[string]string{"Content-Type": "application/json"}

// gqlPost posts body (a GraphQL-over-HTTP request object) as JSON with the
// bearer key when set and the headers, and returns the status, the decoded
// response and the raw body; an answer that is not JSON fails t.
func (c *client) gqlPost(t testing.TB, key string, headers map[string]string, body map[string]any) (int, gqlResponse, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	h := with(jsonHeaders)
	for k, v := range headers {
		h[k] = v
	}
	resp, data := c.do(t, http.MethodPost, "/graphql", key, bytes.NewReader(b), h)
	var r gqlResponse
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("graphql response %d is not JSON: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, r, data
}

// gql runs a GraphQL operation and decodes the response.
func (c *client) gql(t testing.TB, key, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	status, r, _ := c.gqlPost(t, key, nil, gqlOp(query, vars))
	return status, r
}

// gqlData runs an operation that must succeed (200, no errors) and decodes
// its data into out.
func (c *client) gqlData(t testing.TB, key, query string, vars map[string]any, out any) {
	t.Helper()
	status, r, raw := c.gqlPost(t, key, nil, gqlOp(query, vars))
	if status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("graphql %d: %s", status, raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("graphql data %s: %v", r.Data, err)
	}
}

// fileInfo is a File as GraphQL shows it.
type fileInfo struct {
	ID        string       `json:"id"`
	AccountID string       `json:"accountId"`
	Name      string       `json:"name"`
	Mime      string       `json:"mime"`
	Size      int64        `json:"size"`
	SHA256    string       `json:"sha256"`
	URL       string       `json:"url"`
	Tags      []models.Tag `json:"tags"`
}

// getFile returns the file as key's account sees it, or nil.
func (c *client) getFile(t testing.TB, key, id string) *fileInfo {
	t.Helper()
	status, r := c.gql(t, key, `query($id: ID!) { file(id: $id) { id accountId name mime size sha256 url tags { name searchable } } }`, map[string]any{"id": id})
	var out struct {
		File *fileInfo `json:"file"`
	}
	if status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
		t.Fatalf("file(%s): %d %s %+v", id, status, r.Data, r.Errors)
	}
	return out.File
}

// fileSHA returns the SHA-256 and size of the bootstrap account's file id.
func (s *testServer) fileSHA(t testing.TB, id string) (string, int64) {
	t.Helper()
	_, r := s.gql(t, s.keys.SecretKey, `query($id: ID!) { file(id: $id) { sha256 size } }`, map[string]any{"id": id})
	var out struct {
		File *struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"file"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || out.File == nil {
		t.Fatalf("file %s: %s %+v", id, r.Data, r.Errors)
	}
	return out.File.SHA256, out.File.Size
}

// fileIDs lists the IDs of key's account's files.
func (c *client) fileIDs(t testing.TB, key string) map[string]bool {
	t.Helper()
	status, r := c.gql(t, key, `{ files(first: 1000) { edges { node { id } } pageInfo { hasNextPage } } }`, nil)
	var out struct {
		Files struct {
			Edges []struct {
				Node struct {
					ID string `json:"id"`
				} `json:"node"`
			} `json:"edges"`
			PageInfo struct {
				HasNextPage bool `json:"hasNextPage"`
			} `json:"pageInfo"`
		} `json:"files"`
	}
	if status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
		t.Fatalf("files: %d %s %+v", status, r.Data, r.Errors)
	}
	if out.Files.PageInfo.HasNextPage {
		t.Fatal("files: more than one page; the test expects fewer than 1000 files")
	}
	got := map[string]bool{}
	for _, e := range out.Files.Edges {
		got[e.Node.ID] = true
	}
	return got
}

// newIDs is after minus before.
func newIDs(before, after map[string]bool) []string {
	var out []string
	for id := range after {
		if !before[id] {
			out = append(out, id)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// uploadFile: the GraphQL multipart request spec

// formPart is one part of a multipart body.
type formPart struct {
	name     string
	filename string // a file part when set
	ctype    string // "" sends no Content-Type header
	body     []byte
}

// formFile is a file part as a browser's FormData sends it.
func formFile(name, filename, ctype string, body []byte) formPart {
	return formPart{name: name, filename: filename, ctype: ctype, body: body}
}

// formField is a plain form field (operations, map).
func formField(name, value string) formPart { return formPart{name: name, body: []byte(value)} }

// formBody encodes parts as multipart/form-data and returns the Content-Type.
func formBody(parts ...formPart) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", cd)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, _ := mw.CreatePart(h)
		w.Write(p.body)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// formOps is an operations part.
func formOps(query string, vars map[string]any) formPart {
	b, _ := json.Marshal(gqlOp(query, vars))
	return formField("operations", string(b))
}

const uploadFileQuery = `mutation($file: Upload!, $input: UploadFileInput) {
  uploadFile(file: $file, input: $input) { id accountId name mime size sha256 url tags { name searchable } }
}`

// postForm sends a multipart body to /graphql.
func (c *client) postForm(t testing.TB, key, ctype string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, http.MethodPost, "/graphql", key, body, map[string]string{"Content-Type": ctype})
}

// uploadFile uploads one file with uploadFile and returns the File.
func (c *client) uploadFile(t testing.TB, key string, input map[string]any, file formPart) fileInfo {
	t.Helper()
	ctype, body := formBody(
		formOps(uploadFileQuery, map[string]any{"file": nil, "input": input}),
		formField("map", `{"0":["variables.file"]}`),
		file,
	)
	resp, data := c.postForm(t, key, ctype, bytes.NewReader(body))
	var r struct {
		Data   struct{ UploadFile fileInfo }
		Errors []any
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &r) != nil || len(r.Errors) > 0 {
		t.Fatalf("uploadFile: %d %s", resp.StatusCode, clip(data))
	}
	return r.Data.UploadFile
}

// ---------------------------------------------------------------------------
// Multipart sessions

// sessionPart is one part of a multipart session.
type sessionPart struct {
	UploadPartIndex int
	UploadURL       string
	Range           struct{ InclusiveStart, InclusiveEnd int64 }
}

// beginMultipart begins a session for a file of size bytes and returns its
// file ID, its number of parts and its first part.
func (c *client) beginMultipart(t testing.TB, key string, size int64, name string) (string, int, sessionPart) {
	t.Helper()
	_, r := c.gql(t, key, `mutation($in: BeginMultipartUploadInput!) { beginMultipartUpload(input: $in) {
		fileId uploadParts { count first { uploadPartIndex uploadUrl range { inclusiveStart inclusiveEnd } } } } }`,
		map[string]any{"in": map[string]any{"fileName": name, "fileSize": size, "mime": "application/octet-stream", "tags": []map[string]any{{"name": "mp"}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("begin: %+v", r.Errors)
	}
	var out struct {
		BeginMultipartUpload struct {
			FileID      string
			UploadParts struct {
				Count int
				First sessionPart
			}
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	b := out.BeginMultipartUpload
	return b.FileID, b.UploadParts.Count, b.UploadParts.First
}

// uploadPart asks for part i of a session.
func (c *client) uploadPart(t testing.TB, key, fileID string, i int) (sessionPart, gqlResponse) {
	t.Helper()
	_, r := c.gql(t, key, `query($f: ID!, $i: Int!) { uploadPart(fileId: $f, uploadPartIndex: $i) { uploadPartIndex uploadUrl range { inclusiveStart inclusiveEnd } } }`,
		map[string]any{"f": fileID, "i": i})
	var out struct{ UploadPart sessionPart }
	if len(r.Errors) == 0 {
		json.Unmarshal(r.Data, &out)
	}
	return out.UploadPart, r
}

// completePart completes part i with etag and returns the parts left and,
// once the file is assembled, its SHA-256.
func (c *client) completePart(t testing.TB, key, fileID string, i int, etag string) ([]int, *string, gqlResponse) {
	t.Helper()
	_, r := c.gql(t, key, `mutation($in: CompleteUploadPartInput!) { completeUploadPart(input: $in) { remainingUploadParts file { id sha256 size name } } }`,
		map[string]any{"in": map[string]any{"fileId": fileID, "uploadPartIndex": i, "etag": etag}})
	var out struct {
		CompleteUploadPart struct {
			RemainingUploadParts []int
			File                 *struct{ ID, SHA256 string }
		}
	}
	if len(r.Errors) > 0 {
		return nil, nil, r
	}
	json.Unmarshal(r.Data, &out)
	var sha *string
	if f := out.CompleteUploadPart.File; f != nil {
		sha = &f.SHA256
	}
	return out.CompleteUploadPart.RemainingUploadParts, sha, r
}

// remaining lists a session's parts not yet completed.
func (c *client) remaining(t testing.TB, key, fileID string) []int {
	t.Helper()
	_, r := c.gql(t, key, `query($f: ID!) { uploadParts(fileId: $f) { remainingUploadParts } }`, map[string]any{"f": fileID})
	if len(r.Errors) > 0 {
		t.Fatalf("uploadParts: %+v", r.Errors)
	}
	var out struct {
		UploadParts struct{ RemainingUploadParts []int }
	}
	json.Unmarshal(r.Data, &out)
	return out.UploadParts.RemainingUploadParts
}

// putPart sends a part's bytes as one PUT to its upload URL.
func (c *client) putPart(t testing.TB, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	return c.do(t, http.MethodPut, strings.TrimPrefix(url, c.base), "", bytes.NewReader(body), nil)
}
