package storage

import (
	"context"
	"encoding/binary"
	"errors"
)

// HashStates keeps the running SHA-256 of each unfinished upload between
// PATCH requests, so the digest is computed once, while the bytes stream in.
// A lost or stale state only costs a re-read at finish: correctness never
// depends on it.
type HashStates interface {
	Load(ctx context.Context, id string) (offset int64, state []byte, err error)
	Save(ctx context.Context, id string, offset int64, state []byte) error
	Delete(ctx context.Context, id string) error
}

// encodeState and decodeState frame a state with its offset.
func encodeState(offset int64, state []byte) []byte {
	buf := make([]byte, 8+len(state))
	binary.BigEndian.PutUint64(buf, uint64(offset))
	copy(buf[8:], state)
	return buf
}

func decodeState(buf []byte) (int64, []byte, error) {
	if len(buf) < 8 {
		return 0, nil, errors.New("short hash state")
	}
	return int64(binary.BigEndian.Uint64(buf)), buf[8:], nil
}
