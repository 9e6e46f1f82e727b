package e2e

// The real binary, for the tests that must kill it: built once per run with
// its crash-test faults, run as `satchel serve` on a data directory, a
// database and a byte store (the filestore, or a bucket) that outlive its
// processes (a node), each process with the same client, tus and GraphQL
// helpers as the in-process server.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"satchel/internal/auth"
	"satchel/internal/config"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// satchelBinary builds `satchel` (the module's main package, by its import
// path, so from any directory of the module) once per test run, with its
// crash-test faults (the build tag satchelfault; see app/fault.go). Under
// `go test` the binary goes beside the test binary, in the work directory go
// test removes afterwards; otherwise into a fresh temporary directory.
func satchelBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		var dir string
		if exe, err := os.Executable(); err == nil && strings.HasPrefix(exe, os.TempDir()) {
			dir, _ = os.MkdirTemp(filepath.Dir(exe), "satchel-bin-")
		}
		if dir == "" {
			if dir, binErr = os.MkdirTemp("", "satchel-bin-"); binErr != nil {
				return
			}
		}
		binPath = filepath.Join(dir, "satchel")
		binOut, binErr = exec.Command("go", "build", "-tags", "satchelfault", "-o", binPath, "satchel").CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binOut)
	}
	return binPath
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// node is one Satchel installation, a data directory, a database and a
// byte store, that outlives the processes started on it.
type node struct {
	t       *testing.T
	dataDir string
	dbURL   string
	keys    auth.BootstrapKeys
	hc      *http.Client // no keep-alive: a killed process leaves no stale connection
	// On S3: the bucket, and the TMPDIR of the node's processes (where
	// each buffers parts in satchel-s3/<pid>).
	bucket *s3Bucket
	tmpDir string
}

func newNode(t *testing.T, b backend) *node {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	n := &node{t: t, dataDir: t.TempDir(), dbURL: b.URL, hc: &http.Client{Transport: tr}}
	if b.Store == s3Store {
		n.bucket = newS3Bucket(t)
		n.tmpDir = t.TempDir()
	}
	return n
}

// storeEnv is the environment that puts a process's bytes in the node's
// store: on S3 its bucket (in parts of S3's smallest size), the
// credentials and a TMPDIR of the node's own.
func (n *node) storeEnv() []string {
	if n.bucket == nil {
		return nil
	}
	srv := n.bucket.srv
	return []string{
		"SATCHEL_STORAGE=" + n.bucket.storage(),
		"SATCHEL_S3_PART_SIZE=" + strconv.Itoa(e2ePartSize),
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_REGION=" + srv.Region,
		"TMPDIR=" + n.tmpDir,
	}
}

// configure sets cfg to the node's database and store, for Satchel wired
// in-process on the node.
func (n *node) configure(cfg *config.Config) {
	cfg.DataDir = n.dataDir
	cfg.DatabaseURL = n.dbURL
	if n.bucket != nil {
		cfg.Storage = n.bucket.storage()
		cfg.S3PartSize = e2ePartSize
	}
}

// storedSize is how many bytes of upload id the node's store holds (see
// testServer.storedSize).
func (n *node) storedSize(id string) (int64, bool) {
	n.t.Helper()
	if n.bucket == nil {
		return sizeOf(fileItems(filepath.Join(n.dataDir, "files")), id)
	}
	return sizeOf(n.bucket.items(n.t), id)
}

// partBuffers lists the directories of the node's processes under which
// they buffer S3 parts, by pid.
func (n *node) partBuffers() []string {
	entries, _ := os.ReadDir(filepath.Join(n.tmpDir, "satchel-s3"))
	var pids []string
	for _, e := range entries {
		pids = append(pids, e.Name())
	}
	return pids
}

