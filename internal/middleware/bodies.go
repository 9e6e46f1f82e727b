package middleware

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"satchel/internal/apperr"
)

// BodyLimits bounds what request bodies may cost on the routes that are not
// tus (tusd has its own idle timeout, and a cut PATCH stays resumable):
//
//   - a body must never be idle longer than Idle, and must keep an average
//     of MinRate bytes a second once Grace has passed, else its connection's
//     read deadline passes and the read fails (408 REQUEST_TIMEOUT where an
//     answer can still be sent);
//   - at most Readers bodies are read at once; a request beyond them waits
//     up to Wait for one to finish, then is answered 503 UNAVAILABLE with
//     Retry-After and its connection closed. So 1,000 stalled bodies hold at
//     most Readers connections, for Grace at most.
type BodyLimits struct {
	Idle    time.Duration // default 30s
	Grace   time.Duration // default 10s
	MinRate int64         // bytes/s; default 1024
	Readers int           // default 256
	Wait    time.Duration // default 1s

	once  sync.Once
	slots chan struct{}
	// Reading is the bodies being read now (for tests and metrics).
	Reading atomic.Int64
}

func (l *BodyLimits) init() {
	l.once.Do(func() {
		if l.Idle <= 0 {
			l.Idle = 30 * time.Second
		}
		if l.Grace <= 0 {
			l.Grace = 10 * time.Second
		}
		if l.MinRate <= 0 {
			l.MinRate = 1024
		}
		if l.Readers <= 0 {
			l.Readers = 256
		}
		if l.Wait <= 0 {
			l.Wait = time.Second
		}
		l.slots = make(chan struct{}, l.Readers)
	})
}

// ErrBodyTimeout answers a body that stalled or crawled.
var ErrBodyTimeout = apperr.New(apperr.RequestTimeout, "the request body arrived too slowly and was cut off")

var errBusyBodies = &apperr.Error{Code: apperr.Unavailable, Message: "too many request bodies are being received; retry shortly", RetryAfter: 1}

// Wrap applies the limits to next.
func (l *BodyLimits) Wrap(next http.Handler) http.Handler {
	l.init()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if !l.take(r.Context()) {
			w.Header().Set("Connection", "close")
			apperr.WriteJSON(w, r, errBusyBodies)
			return
		}
		l.Reading.Add(1)
		b := &limitedBody{ReadCloser: r.Body, l: l, rc: http.NewResponseController(w), start: time.Now()}
		defer b.release()
		b.extend(time.Now())
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

func (l *BodyLimits) take(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.Wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// limitedBody moves its connection's read deadline as bytes arrive, and
// gives its reader slot back when the body ends.
type limitedBody struct {
	io.ReadCloser
	l        *BodyLimits
	rc       *http.ResponseController
	start    time.Time
	n        int64
	extended time.Time
	released atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil {
		b.release()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The deadline stays passed: the server must not wait for the
			// rest of this body before it answers.
			return n, ErrBodyTimeout
		}
		if err == io.EOF {
			b.rc.SetReadDeadline(time.Time{})
		}
		return n, err
	}
	if now := time.Now(); now.Sub(b.extended) > 100*time.Millisecond {
		b.extend(now) // a syscall-free timer update, but not per small read
	}
	return n, nil
}

// extend sets the read deadline: Idle from now, but no later than the
// start plus Grace plus the time MinRate allows for what has arrived.
func (b *limitedBody) extend(now time.Time) {
	b.extended = now
	idle := now.Add(b.l.Idle)
	owed := b.start.Add(b.l.Grace + time.Duration(b.n*int64(time.Second)/b.l.MinRate))
	if owed.Before(idle) {
		idle = owed
	}
	b.rc.SetReadDeadline(idle)
}

func (b *limitedBody) Close() error {
	b.release()
	return b.ReadCloser.Close()
}

func (b *limitedBody) release() {
	if b.released.CompareAndSwap(false, true) {
		<-b.l.slots
		b.l.Reading.Add(-1)
	}
}
