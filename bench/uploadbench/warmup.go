package main

import (
	"bytes"
	"context"
	"os"
	"time"
)

// warmUp sends a few uploads of each kind to t.
func warmUp(t *target) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := make([]byte, 4<<20)
	for range 4 {
		if _, err := t.create(ctx, smallBody, data[:smallBody]); err != nil {
			return err
		}
		loc, err := t.create(ctx, int64(len(data)), nil)
		if err != nil {
			return err
		}
		if err := t.patch(ctx, loc, 0, bytes.NewReader(data), int64(len(data))); err != nil {
			return err
		}
	}
	t.idle()
	return nil
}

// prefault writes size bytes to a scratch file in dir and deletes it, just
// before a measured run, so that the run's page cache is made of pages
// that were in use a moment ago.
//
// This machine is a VM whose guest hands freed memory back to the host
// within moments (virtio-balloon free page reporting); the first write to
// such a page faults on the host and makes the kernel's copy into the page
// cache several times slower (perf: copy_folio_from_iter_atomic). Without
// this, whichever server happened to get "returned" pages lost 0.2 to 1 s
// per GiB, at random. It costs the same on any machine and no-one's time.
func prefault(dir string, size int64) error {
	f, err := os.CreateTemp(dir, ".prefault-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(f.Name())
}