// proc is one running `satchel serve`, and the client that talks to it (at
// http://127.0.0.1:port, its public URL): each request bounded by a minute,
// and one whose answer cannot be read fails the test.
type proc struct {
	client
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan struct{}
	state *os.ProcessState // set when done is closed
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// childEnv is the test's environment without Satchel's own settings, so
// that nothing from outside (a SATCHEL_FAULT, a DATABASE_URL) leaks in.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SATCHEL_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// start runs the binary on the node with the extra environment and waits
// until /readyz answers 200. The first start writes the bootstrap keys.
func (n *node) start(extraEnv ...string) *proc {
	t := n.t
	t.Helper()
	bin := satchelBinary(t)
	for attempt := 1; ; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		p := &proc{
			client: client{base: "http://" + addr, hc: n.hc, timeout: time.Minute, strict: true},
			out:    &syncBuffer{}, done: make(chan struct{}),
		}
		p.cmd = exec.Command(bin)
		p.cmd.Env = append(childEnv(),
			"SATCHEL_DATA_DIR="+n.dataDir,
			"SATCHEL_ADDR="+addr,
			"SATCHEL_PUBLIC_URL="+p.base,
			"DATABASE_URL="+n.dbURL,
			"SATCHEL_LOG_LEVEL=warn",
		)
		p.cmd.Env = append(p.cmd.Env, n.storeEnv()...)
		p.cmd.Env = append(p.cmd.Env, extraEnv...)
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start satchel: %v", err)
		}
		go func() {
			p.cmd.Wait()
			p.state = p.cmd.ProcessState
			close(p.done)
		}()
		t.Cleanup(func() {
			select {
			case <-p.done:
			default:
				p.cmd.Process.Kill()
				<-p.done
			}
			if t.Failed() {
				t.Logf("output of satchel at %s (%v):\n%s", p.base, p.state, p.out.String())
			}
		})
		if p.waitReady(t, n.hc, 30*time.Second) {
			if n.keys.SecretKey == "" {
				raw, err := os.ReadFile(filepath.Join(n.dataDir, "bootstrap-keys.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(raw, &n.keys); err != nil || n.keys.PublicKey == "" || n.keys.SecretKey == "" {
					t.Fatalf("bootstrap-keys.json: %v: %s", err, raw)
				}
			}
			return p
		}
		// It exited before becoming ready. Another process may have taken
		// the port between freePort and the bind: try again.
		if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
			continue
		}
		t.Fatalf("satchel exited before becoming ready (%v):\n%s", p.state, p.out.String())
	}
}

// waitReady polls /readyz; false when the process exits first.
func (p *proc) waitReady(t testing.TB, c *http.Client, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("satchel at %s not ready after %v:\n%s", p.base, d, p.out.String())
	return false
}

