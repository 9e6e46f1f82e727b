package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"time"
)

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
