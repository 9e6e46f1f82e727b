package uploads

import (
	"sync"
	"time"
)

// RateLimiter decides whether a key may start another upload now.
type RateLimiter interface {
	// Allow counts one upload for key under a limit of perMinute (0: no
	// limit) and returns 0, or the seconds to wait when over the limit.
	Allow(key string, perMinute int) (retryAfter int)
}

// WindowLimiter is an in-process sliding-window limiter: each instance
// enforces the limit on what it sees.
type WindowLimiter struct {
	mu   sync.Mutex
	now  func() time.Time
	hits map[string][]time.Time
}

// NewWindowLimiter returns an empty limiter.
func NewWindowLimiter() *WindowLimiter {
	return &WindowLimiter{now: time.Now, hits: map[string][]time.Time{}}
}

// Allow implements RateLimiter.
func (l *WindowLimiter) Allow(key string, perMinute int) int {
	if perMinute <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-time.Minute)
	h := l.hits[key]
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	h = h[i:]
	if len(h) >= perMinute {
		l.hits[key] = h
		wait := int(h[0].Sub(cut)/time.Second) + 1
		return wait
	}
	l.hits[key] = append(h, now)
	if len(l.hits) > 100000 {
		// Bound memory: forget keys idle for a minute.
		for k, v := range l.hits {
			if len(v) == 0 || !v[len(v)-1].After(cut) {
				delete(l.hits, k)
			}
		}
	}
	return 0
}
