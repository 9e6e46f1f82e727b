package storage

import (
	"context"
	"hash"
	"io"
	"time"
)

// partWrite is the frontier's share of one part's bytes as they are
// written: hashed into a copy of the frontier (inline), kept in a buffer
// (held), or neither.
type partWrite struct {
	h      *sessionHasher
	p      SessionPart
	inline hash.Hash
	buf    *[]byte
	n      int64
	start  uint64 // the part's write generation when this write began
}

func (w *partWrite) gen() uint64 { return w.start }

func (w *partWrite) none() bool { return w.inline == nil && w.buf == nil }

func (w *partWrite) Write(b []byte) (int, error) {
	switch {
	case w.inline != nil:
		w.inline.Write(b)
	case w.buf != nil:
		if w.n+int64(len(b)) <= int64(len(*w.buf)) {
			copy((*w.buf)[w.n:], b)
		}
	}
	w.n += int64(len(b))
	return len(b), nil
}

// startPart decides what the frontier does with part p's bytes. A part
// beyond the window waits (sessionWait at most) while the frontier is on
// its way to it: catching up, or with its next part being written. Then
// the part can be held, and the frontier spares reading it back; the wait
// gives the frontier, the one sequential step, the time it needs when the
// cores are busy. A part sent while the frontier waits for a part no one
// sends does not wait. The frontier's next part waits for a catching up to
// end, to be hashed as it streams.
func (ss *sessionHashers) startPart(id string, p SessionPart) *partWrite {
	h := ss.get(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	deadline := time.Now().Add(sessionWait)
	for (p.Index >= h.next+ss.window && (h.catching || h.writing[h.next] > 0 || h.reachable(h.next))) ||
		(p.Index == h.next && h.catching) {
		if !h.wait(deadline) {
			break
		}
	}
	w := &partWrite{h: h, p: p}
	h.forgetPart(ss, p.Index) // sent again: what was kept of it is stale
	h.writing[p.Index]++
	h.gen[p.Index]++
	w.start = h.gen[p.Index]
	switch {
	case !h.busy && h.next == p.Index:
		h.busy = true
		w.inline = cloneHash(h.sum)
	case p.Index > h.next && p.Index < h.next+ss.window && p.Size > 0:
		w.buf = ss.reserve(h, p.Size)
	}
	return w
}

// endPart settles a part's write: on success the frontier advances past it,
// holds it or notes that it can be read back, then catches up with what it
// can. open reads the stored part back before completion (nil: the store
// cannot).
func (ss *sessionHashers) endPart(ctx context.Context, w *partWrite, p SessionPart, ok bool, open func(context.Context) (io.ReadCloser, error)) {
	h := w.h
	h.mu.Lock()
	h.writing[p.Index]--
	advanced, kept := false, false
	if w.inline != nil {
		h.busy = false
		h.signal()
		if ok && w.n == p.Size {
			h.sum = w.inline
			h.advance(p)
			ss.streamed.Add(p.Size)
			advanced, kept = true, true
		}
	}
	if w.buf != nil {
		if ok && w.n == p.Size && h.gen[p.Index] == w.gen() {
			h.ahead[p.Index] = &heldPart{p: p, buf: w.buf}
			kept = true
		} else {
			ss.release(w.buf)
		}
	}
	if ok && !kept && open != nil && p.Index >= h.next && h.writing[p.Index] == 0 {
		h.stored[p.Index] = storedPart{p: p, open: open}
	}
	if ok {
		h.used.Store(time.Now().UnixNano())
	}
	ss.kick(ctx, h)
	snap := ss.snapshot(h, advanced)
	h.mu.Unlock()
	ss.save(ctx, h.id, snap)
}

// copied notes a part stored from a tus upload, which can be read back
// from that upload, and lets the frontier catch up.
func (ss *sessionHashers) copied(ctx context.Context, id string, p SessionPart, open func(context.Context) (io.ReadCloser, error)) {
	h := ss.get(id)
	h.mu.Lock()
	h.forgetPart(ss, p.Index)
	h.gen[p.Index]++
	if p.Index >= h.next && h.writing[p.Index] == 0 {
		h.stored[p.Index] = storedPart{p: p, open: open}
	}
	ss.kick(ctx, h)
	h.mu.Unlock()
}
