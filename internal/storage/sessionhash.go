package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// The frontier hasher. SHA-256 cannot combine the digests of parts: the
// file's digest must see its bytes in order. Each session has a frontier,
// the digest of the file's first parts (all of them stored); the parts
// beyond it arrive in any order:
//
//   - a part whose write starts when it is the next part is hashed into the
//     frontier as it streams in (beside its own digest, in the same pass);
//   - a part that arrives ahead of the frontier, but within
//     sessionWindow parts of it, is held in memory (at most
//     sessionHeldBytes for all the sessions of a process) until the
//     frontier reaches it;
//   - a part further ahead waits (sessionWait at most, before its body is
//     read) while the frontier is on its way to it;
//   - a part that was stored without being held (beyond the window or the
//     budget) is read back when the frontier reaches it, where the store
//     can read a part before the session completes: the filestore's file
//     (in the page cache), a tus upload a part was copied from; S3's parts
//     cannot be read before completion: there the frontier stops at such
//     a part;
//   - whatever the frontier has not covered when the session completes is
//     read back from the stored file (the filestore's file; S3's completed
//     object, ranged GETs from the frontier), parts still held excepted.
//
// The digest is exact whatever the order: the frontier also keeps a digest
// of the part digests it covered, in order, which completion checks
// against the parts' recorded digests (those of the bytes stored). A part
// sent again with other bytes after the frontier passed it, or a frontier
// from another process that saw other bytes, fails that check, and the
// file is then hashed from its first byte.
//
// On a store that instances share (S3), the frontier is saved in the
// HashStates as it advances, so that the instance that completes the
// session, or the process after a restart, starts from it; the parts
// another instance holds in memory are read back instead.

// Budget of the parts held ahead of a frontier.
const (
	// sessionWindow: a part is held only if it is among the next
	// sessionWindow parts past the frontier (one session holds at most
	// sessionWindow-1 parts, 35 MiB of 5 MiB parts).
	sessionWindow    = 8
	sessionHeldBytes = 128 << 20 // bytes all the sessions of a process may hold
	// sessionWait bounds how long a part beyond the window waits for the
	// frontier to come near.
	sessionWait = 10 * time.Second
	// sessionIdle: the parts held by a session that received nothing for
	// this long may be dropped when another needs the room (they are read
	// back at completion instead).
	sessionIdle = 2 * time.Minute
	// sessionForget: a session that received nothing for this long is
	// forgotten by the process.
	sessionForget = time.Hour
)

// SessionStats is how this process computed the sessions' digests.
type SessionStats struct {
	Streamed int64 // bytes hashed into a frontier as they streamed in
	FromHeld int64 // bytes hashed from parts held in memory
	ReadBack int64 // bytes read back from the store
	Held     int64 // bytes held in memory now
}

type sessionHashers struct {
	mu sync.Mutex
	m  map[string]*sessionHasher
	// states, when set, keeps frontiers where other instances find them.
	states HashStates
	// window and budget are sessionWindow and sessionHeldBytes (tests
	// make them smaller).
	window int
	budget int64

	swept                        time.Time    // when get last looked for stale sessions (under mu)
	held                         atomic.Int64 // bytes held by all sessions, reserved included
	streamed, fromHeld, readBack atomic.Int64
	bufs                         sync.Pool // *[]byte of cap >= a part
}

func newSessionHashers(states HashStates) *sessionHashers {
	return &sessionHashers{m: map[string]*sessionHasher{}, states: states, window: sessionWindow, budget: sessionHeldBytes}
}

// sessionHasher is one session's frontier and the parts held ahead of it.
type sessionHasher struct {
	id string
	mu sync.Mutex
	// changed is closed (and replaced) when the frontier moves or stops
	// hashing.
	changed chan struct{}
	// sum is the digest of the file's first offset bytes, parts [0, next);
	// chain is the digest of those parts' digests, in order.
	sum, chain hash.Hash
	next       int
	offset     int64
	// busy: a goroutine is hashing into sum (a part streaming at the
	// frontier, or parts being caught up); only it touches sum. catching:
	// that goroutine is catching up (it needs nothing from a client).
	busy, catching bool
	ahead          map[int]*heldPart
	// stored: parts stored but not held, that the store can read back
	// before completion. writing counts the writes of a part under way,
	// gen its writes begun: a part read back is used only if no write
	// began meanwhile.
	stored  map[int]storedPart
	writing map[int]int
	gen     map[int]uint64
	used    atomic.Int64 // unix nanoseconds of the last write
	// saving serializes the saves of the frontier, saved the part the
	// last one reached: a save never goes back.
	saving sync.Mutex
	saved  int
}

// storedPart is a part that the store can read back before completion.
type storedPart struct {
	p    SessionPart
	open func(ctx context.Context) (io.ReadCloser, error)
}

type heldPart struct {
	p   SessionPart
	buf *[]byte
}

func newSessionHasher(id string) *sessionHasher {
	h := &sessionHasher{
		id: id, sum: sha256.New(), chain: sha256.New(),
		ahead: map[int]*heldPart{}, stored: map[int]storedPart{}, writing: map[int]int{}, gen: map[int]uint64{},
	}
	h.changed = make(chan struct{})
	return h
}

