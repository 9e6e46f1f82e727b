package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// tempDirs holds the directories this process made, by base: a second
// store over the same base shares its process's directory.
var tempDirs = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// processTempDir returns the directory where this process buffers S3 parts
// and spools checked chunks: <base>/<pid> under base (default
// $TMPDIR/satchel-s3). The first time, the directories of processes that
// no longer run are removed: a process that died left its buffered parts
// behind.
func processTempDir(base string) (string, error) {
	if base == "" {
		base = filepath.Join(os.TempDir(), "satchel-s3")
	}
	tempDirs.Lock()
	defer tempDirs.Unlock()
	if dir, ok := tempDirs.m[base]; ok {
		return dir, nil
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", fmt.Errorf("temporary directory: %w", err)
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return "", fmt.Errorf("temporary directory: %w", err)
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || (pid != self && running(pid)) {
			continue
		}
		// A dead process's, or this pid's from a process long gone.
		if err := os.RemoveAll(filepath.Join(base, e.Name())); err != nil {
			return "", fmt.Errorf("temporary directory: remove a dead process's: %w", err)
		}
	}
	dir := filepath.Join(base, strconv.Itoa(self))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("temporary directory: %w", err)
	}
	tempDirs.m[base] = dir
	return dir, nil
}

// running reports whether process pid exists (signal 0 checks, sends
// nothing; EPERM: it exists, as another user's).
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
