package storage

import (
	"io"
	"runtime"
	"sync"
)

// Sizes of the hashing pipeline: large writes are hashed on a second
// goroutine while the next buffer is read and written, so the digest costs
// no time on the byte path when a core is free.
//
// The buffers are large because the file writes are as large as they are:
// each write into the page cache pays per folio and per syscall, and on the
// VMs this was measured on (2 cores) that cost, not the copy, dominated.
// Going from 256 KiB to 4 MiB buffers took Satchel's CPU time for a 1 GiB
// PATCH from about 1.5x tusd's (which writes 32 KiB at a time) to about
// tusd's own, hashing included (BENCH_PHASES=1 BENCH_RUNS=7 make bench; the
// figures are in the README).
//
// Memory stays bounded: at most pipeBuffers buffers per upload, and at most
// pipeSlots uploads pipelined at once; beyond that an upload is hashed
// inline through one small buffer (the cores are busy by then anyway).
const (
	pipeBufSize  = 4 << 20
	pipeBuffers  = 2
	pipeMinBytes = 4 << 20 // smaller writes hash inline: no goroutine, no buffers
)

// pipeSlots bounds the uploads pipelined at once: 8 MiB each, 32 MiB on a
// 2-core machine.
var pipeSlots = make(chan struct{}, max(2, 2*runtime.GOMAXPROCS(0)))

var (
	pipeBufs   = sync.Pool{New: func() any { b := make([]byte, pipeBufSize); return &b }}
	inlineBufs = sync.Pool{New: func() any { b := make([]byte, inlineBufSize); return &b }}
)

// inlineBufSize is the buffer of a write hashed inline.
const inlineBufSize = 64 << 10

// hashingReader hands its source to the store while hashing exactly the
// bytes the store accepted. Read hashes inline; WriteTo (which io.Copy
// prefers) pipelines the hashing.
type hashingReader struct {
	src      io.Reader
	h        io.Writer // the digests (hash.Hash never fails a Write)
	n        int64     // bytes hashed
	pipeline bool
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.src.Read(p)
	if n > 0 {
		r.h.Write(p[:n])
		r.n += int64(n)
	}
	return n, err
}

// WriteTo copies src to w. Each buffer goes to w first, then (only the
// bytes w took) to the hashing goroutine, while the next one is read: at
// most pipeBuffers buffers are in use per upload.
func (r *hashingReader) WriteTo(w io.Writer) (int64, error) {
	if !r.pipeline {
		return r.copyInline(w)
	}
	select {
	case pipeSlots <- struct{}{}:
		defer func() { <-pipeSlots }()
	default:
		return r.copyInline(w)
	}
	free := make(chan []byte, pipeBuffers)
	work := make(chan []byte, pipeBuffers)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range work {
			r.h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var pooled []*[]byte
	defer func() {
		for _, b := range pooled {
			pipeBufs.Put(b)
		}
	}()
	var written int64
	var err error
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
			if len(pooled) < pipeBuffers {
				bp := pipeBufs.Get().(*[]byte)
				pooled = append(pooled, bp)
				buf = *bp
			} else {
				buf = <-free
			}
		}
		n, rerr := r.src.Read(buf[:pipeBufSize])
		if n > 0 {
			wn, werr := w.Write(buf[:n])
			written += int64(wn)
			r.n += int64(wn)
			work <- buf[:wn]
			if werr == nil && wn < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				err = werr
				break
			}
		} else {
			free <- buf
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	close(work)
	<-done
	return written, err
}

// copyInline copies src to w through one pooled buffer, hashing as it reads.
// (io.CopyBuffer would hand w, an *os.File, to its ReadFrom, which copies
// through a buffer of its own, allocated per call.)
func (r *hashingReader) copyInline(w io.Writer) (int64, error) {
	bp := inlineBufs.Get().(*[]byte)
	defer inlineBufs.Put(bp)
	buf := *bp
	var written int64
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			wn, werr := w.Write(buf[:n])
			written += int64(wn)
			if werr == nil && wn < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return written, werr
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}
