package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"satchel/bench/internal/benchkit"
)

// ensurePhoto returns the JPEG at path, making it first when it is missing
// or not 4000x3000.
func ensurePhoto(path string) ([]byte, error) {
	if data, err := os.ReadFile(path); err == nil {
		if c, err := jpeg.DecodeConfig(bytes.NewReader(data)); err == nil && c.Width == photoW && c.Height == photoH {
			return data, nil
		}
	}
	benchkit.Logf("generating a %dx%d photo-like JPEG at %s", photoW, photoH, path)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, photo(photoW, photoH), &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return b.Bytes(), os.Rename(tmp, path)
}

// photo draws something with the statistics of a photo rather than of a
// test pattern: a sky gradient with soft clouds over a textured ground, a
// sun, buildings with windows, round shapes with shading, and sensor noise
// on every pixel. Deterministic.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(12, 0x5a7c4e1))
	type disc struct {
		x, y, r float64
		c       [3]float64
	}
	type rect struct {
		x0, y0, x1, y1 int
		c              [3]float64
	}
	horizon := float64(h) * 0.58
	var discs []disc
	for range 40 {
		discs = append(discs, disc{
			x: rng.Float64() * float64(w), y: horizon + rng.Float64()*(float64(h)-horizon),
			r: 30 + rng.Float64()*220,
			c: [3]float64{40 + rng.Float64()*200, 40 + rng.Float64()*200, 40 + rng.Float64()*200},
		})
	}
	var rects []rect
	for x := 0; x < w; {
		bw := 150 + rng.IntN(400)
		top := int(horizon) - 200 - rng.IntN(900)
		g := 60 + rng.Float64()*120
		rects = append(rects, rect{x, top, min(x+bw, w), int(horizon) + 40, [3]float64{g, g * (0.9 + rng.Float64()*0.2), g * (0.85 + rng.Float64()*0.3)}})
		x += bw + rng.IntN(250)
	}
	// A few octaves of smooth value noise for clouds and ground texture.
	lattice := make([]float64, 64*64)
	for i := range lattice {
		lattice[i] = rng.Float64()
	}
	vnoise := func(x, y float64) float64 {
		xi, yi := int(math.Floor(x)), int(math.Floor(y))
		fx, fy := x-float64(xi), y-float64(yi)
		fx, fy = fx*fx*(3-2*fx), fy*fy*(3-2*fy)
		at := func(i, j int) float64 { return lattice[(j&63)*64+(i&63)] }
		a := at(xi, yi) + (at(xi+1, yi)-at(xi, yi))*fx
		b := at(xi, yi+1) + (at(xi+1, yi+1)-at(xi, yi+1))*fx
		return a + (b-a)*fy
	}
	fbm := func(x, y float64) float64 {
		v, amp, f := 0.0, 0.5, 1.0
		for range 5 {
			v += amp * vnoise(x*f, y*f)
			amp, f = amp/2, f*2.03
		}
		return v
	}
	sunX, sunY, sunR := float64(w)*0.78, float64(h)*0.18, float64(h)*0.06

	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for wk := range workers {
		wg.Go(func() {
			nrng := rand.New(rand.NewPCG(uint64(wk), 99))
			for y := wk; y < h; y += workers {
				fy := float64(y)
				for x := range w {
					fx := float64(x)
					var c [3]float64
					if fy < horizon {
						t := fy / horizon
						c = [3]float64{70 + 120*t, 120 + 90*t, 210 + 30*t}
						cl := fbm(fx/500, fy/260)
						if cl > 0.55 {
							a := min((cl-0.55)*3, 1)
							for i := range c {
								c[i] = c[i]*(1-a) + 235*a
							}
						}
						if d := math.Hypot(fx-sunX, fy-sunY); d < sunR*4 {
							glow := math.Max(0, 1-d/(sunR*4))
							if d < sunR {
								glow = 1
							}
							c[0], c[1], c[2] = c[0]+(255-c[0])*glow, c[1]+(245-c[1])*glow, c[2]+(200-c[2])*glow
						}
					} else {
						t := (fy - horizon) / (float64(h) - horizon)
						tex := fbm(fx/90, fy/40)
						c = [3]float64{70 + 60*t + 60*tex, 100 + 40*t + 70*tex, 40 + 20*t + 30*tex}
					}
					for _, r := range rects {
						if x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1 {
							c = r.c
							// Windows: a grid of lighter panes.
							if (x-r.x0)%60 > 12 && (x-r.x0)%60 < 44 && (y-r.y0)%80 > 16 && (y-r.y0)%80 < 60 && x+20 < r.x1 {
								c = [3]float64{c[0] * 1.5, c[1] * 1.5, c[2] * 1.3}
							}
							// Shade towards the right edge.
							s := 1 - 0.35*float64(x-r.x0)/float64(r.x1-r.x0)
							c = [3]float64{c[0] * s, c[1] * s, c[2] * s}
						}
					}
					for _, d := range discs {
						if dist := math.Hypot(fx-d.x, fy-d.y); dist < d.r {
							// Lit from the upper left.
							l := 0.55 + 0.45*(1-math.Hypot(fx-(d.x-d.r*0.35), fy-(d.y-d.r*0.35))/(d.r*1.4))
							edge := min((d.r-dist)/2, 1) // a 2-pixel soft edge
							for i := range c {
								c[i] = c[i]*(1-edge) + d.c[i]*l*edge
							}
						}
					}
					// Sensor noise: luminance and a little chroma.
					ln := nrng.NormFloat64() * 5
					img.SetRGBA(x, y, color.RGBA{
						R: clamp(c[0] + ln + nrng.NormFloat64()*2),
						G: clamp(c[1] + ln + nrng.NormFloat64()*2),
						B: clamp(c[2] + ln + nrng.NormFloat64()*2),
						A: 255,
					})
				}
			}
		})
	}
	wg.Wait()
	return img
}

func clamp(v float64) uint8 { return uint8(min(max(math.Round(v), 0), 255)) }
