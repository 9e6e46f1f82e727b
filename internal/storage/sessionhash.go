package storage

import (
	"context"
	"crypto/sha256"
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

func (ss *sessionHashers) stats() SessionStats {
	return SessionStats{Streamed: ss.streamed.Load(), FromHeld: ss.fromHeld.Load(), ReadBack: ss.readBack.Load(), Held: ss.held.Load()}
}
