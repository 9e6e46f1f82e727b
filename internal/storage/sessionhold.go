package storage

import "time"

// releaseAll releases what h holds. h.mu is held.
func (h *sessionHasher) releaseAll(ss *sessionHashers) {
	for i, hp := range h.ahead {
		delete(h.ahead, i)
		ss.release(hp.buf)
	}
	clear(h.stored)
}

// reserve returns a buffer for a part of size bytes held by h, or nil when
// the budget has no room, even after dropping what idle sessions hold.
func (ss *sessionHashers) reserve(h *sessionHasher, size int64) *[]byte {
	if !ss.take(size) {
		ss.evictIdle(h)
		if !ss.take(size) {
			return nil
		}
	}
	bp, _ := ss.bufs.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < size {
		b := make([]byte, size)
		bp = &b
	}
	*bp = (*bp)[:size]
	return bp
}

func (ss *sessionHashers) take(size int64) bool {
	if ss.held.Add(size) > ss.budget {
		ss.held.Add(-size)
		return false
	}
	return true
}

func (ss *sessionHashers) release(bp *[]byte) {
	ss.held.Add(-int64(len(*bp)))
	ss.bufs.Put(bp)
}

// evictIdle drops the parts held by sessions idle for sessionIdle, but
// self's. A session busy at that moment is left alone.
func (ss *sessionHashers) evictIdle(self *sessionHasher) {
	limit := time.Now().Add(-sessionIdle).UnixNano()
	ss.mu.Lock()
	var idle []*sessionHasher
	for _, h := range ss.m {
		if h != self && h.used.Load() < limit {
			idle = append(idle, h)
		}
	}
	ss.mu.Unlock()
	for _, h := range idle {
		if !h.mu.TryLock() {
			continue
		}
		for i, hp := range h.ahead {
			delete(h.ahead, i)
			ss.release(hp.buf)
		}
		h.mu.Unlock()
	}
}
