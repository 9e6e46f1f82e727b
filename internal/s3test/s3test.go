// Package s3test gives tests a real S3 server: versitygw (Versity's S3
// gateway, installed by scripts/versitygw.sh into tools/bin) started once
// per test process on 127.0.0.1 with a temporary folder and random keys, or
// any other S3 named by SATCHEL_TEST_S3 (an endpoint URL, with the standard
// AWS_* credentials in the environment). Each test gets a bucket of its own.
// Under CI=true a missing server fails the test instead of skipping it.
package s3test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is an S3 endpoint and the credentials that reach it.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
}

var (
	once      sync.Once
	shared    *Server
	sharedErr error
)

// Start returns the test process's S3 server, starting versitygw on first
// use. It sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION in
// the process's environment, where Satchel reads its credentials.
func Start(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, sharedErr = start() })
	if sharedErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("an S3 server is required under CI: %v", sharedErr)
		}
		t.Skipf("no S3 server (%v); run scripts/versitygw.sh, or set CI=true to make this a failure", sharedErr)
	}
	return shared
}

func start() (*Server, error) {
	if ep := os.Getenv("SATCHEL_TEST_S3"); ep != "" {
		s := &Server{Endpoint: ep, Region: os.Getenv("AWS_REGION"), AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
		if s.Region == "" {
			s.Region = "us-east-1"
		}
		return s, s.setEnv()
	}
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	root, err := tempRoot()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Region: "us-east-1", AccessKey: "satchel" + randHex(8), SecretKey: randHex(20)}
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "posix", root)
	cmd.Env = append(os.Environ(), "VGW_QUIET=true")
	// The server dies with the test process, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := os.Create(filepath.Join(filepath.Dir(root), "versitygw.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, fmt.Errorf("versitygw did not listen on %s (log: %s)", s.Endpoint, out.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, s.setEnv()
}

func (s *Server) setEnv() error {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": s.AccessKey, "AWS_SECRET_ACCESS_KEY": s.SecretKey, "AWS_REGION": s.Region} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// binary finds versitygw: $SATCHEL_VERSITYGW, else tools/bin/versitygw in
// the module root, else on PATH.
func binary() (string, error) {
	if p := os.Getenv("SATCHEL_VERSITYGW"); p != "" {
		return p, nil
	}
	if gomod, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		p := filepath.Join(filepath.Dir(strings.TrimSpace(string(gomod))), "tools", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("versitygw")
	if err != nil {
		return "", fmt.Errorf("versitygw not found in tools/bin or on PATH")
	}
	return p, nil
}

// tempRoot makes the folder the gateway serves, under a directory named
// after this process, and removes those of processes that have died.
func tempRoot() (string, error) {
	base := filepath.Join(os.TempDir(), "satchel-s3test")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && !alive(pid) {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
	dir := filepath.Join(base, strconv.Itoa(os.Getpid()))
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	return root, nil
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Client is an S3 client of the server, for tests that look at the bucket.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// Some S3-compatible stores refuse the SDK's default checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Timeout: time.Minute},
	})
}

// Bucket creates a bucket for the test (removed, with what it holds, when
// the test ends) and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := "satchel-test-" + randHex(6)
	c := s.Client()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Cleanup(func() { s.empty(name) })
	return name
}

// URL is the SATCHEL_STORAGE value for bucket (and prefix) on the server.
func (s *Server) URL(bucket, prefix string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "region": {s.Region}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	return "s3://" + bucket + "?" + q.Encode()
}

// Keys lists the object keys in bucket.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// empty removes a bucket's objects, unfinished multipart uploads and the
// bucket itself, as far as it can.
func (s *Server) empty(bucket string) {
	c := s.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if mp, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}); err == nil {
		for _, u := range mp.Uploads {
			c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
		}
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}

// Log returns the server's log (versitygw's output), for failure messages.
func Log() string {
	if shared == nil || os.Getenv("SATCHEL_TEST_S3") != "" {
		return ""
	}
	f, err := os.Open(filepath.Join(os.TempDir(), "satchel-s3test", strconv.Itoa(os.Getpid()), "versitygw.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
