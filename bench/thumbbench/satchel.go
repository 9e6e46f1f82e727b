package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/webp"

	"satchel/bench/internal/benchkit"
)

type satchel struct {
	base           string
	pid            int
	public, secret string
	client         *http.Client
}

func newSatchel(o options) (*satchel, error) {
	var keys struct{ PublicKey, SecretKey string }
	raw, err := os.ReadFile(filepath.Join(o.data, "bootstrap-keys.json"))
	if err != nil {
		return nil, fmt.Errorf("satchel keys: %w", err)
	}
	if err := json.Unmarshal(raw, &keys); err != nil || keys.PublicKey == "" || keys.SecretKey == "" {
		return nil, fmt.Errorf("satchel keys: no publicKey/secretKey in bootstrap-keys.json (%v)", err)
	}
	if _, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.pid)); err != nil {
		return nil, fmt.Errorf("satchel pid %d: %w", o.pid, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true, WriteBufferSize: 64 << 10}
	return &satchel{base: strings.TrimSuffix(o.url, "/"), pid: o.pid, public: keys.PublicKey, secret: keys.SecretKey, client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}, nil
}

func (s *satchel) graphql(key, query string, vars map[string]any, out any) error {
	return benchkit.GraphQL(context.Background(), s.client, s.base+"/graphql", "Bearer "+key, query, vars, out)
}

func (s *satchel) createPreset() error {
	var out struct {
		CreateTransformation struct {
			Name          string
			Width, Height int
			Fit, Format   string
		}
	}
	err := s.graphql(s.secret, fmt.Sprintf(`mutation { createTransformation(input: {name: %q, width: %d, height: %d, fit: INSIDE, format: WEBP}) { name width height fit format } }`,
		presetName, thumbBox, thumbBox), nil, &out)
	if err != nil {
		return err
	}
	if t := out.CreateTransformation; t.Name != presetName || t.Width != thumbBox || t.Height != thumbBox || t.Fit != "INSIDE" || t.Format != "WEBP" {
		return fmt.Errorf("unexpected preset %+v", t)
	}
	return nil
}

// upload stores data as a new file, as application/octet-stream.
func (s *satchel) upload(data []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, s.base+"/files/basic", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.public)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Upload-File-Name", "photo.jpg")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /files/basic: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var out struct{ FileID string }
	if err := json.Unmarshal(body, &out); err != nil || out.FileID == "" {
		return "", fmt.Errorf("POST /files/basic: no fileId in %s", body)
	}
	return out.FileID, nil
}

type transformed struct {
	Status        string
	Width, Height *int
	Mime          *string
}

func (s *satchel) state(id string) (mime string, t *transformed, err error) {
	var out struct {
		File *struct {
			Mime           string
			Transformation *transformed
		}
	}
	err = s.graphql(s.secret, `query($id: ID!, $t: String!) { file(id: $id) { mime transformation(name: $t) { status width height mime } } }`,
		map[string]any{"id": id, "t": presetName}, &out)
	if err != nil {
		return "", nil, err
	}
	if out.File == nil || out.File.Transformation == nil {
		return "", nil, fmt.Errorf("file %s or its transformation not found", id)
	}
	return out.File.Mime, out.File.Transformation, nil
}

// get fetches the file's thumbnail and returns its body.
func (s *satchel) get(id string) ([]byte, error) {
	resp, err := s.client.Get(s.base + "/files/" + id + "/" + presetName)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /files/%s/%s: status %d: %s", id, presetName, resp.StatusCode, bytes.TrimSpace(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/webp" {
		return nil, fmt.Errorf("GET /files/%s/%s: Content-Type %q, want image/webp", id, presetName, ct)
	}
	return body, nil
}

type renderSample struct {
	id          string
	upload, get time.Duration
	cpu         time.Duration // the server's CPU time during the GET
	size        int
}

// firstRender uploads src as a new file and times the GET that renders its
// thumbnail.
func (s *satchel) firstRender(src []byte) (renderSample, error) {
	var r renderSample
	start := time.Now()
	id, err := s.upload(src)
	if err != nil {
		return r, err
	}
	r.id, r.upload = id, time.Since(start)
	mt, t, err := s.state(id)
	if err != nil {
		return r, err
	}
	if mt != "application/octet-stream" || t.Status == "READY" {
		return r, fmt.Errorf("file %s before the GET: mime %q, thumbnail %s; want application/octet-stream and no result yet (an eager render would spoil the measure)", id, mt, t.Status)
	}
	cpu0 := benchkit.CPUTime(strconv.Itoa(s.pid))
	start = time.Now()
	body, err := s.get(id)
	r.get = time.Since(start)
	r.cpu = benchkit.CPUTime(strconv.Itoa(s.pid)) - cpu0
	if err != nil {
		return r, err
	}
	if err := checkWebP(body); err != nil {
		return r, fmt.Errorf("satchel: %w", err)
	}
	r.size = len(body)
	if _, t, err = s.state(id); err != nil {
		return r, err
	}
	if t.Status != "READY" || t.Width == nil || *t.Width != wantW || *t.Height != wantH {
		return r, fmt.Errorf("file %s after the GET: thumbnail %+v, want READY %dx%d", id, t, wantW, wantH)
	}
	return r, nil
}

// cachedHits GETs the rendered thumbnail of id n times, one at a time.
func (s *satchel) cachedHits(id string, n, size int) ([]time.Duration, error) {
	if id == "" {
		return nil, errors.New("no rendered file")
	}
	for range 10 { // warm-up
		if _, err := s.get(id); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		body, err := s.get(id)
		d := time.Since(start)
		if err != nil {
			return nil, err
		}
		if len(body) != size {
			return nil, fmt.Errorf("cached hit: %d bytes, want %d", len(body), size)
		}
		out = append(out, d)
	}
	return out, nil
}

func checkWebP(data []byte) error {
	c, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("thumbnail is not a WebP: %w", err)
	}
	if c.Width != wantW || c.Height != wantH {
		return fmt.Errorf("thumbnail is %dx%d, want %dx%d", c.Width, c.Height, wantW, wantH)
	}
	return nil
}
