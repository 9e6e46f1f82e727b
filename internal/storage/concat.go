package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/ids"
)

// Concat appends the bytes of parts, in order, to final (tus
// concatenation), and keeps the digest of the result for its finishing.
func (s *Store) Concat(ctx context.Context, final handler.Upload, parts []handler.Upload) error {
	finfo, err := final.GetInfo(ctx)
	if err != nil {
		return err
	}
	sum, err := s.bytes.concat(ctx, final, parts)
	if err != nil {
		return fmt.Errorf("concat %s: %w", finfo.ID, err)
	}
	if sum != "" {
		s.hashing.finished.Store(finfo.ID, digest{size: finfo.Size, sum: sum})
	}
	return nil
}

// concat copies in the kernel (copy_file_range: the destination is not
// opened for appending, which would rule it out) while a second goroutine
// hashes the parts in order, so the assembled file's digest is ready
// without reading it again.
func (f *fileStore) concat(ctx context.Context, final handler.Upload, parts []handler.Upload) (string, error) {
	finfo, err := final.GetInfo(ctx)
	if err != nil {
		return "", err
	}
	paths := make([]string, len(parts))
	for i, p := range parts {
		info, err := p.GetInfo(ctx)
		if err != nil {
			return "", err
		}
		if !ids.Valid(info.ID) {
			return "", fmt.Errorf("bad part id %q", info.ID)
		}
		paths[i] = filepath.Join(f.dir, info.ID)
	}
	sums := make(chan string, 1)
	go func() {
		h := sha256.New()
		buf := make([]byte, 1<<20)
		for _, p := range paths {
			file, err := os.Open(p)
			if err != nil {
				sums <- ""
				return
			}
			_, err = io.CopyBuffer(h, file, buf)
			file.Close()
			if err != nil {
				sums <- ""
				return
			}
		}
		sums <- hex.EncodeToString(h.Sum(nil))
	}()
	err = copyParts(filepath.Join(f.dir, finfo.ID), paths)
	return <-sums, err
}

func copyParts(dstPath string, parts []string) (err error) {
	dst, err := os.OpenFile(dstPath, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := dst.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	for _, p := range parts {
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(dst, src) // *os.File to *os.File: copy_file_range
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
