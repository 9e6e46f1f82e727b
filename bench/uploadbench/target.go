package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"satchel/bench/internal/benchkit"
)

// target is one server under test.
type target struct {
	name     string
	endpoint *url.URL // the tus creation URL
	pid      int
	auth     string // Authorization header on every request, as tus clients send it
	secret   string // Satchel's secret key, for the GraphQL checks
	client   *http.Client
}

func newTarget(name, endpoint string, pid int) (*target, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: bad endpoint %q", name, endpoint)
	}
	if pid <= 0 {
		return nil, fmt.Errorf("%s: a process ID is needed", name)
	}
	if _, err := readRSS(pid); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr := &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &target{name: name, endpoint: u, pid: pid, client: &http.Client{Transport: tr}}, nil
}

// idle closes the client's kept-alive connections so the server does not
// carry them into the next measure.
func (t *target) idle() { t.client.Transport.(*http.Transport).CloseIdleConnections() }

var uploadMeta = "filename " + base64.StdEncoding.EncodeToString([]byte("bench.bin")) +
	",filetype " + base64.StdEncoding.EncodeToString([]byte("application/octet-stream"))

func (t *target) request(ctx context.Context, method, u string, body io.Reader, n int64) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = n
	if n == 0 {
		req.Body = nil
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if t.auth != "" {
		req.Header.Set("Authorization", t.auth)
	}
	return req, nil
}

// do sends req, drains the response and checks its status.
func (t *target) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return resp, fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, strings.TrimSpace(string(body)))
	}
	return resp, nil
}

// create sends a tus creation (with body: creation-with-upload) and returns
// the upload URL.
func (t *target) create(ctx context.Context, length int64, body []byte) (string, error) {
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := t.request(ctx, http.MethodPost, t.endpoint.String(), rd, int64(len(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	req.Header.Set("Upload-Metadata", uploadMeta)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	resp, err := t.do(req, http.StatusCreated)
	if err != nil {
		return "", err
	}
	loc, err := t.endpoint.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("POST: bad Location %q", resp.Header.Get("Location"))
	}
	if len(body) > 0 {
		if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(len(body)) {
			return "", fmt.Errorf("POST with body: Upload-Offset %q, want %d", got, len(body))
		}
	}
	return loc.String(), nil
}

// patch sends n bytes of body at offset and checks the new offset.
func (t *target) patch(ctx context.Context, loc string, offset int64, body io.Reader, n int64) error {
	req, err := t.request(ctx, http.MethodPatch, loc, body, n)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	resp, err := t.do(req, http.StatusNoContent)
	if err != nil {
		return err
	}
	if got, want := resp.Header.Get("Upload-Offset"), strconv.FormatInt(offset+n, 10); got != want {
		return fmt.Errorf("PATCH: Upload-Offset %q, want %s", got, want)
	}
	return nil
}

// head returns the upload's Upload-Offset.
func (t *target) head(ctx context.Context, loc string) (int64, error) {
	req, err := t.request(ctx, http.MethodHead, loc, nil, 0)
	if err != nil {
		return 0, err
	}
	resp, err := t.do(req, http.StatusOK)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
}

// graphql runs a query on Satchel with the secret key.
func (t *target) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	return t.graphqlAs(ctx, "Bearer "+t.secret, query, vars, out)
}

// graphqlAs runs a query on Satchel with the Authorization header auth.
func (t *target) graphqlAs(ctx context.Context, auth, query string, vars map[string]any, out any) error {
	gu := t.endpoint.ResolveReference(&url.URL{Path: "/graphql"})
	return benchkit.GraphQL(ctx, t.client, gu.String(), auth, query, vars, out)
}

// remove deletes a finished upload: tus termination on tusd, deleteFile on
// Satchel (whose tus termination refuses finished files).
func (t *target) remove(ctx context.Context, loc string) error {
	if t.secret == "" {
		req, err := t.request(ctx, http.MethodDelete, loc, nil, 0)
		if err != nil {
			return err
		}
		_, err = t.do(req, http.StatusNoContent)
		return err
	}
	var out struct{ DeleteFile struct{ ID string } }
	return t.graphql(ctx, `mutation($id: ID!) { deleteFile(id: $id) { id } }`, map[string]any{"id": path.Base(loc)}, &out)
}
