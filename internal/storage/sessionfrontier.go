package storage

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

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