// waitExit waits for the process to end; false on timeout.
func (p *proc) waitExit(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	if !p.waitExit(10 * time.Second) {
		t.Fatal("process still running 10s after SIGKILL")
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within d.
func (p *proc) stop(t testing.TB, d time.Duration) time.Duration {
	t.Helper()
	return p.stopWith(t, syscall.SIGTERM, d)
}

// stopWith sends sig and requires a clean exit (status 0) within d.
func (p *proc) stopWith(t testing.TB, sig syscall.Signal, d time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%v: %v", sig, err)
	}
	if !p.waitExit(d) {
		t.Fatalf("satchel did not exit within %v of %v", d, sig)
	}
	took := time.Since(t0)
	if !p.state.Success() {
		t.Fatalf("satchel exited with %v after %v, want status 0:\n%s", p.state, sig, p.out.String())
	}
	return took
}

// killedBySIGKILL reports whether the process died of SIGKILL.
func (p *proc) killedBySIGKILL() bool {
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// auth is the public key as a request header: the crash tests' uploads
// send it on every tus request, not only on the creation.
func (n *node) auth() []string { return []string{"Authorization", "Bearer " + n.keys.PublicKey} }

// upload creates a tus upload of size bytes named name and returns its ID.
func (n *node) upload(p *proc, size int, name string) string {
	n.t.Helper()
	return p.tusUpload(n.t, n.keys.PublicKey, size, tusMeta("filename", name, "filetype", "application/octet-stream"))
}

// head returns the upload's offset and length as the server reports them.
func (n *node) head(p *proc, id string) (offset, length int64) {
	n.t.Helper()
	resp, body := p.tusHead(n.t, id, n.auth()...)
	if resp.StatusCode != http.StatusOK {
		n.t.Fatalf("HEAD upload %s: %d %s", id, resp.StatusCode, body)
	}
	offset, err1 := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	length, err2 := strconv.ParseInt(resp.Header.Get("Upload-Length"), 10, 64)
	if err1 != nil || err2 != nil {
		n.t.Fatalf("HEAD upload %s: Upload-Offset %q, Upload-Length %q", id, resp.Header.Get("Upload-Offset"), resp.Header.Get("Upload-Length"))
	}
	return offset, length
}

// patch sends body at offset in one PATCH; the process may die first.
func (n *node) patch(p *proc, id string, offset int64, body []byte) (*http.Response, []byte, error) {
	return p.tusSendPatch(id, int(offset), body, n.auth()...)
}

// resume sends the rest of data from offset and requires the upload to complete.
func (n *node) resume(p *proc, id string, offset int64, data []byte) {
	n.t.Helper()
	resp, body, err := n.patch(p, id, offset, data[offset:])
	if err != nil {
		n.t.Fatalf("resume PATCH at %d: %v", offset, err)
	}
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		n.t.Fatalf("resume PATCH at %d: %d, Upload-Offset %q, want 204 and %d: %s", offset, resp.StatusCode, resp.Header.Get("Upload-Offset"), len(data), body)
	}
}

// slowPatch is a PATCH whose body the test feeds piece by piece.
type slowPatch struct {
	pw  *io.PipeWriter
	res chan patchResult
}

type patchResult struct {
	status int
	body   string
	err    error
}

// startSlowPatch begins a PATCH of length bytes at offset. Content-Length is
// declared, as tus clients do.
func (n *node) startSlowPatch(p *proc, id string, offset, length int64) *slowPatch {
	n.t.Helper()
	pr, pw := io.Pipe()
	req := p.tusPatchRequest(n.t, id, int(offset), pr, length, n.auth()...)
	sp := &slowPatch{pw: pw, res: make(chan patchResult, 1)}
	go func() {
		resp, err := n.hc.Do(req)
		if err != nil {
			pr.CloseWithError(err)
			sp.res <- patchResult{err: err}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pr.CloseWithError(errors.New("response received"))
		sp.res <- patchResult{status: resp.StatusCode, body: string(body)}
	}()
	return sp
}

// feedUntilStored feeds data in 256 KiB pieces until the server has stored at
// least want bytes of the upload (on disk, or on S3 as parts; so the PATCH
// is demonstrably in flight, with bytes received), and returns the stored
// size seen.
func (n *node) feedUntilStored(sp *slowPatch, id string, data []byte, want int64) int64 {
	n.t.Helper()
	const piece = 256 << 10
	fed := 0
	deadline := time.Now().Add(20 * time.Second)
	// A write the server never reads must not hang the test.
	stuck := time.AfterFunc(time.Until(deadline), func() { sp.pw.CloseWithError(errors.New("feeding timed out")) })
	defer stuck.Stop()
	for time.Now().Before(deadline) {
		if size, _ := n.storedSize(id); size >= want {
			return size
		}
		// Never send everything: the PATCH must still be in flight.
		if fed+piece <= len(data)/2 {
			if _, err := sp.pw.Write(data[fed : fed+piece]); err != nil {
				n.t.Fatalf("feeding the PATCH after %d bytes: %v", fed, err)
			}
			fed += piece
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	n.t.Fatalf("the server stored fewer than %d bytes after %d were fed", want, fed)
	return 0
}

// result waits for the slow PATCH to end (the feeding side is closed first).
func (sp *slowPatch) result(t testing.TB) patchResult {
	t.Helper()
	sp.pw.CloseWithError(errors.New("test stopped feeding"))
	select {
	case r := <-sp.res:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("the interrupted PATCH did not end within 15s")
		return patchResult{}
	}
}

// checkStoredPrefix requires the reported offset to be what is stored: the
// store holds exactly offset bytes of the upload, and they are the first
// offset bytes sent. On S3 they are the parts of its multipart upload (each
// checked by its ETag, the MD5 of its bytes) and its incomplete part.
func (n *node) checkStoredPrefix(id string, offset int64, data []byte) {
	n.t.Helper()
	if n.bucket != nil {
		n.checkStoredParts(id, offset, data)
		return
	}
	stored, err := os.ReadFile(filepath.Join(n.dataDir, "files", id))
	if err != nil {
		n.t.Fatal(err)
	}
	if int64(len(stored)) != offset {
		n.t.Fatalf("HEAD says offset %d but %d bytes are on disk", offset, len(stored))
	}
	if !bytes.Equal(stored, data[:offset]) {
		n.t.Fatalf("the %d bytes on disk are not the first %d bytes sent", len(stored), offset)
	}
}

func (n *node) checkStoredParts(id string, offset int64, data []byte) {
	t, b := n.t, n.bucket
	t.Helper()
	c, ctx := b.srv.Client(), context.Background()
	var mu *multipartUpload
	for _, u := range b.multipartUploads(t) {
		if u.key == b.key(id) {
			if mu != nil {
				t.Fatalf("two multipart uploads of %s", id)
			}
			mu = &u
		}
	}
	if mu == nil {
		t.Fatalf("no multipart upload of %s in the bucket", id)
	}
	var at int64
	parts := s3.NewListPartsPaginator(c, &s3.ListPartsInput{Bucket: aws.String(b.name), Key: aws.String(mu.key), UploadId: aws.String(mu.id)})
	for parts.HasMorePages() {
		page, err := parts.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Parts {
			size := aws.ToInt64(p.Size)
			if at+size > offset {
				t.Fatalf("HEAD says offset %d but part %d ends at %d", offset, aws.ToInt32(p.PartNumber), at+size)
			}
			sum := md5.Sum(data[at : at+size])
			if etag := strings.Trim(aws.ToString(p.ETag), `"`); etag != hex.EncodeToString(sum[:]) {
				t.Fatalf("part %d (bytes %d to %d): ETag %s is not the MD5 of the bytes sent there", aws.ToInt32(p.PartNumber), at, at+size, etag)
			}
			at += size
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(b.key(id + ".part"))})
	if err == nil {
		tail, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if at+int64(len(tail)) > offset || !bytes.Equal(tail, data[at:at+int64(len(tail))]) {
			t.Fatalf("the incomplete part (%d bytes at %d) is not what was sent there", len(tail), at)
		}
		at += int64(len(tail))
	}
	if at != offset {
		t.Fatalf("HEAD says offset %d but %d bytes are stored", offset, at)
	}
}

type storedFile struct {
	ID     string `json:"id"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// files lists the account's files (one page is plenty here).
func (n *node) files(p *proc) []storedFile {
	n.t.Helper()
	var d struct {
		Files struct {
			Edges []struct {
				Node storedFile `json:"node"`
			} `json:"edges"`
		} `json:"files"`
	}
	p.gqlData(n.t, n.keys.SecretKey, `{ files(first: 100) { edges { node { id size sha256 } } } }`, nil, &d)
	var fs []storedFile
	for _, e := range d.Files.Edges {
		fs = append(fs, e.Node)
	}
	return fs
}

// requireFiles requires the files query to list exactly want, each once.
func (n *node) requireFiles(p *proc, want ...storedFile) {
	n.t.Helper()
	got := n.files(p)
	count := map[string]int{}
	for _, f := range got {
		count[f.ID]++
	}
	ok := len(got) == len(want)
	for _, w := range want {
		if count[w.ID] != 1 {
			ok = false
		}
		for _, f := range got {
			if f.ID == w.ID && f != w {
				ok = false
			}
		}
	}
	if !ok {
		n.t.Fatalf("files = %+v\nwant each of %+v exactly once", got, want)
	}
}

// requireFile checks file(id) and the delivered bytes.
func (n *node) requireFile(p *proc, id string, data []byte) {
	n.t.Helper()
	var d struct {
		File *storedFile `json:"file"`
	}
	p.gqlData(n.t, n.keys.SecretKey, `query($id: ID!) { file(id: $id) { id size sha256 } }`, map[string]any{"id": id}, &d)
	want := storedFile{ID: id, Size: int64(len(data)), SHA256: shaHex(data)}
	if d.File == nil || *d.File != want {
		n.t.Fatalf("file(id) = %+v, want %+v", d.File, want)
	}
	resp, body := p.do(n.t, http.MethodGet, "/files/"+id, "", nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		n.t.Fatalf("GET /files/%s: %d, %d bytes, identical=%v", id, resp.StatusCode, len(body), bytes.Equal(body, data))
	}
}

func randomData(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
