package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

var vipsSeq int

// vipsOnce runs vipsthumbnail on the photo once (extra environment env) and
// returns its wall time and CPU time (user + system).
func vipsOnce(o options, env []string) (time.Duration, time.Duration, error) {
	vipsSeq++
	out := filepath.Join(o.work, fmt.Sprintf("tn-%d.webp", vipsSeq))
	abs, err := filepath.Abs(o.image)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(o.vipsCommand, abs, "-s", strconv.Itoa(thumbBox), "-o", fmt.Sprintf("%s[Q=%d]", out, webpQuality))
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, 0, err
	}
	os.Remove(out)
	return d, cpu, checkWebP(data)
}

// vipsBatch runs one vipsthumbnail on o.batch copies (hard links) of the
// photo and returns the wall time of the whole invocation.
func vipsBatch(o options, run int) (time.Duration, error) {
	dir := filepath.Join(o.work, fmt.Sprintf("batch-%d", run))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	abs, err := filepath.Abs(o.image)
	if err != nil {
		return 0, err
	}
	args := []string{"-s", strconv.Itoa(thumbBox), "-o", fmt.Sprintf("%%s-tn.webp[Q=%d]", webpQuality)}
	for i := range o.batch {
		p := filepath.Join(dir, fmt.Sprintf("photo-%02d.jpg", i))
		if err := os.Link(abs, p); err != nil {
			data, rerr := os.ReadFile(abs)
			if rerr != nil {
				return 0, rerr
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return 0, err
			}
		}
		args = append(args, p)
	}
	cmd := exec.Command(o.vipsCommand, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	for i := range o.batch {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("photo-%02d-tn.webp", i)))
		if err != nil {
			return 0, err
		}
		if err := checkWebP(data); err != nil {
			return 0, err
		}
	}
	return d, nil
}

func vipsVersion(cmd string) string {
	out, err := exec.Command(cmd, "--vips-version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