// get returns id's hasher, made if missing. Once a minute at most, it
// forgets the sessions that received nothing for sessionForget (completed
// by another instance, or abandoned): what they held goes, and their
// frontier, which only costs reading back if they come back.
func (ss *sessionHashers) get(id string) *sessionHasher {
	now := time.Now()
	ss.mu.Lock()
	h := ss.m[id]
	if h == nil {
		h = newSessionHasher(id)
		ss.m[id] = h
	}
	h.used.Store(now.UnixNano())
	var stale []*sessionHasher
	if now.Sub(ss.swept) > time.Minute {
		ss.swept = now
		for sid, o := range ss.m {
			if now.Sub(time.Unix(0, o.used.Load())) <= sessionForget || !o.mu.TryLock() {
				continue // in use, or busy
			}
			delete(ss.m, sid)
			stale = append(stale, o) // locked
		}
	}
	ss.mu.Unlock()
	for _, o := range stale {
		o.releaseAll(ss)
		o.mu.Unlock()
	}
	return h
}

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

// forgetPart drops what h keeps of part i. h.mu is held.
// signal wakes those waiting for the frontier. h.mu is held.
func (h *sessionHasher) signal() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// wait releases h.mu until the frontier moves or stops hashing, or until
// deadline; it reports false at the deadline. h.mu is held.
func (h *sessionHasher) wait(deadline time.Time) bool {
	ch := h.changed
	h.mu.Unlock()
	defer h.mu.Lock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func (h *sessionHasher) forgetPart(ss *sessionHashers, i int) {
	if old := h.ahead[i]; old != nil {
		delete(h.ahead, i)
		ss.release(old.buf)
	}
	delete(h.stored, i)
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

// advance records that the frontier covers part p (sum already does).
func (h *sessionHasher) advance(p SessionPart) {
	d, _ := hex.DecodeString(p.SHA256)
	h.chain.Write(d)
	h.next++
	h.offset += p.Size
	h.signal()
}

// kick starts catching up, on a goroutine of its own, when the frontier
// has reached a part it holds or can read back and no one is hashing: the
// request that stored the part need not wait for it. h.mu is held.
func (ss *sessionHashers) kick(ctx context.Context, h *sessionHasher) {
	if h.busy || !h.reachable(h.next) {
		return
	}
	h.busy, h.catching = true, true
	go ss.catchUp(context.WithoutCancel(ctx), h)
}

// reachable says whether part i is held or can be read back now.
func (h *sessionHasher) reachable(i int) bool {
	if h.ahead[i] != nil {
		return true
	}
	_, ok := h.stored[i]
	return ok && h.writing[i] == 0
}

// catchUp hashes the parts that the frontier has reached, one after the
// other: held ones from memory, stored ones read back from the store. The
// caller set h.busy, which it clears.
func (ss *sessionHashers) catchUp(ctx context.Context, h *sessionHasher) {
	h.mu.Lock()
	moved := false
	for h.reachable(h.next) {
		i := h.next
		if hp := h.ahead[i]; hp != nil {
			delete(h.ahead, i)
			h.mu.Unlock()
			h.sum.Write((*hp.buf)[:hp.p.Size])
			h.mu.Lock()
			h.advance(hp.p)
			ss.fromHeld.Add(hp.p.Size)
			ss.release(hp.buf)
			moved = true
			continue
		}
		sp := h.stored[i]
		delete(h.stored, i)
		gen := h.gen[i]
		sum := cloneHash(h.sum)
		h.mu.Unlock()
		n, err := readInto(ctx, sum, sp.open, sp.p.Size)
		ss.readBack.Add(n)
		h.mu.Lock()
		if err != nil || h.gen[i] != gen || h.writing[i] > 0 {
			break // read back at completion instead
		}
		h.sum = sum
		h.advance(sp.p)
		moved = true
	}
	h.busy, h.catching = false, false
	h.signal()
	snap := ss.snapshot(h, moved)
	h.mu.Unlock()
	ss.save(ctx, h.id, snap)
}

// readInto hashes the size bytes open reads.
func readInto(ctx context.Context, h hash.Hash, open func(context.Context) (io.ReadCloser, error), size int64) (int64, error) {
	r, err := open(context.WithoutCancel(ctx))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	bp := inlineBufs.Get().(*[]byte)
	defer inlineBufs.Put(bp)
	n, err := io.CopyBuffer(h, io.LimitReader(r, size), *bp)
	if err == nil && n != size {
		err = fmt.Errorf("read back %d of %d bytes", n, size)
	}
	return n, err
}

// complete finishes the digest of a session whose parts are all stored:
// the frontier (this process's, or the saved one when it is further),
// checked against the parts' digests, then the held parts and, between
// them, the bytes read back.
func (ss *sessionHashers) complete(ctx context.Context, id string, parts []SessionPart, read func(offset, n int64) (io.ReadCloser, error)) (string, error) {
	h := ss.get(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.busy {
		h.wait(time.Now().Add(time.Minute))
	}
	sum, chain, next := cloneHash(h.sum), cloneHash(h.chain), h.next
	if ss.states != nil {
		if at, state, err := ss.states.Load(ctx, id); err == nil {
			if f, err := decodeFrontier(at, state); err == nil && f.next > next {
				sum, chain, next = f.sum, f.chain, f.next
			}
		}
	}
	if next > len(parts) || !coversParts(chain, parts[:next]) {
		sum, next = sha256.New(), 0
	}
	held := func(i int) *heldPart {
		if hp := h.ahead[i]; hp != nil && hp.p.SHA256 == parts[i].SHA256 {
			return hp
		}
		return nil
	}
	buf := make([]byte, 1<<20)
	for i := next; i < len(parts); {
		if hp := held(i); hp != nil {
			sum.Write((*hp.buf)[:hp.p.Size])
			ss.fromHeld.Add(hp.p.Size)
			i++
			continue
		}
		j := i + 1
		for j < len(parts) && held(j) == nil {
			j++
		}
		from, n := parts[i].Offset, parts[j-1].Offset+parts[j-1].Size-parts[i].Offset
		if n > 0 {
			r, err := read(from, n)
			if err != nil {
				return "", fmt.Errorf("read back from %d: %w", from, err)
			}
			got, err := io.CopyBuffer(sum, r, buf)
			r.Close()
			ss.readBack.Add(got)
			if err == nil && got != n {
				err = fmt.Errorf("%d of %d bytes", got, n)
			}
			if err != nil {
				return "", fmt.Errorf("read back from %d: %w", from, err)
			}
		}
		i = j
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// coversParts reports whether chain is the digest of parts' digests.
func coversParts(chain hash.Hash, parts []SessionPart) bool {
	c := sha256.New()
	for _, p := range parts {
		d, err := hex.DecodeString(p.SHA256)
		if err != nil {
			return false
		}
		c.Write(d)
	}
	return bytes.Equal(c.Sum(nil), chain.Sum(nil))
}

// drop forgets session id and releases what it holds.
func (ss *sessionHashers) drop(id string) {
	ss.mu.Lock()
	h := ss.m[id]
	delete(ss.m, id)
	ss.mu.Unlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releaseAll(ss)
}

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

func (ss *sessionHashers) stats() SessionStats {
	return SessionStats{Streamed: ss.streamed.Load(), FromHeld: ss.fromHeld.Load(), ReadBack: ss.readBack.Load(), Held: ss.held.Load()}
}

// A frontier saved for other instances: the hash states of sum and chain
// after parts [0, next), which end at offset.
type frontier struct {
	next       int
	sum, chain hash.Hash
}

// snapshot encodes h's frontier for the HashStates when it moved and they
// are kept (nil otherwise). h.mu is held.
func (ss *sessionHashers) snapshot(h *sessionHasher, moved bool) *savedFrontier {
	if ss.states == nil || !moved || h.busy {
		return nil
	}
	sum, err1 := h.sum.(encoding.BinaryMarshaler).MarshalBinary()
	chain, err2 := h.chain.(encoding.BinaryMarshaler).MarshalBinary()
	if err1 != nil || err2 != nil {
		return nil
	}
	buf := binary.BigEndian.AppendUint32(nil, uint32(h.next))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(sum)))
	buf = append(append(buf, sum...), chain...)
	return &savedFrontier{h: h, next: h.next, offset: h.offset, state: buf}
}

type savedFrontier struct {
	h      *sessionHasher
	next   int
	offset int64
	state  []byte
}

// save keeps a snapshot unless a further one was saved; a failure only
// costs a read-back at completion.
func (ss *sessionHashers) save(ctx context.Context, id string, f *savedFrontier) {
	if f == nil {
		return
	}
	f.h.saving.Lock()
	defer f.h.saving.Unlock()
	if f.next <= f.h.saved {
		return
	}
	if ss.states.Save(context.WithoutCancel(ctx), id, f.offset, f.state) == nil {
		f.h.saved = f.next
	}
}

func decodeFrontier(offset int64, buf []byte) (frontier, error) {
	if len(buf) < 6 {
		return frontier{}, errors.New("short frontier")
	}
	next := int(binary.BigEndian.Uint32(buf))
	n := int(binary.BigEndian.Uint16(buf[4:]))
	if len(buf) < 6+n || offset < 0 {
		return frontier{}, errors.New("short frontier")
	}
	f := frontier{next: next, sum: sha256.New(), chain: sha256.New()}
	if err := f.sum.(encoding.BinaryUnmarshaler).UnmarshalBinary(buf[6 : 6+n]); err != nil {
		return frontier{}, err
	}
	if err := f.chain.(encoding.BinaryUnmarshaler).UnmarshalBinary(buf[6+n:]); err != nil {
		return frontier{}, err
	}
	return f, nil
}

// cloneHash copies a SHA-256 in its current state.
func cloneHash(h hash.Hash) hash.Hash {
	c := sha256.New()
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err == nil {
		err = c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
	}
	if err != nil {
		panic(fmt.Sprintf("sha256 state: %v", err)) // cannot happen: crypto/sha256 marshals
	}
	return c
}
