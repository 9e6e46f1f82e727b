package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"satchel/bench/internal/benchkit"
)

func run(o options) error {
	if o.n < 1 || o.hits < 1 || o.batch < 1 || o.batchRuns < 1 {
		return errors.New("-n, -hits, -batch and -batch-runs must be positive")
	}
	if o.url == "" || o.data == "" || o.pid <= 0 {
		return errors.New("-url, -data and -pid are needed")
	}
	if _, err := exec.LookPath(o.vipsCommand); err != nil {
		return fmt.Errorf("%s: %w (Debian: apt-get install libvips-tools)", o.vipsCommand, err)
	}
	src, err := ensurePhoto(o.image)
	if err != nil {
		return err
	}
	benchkit.Logf("photo %s: %dx%d JPEG, %.2f MB", o.image, photoW, photoH, float64(len(src))/1e6)
	if err := os.RemoveAll(o.work); err != nil {
		return err
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(o.work)

	s, err := newSatchel(o)
	if err != nil {
		return err
	}
	if err := s.createPreset(); err != nil {
		return fmt.Errorf("createTransformation: %w", err)
	}
	rep := &report{opts: o, started: time.Now(), photoBytes: len(src), vipsVersion: vipsVersion(o.vipsCommand)}
	rep.load[0] = benchkit.LoadAvg()

	// Warm-up, not measured: connections, libvips' first use in the server
	// (module loading, thread pool), page cache for vipsthumbnail's binary
	// and libraries, the Go heap for imaging.
	benchkit.Logf("warm-up")
	for range 2 {
		if _, err := s.firstRender(src); err != nil {
			return fmt.Errorf("warm-up, satchel: %w", err)
		}
		if _, _, err := vipsOnce(o, nil); err != nil {
			return fmt.Errorf("warm-up, vipsthumbnail: %w", err)
		}
		if _, err := imagingOnce(src); err != nil {
			return fmt.Errorf("warm-up, imaging: %w", err)
		}
	}

	// (a), (b), (c) in rotation: sample i starts with measure i mod 4.
	var rendered string // a file whose thumbnail is rendered, for (d)
	type measure func() error
	measures := []measure{
		func() error {
			r, err := s.firstRender(src)
			if err != nil {
				return fmt.Errorf("satchel: %w", err)
			}
			rep.satchel = append(rep.satchel, r.get)
			rep.satchelCPU = append(rep.satchelCPU, r.cpu)
			rep.upload = append(rep.upload, r.upload)
			rep.thumbBytes = r.size
			rendered = r.id
			return nil
		},
		func() error {
			d, cpu, err := vipsOnce(o, nil)
			if err != nil {
				return fmt.Errorf("vipsthumbnail: %w", err)
			}
			rep.vips, rep.vipsCPU = append(rep.vips, d), append(rep.vipsCPU, cpu)
			return nil
		},
		func() error {
			d, cpu, err := vipsOnce(o, []string{"VIPS_CONCURRENCY=1"})
			if err != nil {
				return fmt.Errorf("vipsthumbnail, VIPS_CONCURRENCY=1: %w", err)
			}
			rep.vips1, rep.vips1CPU = append(rep.vips1, d), append(rep.vips1CPU, cpu)
			return nil
		},
		func() error {
			d, err := imagingOnce(src)
			if err != nil {
				return fmt.Errorf("imaging: %w", err)
			}
			rep.imaging = append(rep.imaging, d)
			return nil
		},
	}
	for i := range o.n {
		for k := range measures {
			if err := measures[(i+k)%len(measures)](); err != nil {
				return fmt.Errorf("sample %d: %w", i+1, err)
			}
		}
		benchkit.Logf("sample %2d: satchel first render %6.1f ms (server CPU %3.0f ms, upload %5.1f ms), vipsthumbnail %6.1f ms, with VIPS_CONCURRENCY=1 %6.1f ms, imaging %6.1f ms",
			i+1, ms(rep.satchel[i]), ms(rep.satchelCPU[i]), ms(rep.upload[i]), ms(rep.vips[i]), ms(rep.vips1[i]), ms(rep.imaging[i]))
	}

	// (b') one vipsthumbnail process for -batch copies: per image.
	for i := range o.batchRuns {
		d, err := vipsBatch(o, i)
		if err != nil {
			return fmt.Errorf("vipsthumbnail batch: %w", err)
		}
		rep.vipsBatch = append(rep.vipsBatch, d/time.Duration(o.batch))
		benchkit.Logf("batch %d: vipsthumbnail on %d copies: %v, %.1f ms per image", i+1, o.batch, d.Round(time.Millisecond), ms(d/time.Duration(o.batch)))
	}

	// (d) cached hits on the last rendered file.
	hits, err := s.cachedHits(rendered, o.hits, rep.thumbBytes)
	if err != nil {
		return fmt.Errorf("cached hits: %w", err)
	}
	rep.hits = hits
	benchkit.Logf("cached hits: %d GETs, median %.3f ms, p90 %.3f ms", len(hits), ms(median(hits)), ms(p90(hits)))

	rep.wall = time.Since(rep.started)
	rep.load[1] = benchkit.LoadAvg()
	fmt.Println()
	rep.text(os.Stdout)
	if o.md != "" {
		if err := os.MkdirAll(filepath.Dir(o.md), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.md, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		benchkit.Logf("wrote %s", o.md)
	}
	return nil
}
