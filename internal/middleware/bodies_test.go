package middleware

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"satchel/internal/apperr"
)

// bodyServer reads whole bodies through limits and answers 200 "n bytes",
// or the read error as Satchel's JSON error.
func bodyServer(t *testing.T, l *BodyLimits) *httptest.Server {
	srv := httptest.NewServer(l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			apperr.WriteJSON(w, r, err)
			return
		}
		fmt.Fprintf(w, "%d bytes", n)
	})))
	t.Cleanup(srv.Close)
	return srv
}

// rawPost sends a POST announcing length bytes, writes the first part of
// the body with send, and returns the response status line and body.
func rawPost(t *testing.T, addr string, length int, send func(c net.Conn)) (string, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", length)
	go send(c)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "no response: " + err.Error(), ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.Status, string(b)
}

func TestBodyLimitsCutStalledAndSlowBodies(t *testing.T) {
	l := &BodyLimits{Idle: 300 * time.Millisecond, Grace: 300 * time.Millisecond, MinRate: 1000}
	srv := bodyServer(t, l)
	addr := srv.Listener.Addr().String()

	// Stalled: 10 of 100 bytes, then nothing.
	status, body := rawPost(t, addr, 100, func(c net.Conn) { c.Write([]byte("0123456789")) })
	if !strings.HasPrefix(status, "408") || !strings.Contains(body, "REQUEST_TIMEOUT") {
		t.Fatalf("stalled body: %s %s", status, body)
	}
	// Slow: a byte every 100 ms is never idle for long, but averages 10
	// bytes a second against the 1000 required after the grace period.
	start := time.Now()
	status, body = rawPost(t, addr, 100, func(c net.Conn) {
		for range 100 {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if !strings.HasPrefix(status, "408") || time.Since(start) > 5*time.Second {
		t.Fatalf("slow body: %s %s after %v", status, body, time.Since(start))
	}
	// A body that keeps up goes through, however long it takes.
	status, body = rawPost(t, addr, 3000, func(c net.Conn) {
		for range 6 {
			c.Write([]byte(strings.Repeat("y", 500)))
			time.Sleep(100 * time.Millisecond)
		}
	})
	if !strings.HasPrefix(status, "200") || body != "3000 bytes" {
		t.Fatalf("steady body: %s %s", status, body)
	}
	if n := l.Reading.Load(); n != 0 {
		t.Fatalf("%d reader slots still held", n)
	}
}

func TestBodyLimitsCapReaders(t *testing.T) {
	l := &BodyLimits{Idle: 2 * time.Second, Grace: 2 * time.Second, Readers: 2, Wait: 100 * time.Millisecond}
	srv := bodyServer(t, l)
	addr := srv.Listener.Addr().String()
	// Two stalled bodies take both slots...
	stalled := make(chan string, 2)
	for range 2 {
		go func() {
			status, _ := rawPost(t, addr, 100, func(c net.Conn) { c.Write([]byte("x")) })
			stalled <- status
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Reading.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// ... so a third is refused at once, with Retry-After.
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "UNAVAILABLE") {
		t.Fatalf("third body: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// Requests without a body are not counted.
	if resp, err := http.Get(srv.URL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	// Once the stalled ones are cut, bodies are taken again.
	for range 2 {
		if s := <-stalled; !strings.HasPrefix(s, "408") {
			t.Fatalf("stalled body: %s", s)
		}
	}
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("hello"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the stalled bodies: %v %v", resp, err)
	}
	resp.Body.Close()
}
