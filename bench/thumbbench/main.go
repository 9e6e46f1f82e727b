// Command thumbbench measures how long Satchel takes to make a thumbnail of
// a 12-megapixel photo, against the vipsthumbnail command of the same libvips
// and against a pure-Go resize (github.com/disintegration/imaging), on the
// same machine, in one run. It prints figures and ratios next to the goals
// and never asserts on time.
//
// It is started by bench/thumb.sh, which builds and starts Satchel (fresh
// data dir) and passes its URL, data dir and process ID. The measures, each
// the median (and p90) of -n samples, taken in rotation so that drift of the
// machine hits each alike:
//
//	(a) Satchel's first render: the photo is uploaded as a new file with
//	    POST /files/basic as application/octet-stream (no image/* type, so
//	    no render job is written at upload: internal/images InFinish/IsImage),
//	    then GET /files/<id>/thumb renders the preset (256x256 INSIDE, WEBP)
//	    on demand; the GET is timed end to end over loopback;
//	(b) `vipsthumbnail photo.jpg -s 256 -o out.webp[Q=80]`: the process, end
//	    to end; also one invocation on -batch copies divided by -batch (no
//	    process start-up), and the process with VIPS_CONCURRENCY=1 (Satchel
//	    gives libvips one thread per render);
//	(c) imaging v1.6.2: decode the JPEG, imaging.Fit to 256x256 (Lanczos),
//	    encode JPEG q80 (Go has no WebP encoder);
//	(d) a cached hit: GET /files/<id>/thumb of a rendered file, -hits times.
//
// Correctness is checked on the way: every thumbnail is 256x192 (WebP from
// Satchel and vipsthumbnail, JPEG from imaging); before each timed GET the
// file's mime is application/octet-stream and its transformation is not
// READY (GraphQL), after it the transformation is READY at 256x192.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"satchel/bench/internal/benchkit"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"
)

const (
	photoW, photoH = 4000, 3000
	thumbBox       = 256
	wantW, wantH   = 256, 192 // 4000x3000 inside 256x256
	webpQuality    = 80       // Satchel's default quality (transforms.DefaultQuality)
	jpegQuality    = 80       // imaging's output
	presetName     = "thumb"
)

type options struct {
	url, data   string
	pid         int
	image       string
	n, hits     int
	batch       int
	batchRuns   int
	work        string
	md          string
	mode        string
	nproc       string
	satchelRev  string
	vipsCommand string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "Satchel's base URL, e.g. http://127.0.0.1:18580")
	flag.StringVar(&o.data, "data", "", "Satchel's data dir (for bootstrap-keys.json)")
	flag.IntVar(&o.pid, "pid", 0, "Satchel's process ID (for its CPU time)")
	flag.StringVar(&o.image, "image", "bench/out/photo-12mp.jpg", "the 12-megapixel JPEG (generated if missing)")
	flag.IntVar(&o.n, "n", 15, "samples of (a), (b) and (c)")
	flag.IntVar(&o.hits, "hits", 200, "samples of (d)")
	flag.IntVar(&o.batch, "batch", 15, "copies of the photo in one vipsthumbnail invocation")
	flag.IntVar(&o.batchRuns, "batch-runs", 5, "runs of the batch invocation")
	flag.StringVar(&o.work, "work", "bench/out/thumb-work", "scratch dir for vipsthumbnail's inputs and outputs")
	flag.StringVar(&o.md, "md", "bench/out/thumb-results.md", "where to write the Markdown results")
	flag.StringVar(&o.mode, "mode", "full", "label of the run: full or quick")
	flag.StringVar(&o.nproc, "nproc", strconv.Itoa(runtime.NumCPU()), "CPU count to report (`nproc`)")
	flag.StringVar(&o.satchelRev, "satchel-rev", "", "Satchel revision to report")
	flag.StringVar(&o.vipsCommand, "vipsthumbnail", "vipsthumbnail", "the vipsthumbnail command")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "thumbbench:", err)
		os.Exit(1)
	}
}

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

// --- the photo ---------------------------------------------------------------

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

// --- Satchel -------------------------------------------------------------------

type satchel struct {
	base           string
	pid            int
	public, secret string
	client         *http.Client
}

func newSatchel(o options) (*satchel, error) {
	var keys struct{ PublicKey, SecretKey string }
	raw, err := os.ReadFile(filepath.Join(o.data, "bootstrap-keys.json"))
	if err != nil {
		return nil, fmt.Errorf("satchel keys: %w", err)
	}
	if err := json.Unmarshal(raw, &keys); err != nil || keys.PublicKey == "" || keys.SecretKey == "" {
		return nil, fmt.Errorf("satchel keys: no publicKey/secretKey in bootstrap-keys.json (%v)", err)
	}
	if _, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.pid)); err != nil {
		return nil, fmt.Errorf("satchel pid %d: %w", o.pid, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true, WriteBufferSize: 64 << 10}
	return &satchel{base: strings.TrimSuffix(o.url, "/"), pid: o.pid, public: keys.PublicKey, secret: keys.SecretKey, client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}, nil
}

func (s *satchel) graphql(key, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("graphql: status %d: %w", resp.StatusCode, err)
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("graphql: %s", env.Errors[0].Message)
	}
	return json.Unmarshal(env.Data, out)
}

func (s *satchel) createPreset() error {
	var out struct {
		CreateTransformation struct {
			Name          string
			Width, Height int
			Fit, Format   string
		}
	}
	err := s.graphql(s.secret, fmt.Sprintf(`mutation { createTransformation(input: {name: %q, width: %d, height: %d, fit: INSIDE, format: WEBP}) { name width height fit format } }`,
		presetName, thumbBox, thumbBox), nil, &out)
	if err != nil {
		return err
	}
	if t := out.CreateTransformation; t.Name != presetName || t.Width != thumbBox || t.Height != thumbBox || t.Fit != "INSIDE" || t.Format != "WEBP" {
		return fmt.Errorf("unexpected preset %+v", t)
	}
	return nil
}

// upload stores data as a new file, as application/octet-stream.
func (s *satchel) upload(data []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, s.base+"/files/basic", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.public)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Upload-File-Name", "photo.jpg")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /files/basic: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var out struct{ FileID string }
	if err := json.Unmarshal(body, &out); err != nil || out.FileID == "" {
		return "", fmt.Errorf("POST /files/basic: no fileId in %s", body)
	}
	return out.FileID, nil
}

type transformed struct {
	Status        string
	Width, Height *int
	Mime          *string
}

func (s *satchel) state(id string) (mime string, t *transformed, err error) {
	var out struct {
		File *struct {
			Mime           string
			Transformation *transformed
		}
	}
	err = s.graphql(s.secret, `query($id: ID!, $t: String!) { file(id: $id) { mime transformation(name: $t) { status width height mime } } }`,
		map[string]any{"id": id, "t": presetName}, &out)
	if err != nil {
		return "", nil, err
	}
	if out.File == nil || out.File.Transformation == nil {
		return "", nil, fmt.Errorf("file %s or its transformation not found", id)
	}
	return out.File.Mime, out.File.Transformation, nil
}

// get fetches the file's thumbnail and returns its body.
func (s *satchel) get(id string) ([]byte, error) {
	resp, err := s.client.Get(s.base + "/files/" + id + "/" + presetName)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /files/%s/%s: status %d: %s", id, presetName, resp.StatusCode, bytes.TrimSpace(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/webp" {
		return nil, fmt.Errorf("GET /files/%s/%s: Content-Type %q, want image/webp", id, presetName, ct)
	}
	return body, nil
}

type renderSample struct {
	id          string
	upload, get time.Duration
	cpu         time.Duration // the server's CPU time during the GET
	size        int
}

// firstRender uploads src as a new file and times the GET that renders its
// thumbnail.
func (s *satchel) firstRender(src []byte) (renderSample, error) {
	var r renderSample
	start := time.Now()
	id, err := s.upload(src)
	if err != nil {
		return r, err
	}
	r.id, r.upload = id, time.Since(start)
	mt, t, err := s.state(id)
	if err != nil {
		return r, err
	}
	if mt != "application/octet-stream" || t.Status == "READY" {
		return r, fmt.Errorf("file %s before the GET: mime %q, thumbnail %s; want application/octet-stream and no result yet (an eager render would spoil the measure)", id, mt, t.Status)
	}
	cpu0 := benchkit.CPUTime(strconv.Itoa(s.pid))
	start = time.Now()
	body, err := s.get(id)
	r.get = time.Since(start)
	r.cpu = benchkit.CPUTime(strconv.Itoa(s.pid)) - cpu0
	if err != nil {
		return r, err
	}
	if err := checkWebP(body); err != nil {
		return r, fmt.Errorf("satchel: %w", err)
	}
	r.size = len(body)
	if _, t, err = s.state(id); err != nil {
		return r, err
	}
	if t.Status != "READY" || t.Width == nil || *t.Width != wantW || *t.Height != wantH {
		return r, fmt.Errorf("file %s after the GET: thumbnail %+v, want READY %dx%d", id, t, wantW, wantH)
	}
	return r, nil
}

// cachedHits GETs the rendered thumbnail of id n times, one at a time.
func (s *satchel) cachedHits(id string, n, size int) ([]time.Duration, error) {
	if id == "" {
		return nil, errors.New("no rendered file")
	}
	for range 10 { // warm-up
		if _, err := s.get(id); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		body, err := s.get(id)
		d := time.Since(start)
		if err != nil {
			return nil, err
		}
		if len(body) != size {
			return nil, fmt.Errorf("cached hit: %d bytes, want %d", len(body), size)
		}
		out = append(out, d)
	}
	return out, nil
}

func checkWebP(data []byte) error {
	c, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("thumbnail is not a WebP: %w", err)
	}
	if c.Width != wantW || c.Height != wantH {
		return fmt.Errorf("thumbnail is %dx%d, want %dx%d", c.Width, c.Height, wantW, wantH)
	}
	return nil
}

// --- vipsthumbnail --------------------------------------------------------------

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

// --- imaging ----------------------------------------------------------------------

// imagingOnce decodes src, fits it into 256x256 with Lanczos and encodes a
// JPEG at q80 (Go has no WebP encoder).
func imagingOnce(src []byte) (time.Duration, error) {
	start := time.Now()
	img, err := imaging.Decode(bytes.NewReader(src))
	if err != nil {
		return 0, err
	}
	tn := imaging.Fit(img, thumbBox, thumbBox, imaging.Lanczos)
	var b bytes.Buffer
	if err := imaging.Encode(&b, tn, imaging.JPEG, imaging.JPEGQuality(jpegQuality)); err != nil {
		return 0, err
	}
	d := time.Since(start)
	c, err := jpeg.DecodeConfig(bytes.NewReader(b.Bytes()))
	if err != nil {
		return 0, err
	}
	if c.Width != wantW || c.Height != wantH {
		return 0, fmt.Errorf("imaging thumbnail is %dx%d, want %dx%d", c.Width, c.Height, wantW, wantH)
	}
	return d, nil
}

// --- machine ---------------------------------------------------------------------

// --- report -------------------------------------------------------------------------

type report struct {
	opts        options
	started     time.Time
	wall        time.Duration
	load        [2]string
	photoBytes  int
	thumbBytes  int
	vipsVersion string

	satchel, satchelCPU, upload []time.Duration
	vips, vipsCPU               []time.Duration
	vips1, vips1CPU             []time.Duration
	vipsBatch                   []time.Duration
	imaging                     []time.Duration
	hits                        []time.Duration
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// p90 is the nearest-rank 90th percentile.
func p90(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(math.Ceil(0.9*float64(len(s))))-1]
}

type row struct{ measure, median, p90, note string }

func (r *report) rows() []row {
	o := r.opts
	f := func(v []time.Duration, prec int) (string, string) {
		return strconv.FormatFloat(ms(median(v)), 'f', prec, 64), strconv.FormatFloat(ms(p90(v)), 'f', prec, 64)
	}
	var rows []row
	add := func(m string, v []time.Duration, prec int, note string) {
		a, b := f(v, prec)
		rows = append(rows, row{m, a, b, note})
	}
	add(fmt.Sprintf("(a) Satchel first render: GET /files/<id>/thumb, on demand (n=%d)", len(r.satchel)), r.satchel, 1,
		fmt.Sprintf("WebP Q%d, %d bytes; libvips in process, 1 thread per render", webpQuality, r.thumbBytes))
	add("    server CPU time during that GET", r.satchelCPU, 0, "from /proc/<pid>/stat, 10 ms ticks")
	add("    (not timed) the upload before it: POST /files/basic", r.upload, 1, fmt.Sprintf("%.1f MB, application/octet-stream", float64(r.photoBytes)/1e6))
	add(fmt.Sprintf("(b) vipsthumbnail process, -s 256 -o out.webp[Q=%d] (n=%d)", webpQuality, len(r.vips)), r.vips, 1, "end to end: fork/exec, libvips start-up, render, write")
	add("    its CPU time (user+sys)", r.vipsCPU, 0, "")
	add(fmt.Sprintf("    per image, one invocation on %d copies (n=%d invocations)", o.batch, len(r.vipsBatch)), r.vipsBatch, 1, "no process start-up: invocation time / "+strconv.Itoa(o.batch))
	add(fmt.Sprintf("    process with VIPS_CONCURRENCY=1 (n=%d)", len(r.vips1)), r.vips1, 1, "one libvips thread, as Satchel renders")
	add("    its CPU time (user+sys)", r.vips1CPU, 0, "")
	add(fmt.Sprintf("(c) imaging v1.6.2: decode, Fit 256x256 Lanczos, JPEG q%d (n=%d)", jpegQuality, len(r.imaging)), r.imaging, 1, "pure Go, in process; JPEG since Go has no WebP encoder")
	add(fmt.Sprintf("(d) cached hit: GET /files/<id>/thumb of a rendered file (n=%d)", len(r.hits)), r.hits, 3, "")
	return rows
}

type ratioRow struct{ what, value, goal, met string }

func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2fx", float64(a)/float64(b)) }

func (r *report) ratios() []ratioRow {
	sat, vips, vb, v1, img, hit := median(r.satchel), median(r.vips), median(r.vipsBatch), median(r.vips1), median(r.imaging), median(r.hits)
	return []ratioRow{
		{"Satchel first render / vipsthumbnail process", ratio(sat, vips), "<= 1.3x", benchkit.Yes(float64(sat) <= 1.3*float64(vips))},
		{"Satchel first render / vipsthumbnail per image without start-up", ratio(sat, vb), "", ""},
		{"Satchel first render / vipsthumbnail process, VIPS_CONCURRENCY=1", ratio(sat, v1), "", ""},
		{"imaging / Satchel first render", ratio(img, sat), "", ""},
		{"cached hit, median", fmt.Sprintf("%.3f ms", ms(hit)), "< 2 ms", benchkit.Yes(hit < 2*time.Millisecond)},
	}
}

func (r *report) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tmedian ms\tp90 ms\tnote")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.measure, x.median, x.p90, x.note)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio (of medians)\tvalue\tgoal\tmet")
	for _, x := range r.ratios() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.what, x.value, x.goal, x.met)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmachine: nproc %s; load average %s at the start, %s at the end; run took %.0f s\n", r.opts.nproc, r.load[0], r.load[1], r.wall.Seconds())
}

func (r *report) markdown() string {
	o := r.opts
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "# Thumbnail benchmark: Satchel vs vipsthumbnail vs imaging\n\n")
	fmt.Fprintf(&b, "Produced by `bench/thumb.sh` (`make bench-thumb`, mode: %s). Everything ran on this machine, in one run,\n", o.mode)
	fmt.Fprintf(&b, "samples of (a), (b) and (c) taken in rotation. The figures are what one run printed; they are not assertions.\n\n")
	fmt.Fprintf(&b, "- date: %s\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- `nproc`: %s; CPU: %s; kernel %s; %s\n", o.nproc, benchkit.CPUModel(), strings.TrimSpace(string(kernel)), runtime.Version())
	fmt.Fprintf(&b, "- load average %s at the start, %s at the end; the run took %.0f s\n", r.load[0], r.load[1], r.wall.Seconds())
	fmt.Fprintf(&b, "- satchel %s (SQLite + filestore, `SATCHEL_LOG_LEVEL=warn`, fresh data dir); %s (vipsthumbnail uses the same)\n", o.satchelRev, r.vipsVersion)
	fmt.Fprintf(&b, "- input: a generated %dx%d photo-like JPEG (sky gradient and clouds, textured ground, buildings, shaded discs, sensor noise), quality 90, %.2f MB\n", photoW, photoH, float64(r.photoBytes)/1e6)
	fmt.Fprintf(&b, "- output: %dx%d (inside %dx%d); preset `{name: \"thumb\", width: 256, height: 256, fit: INSIDE, format: WEBP}` (Q%d by default)\n\n", wantW, wantH, thumbBox, thumbBox, webpQuality)
	fmt.Fprintln(&b, "| measure | median, ms | p90, ms | note |")
	fmt.Fprintln(&b, "|---|---:|---:|---|")
	for _, x := range r.rows() {
		m := x.measure
		if strings.HasPrefix(m, "    ") {
			m = "&nbsp;&nbsp;" + strings.TrimSpace(m)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m, x.median, x.p90, x.note)
	}
	fmt.Fprintln(&b, "\n| ratio (of medians) | value | goal | met |")
	fmt.Fprintln(&b, "|---|---:|---|---|")
	for _, x := range r.ratios() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.what, x.value, x.goal, x.met)
	}
	fmt.Fprintln(&b, "\nEvery sample, in ms (in order):")
	fmt.Fprintln(&b)
	list := func(name string, v []time.Duration) {
		s := make([]string, len(v))
		for i, d := range v {
			s[i] = strconv.FormatFloat(ms(d), 'f', 1, 64)
		}
		fmt.Fprintf(&b, "- %s: %s\n", name, strings.Join(s, ", "))
	}
	list("(a) Satchel first render", r.satchel)
	list("(a) server CPU during it", r.satchelCPU)
	list("(b) vipsthumbnail process", r.vips)
	list("(b) per image in one invocation on "+strconv.Itoa(o.batch)+" copies", r.vipsBatch)
	list("(b) vipsthumbnail process, VIPS_CONCURRENCY=1", r.vips1)
	list("(c) imaging", r.imaging)
	fmt.Fprintf(&b, `
Notes:
- (a) uploads the photo as a new file with `+"`POST /files/basic`"+` and `+"`Content-Type: application/octet-stream`"+`:
  render jobs are only written at upload for image/* files (internal/images InFinish/IsImage), so
  nothing renders before the GET. Each sample checks this through GraphQL (mime
  application/octet-stream, transformation not READY) and, after the GET, that the result is
  READY at 256x192. The timed GET, over loopback on a kept-alive connection, covers reading the
  original from storage, the header check, the render, storing the result, the job row and
  the response. The upload itself is not timed in (a); its median is shown for context.
- (b) is `+"`vipsthumbnail photo.jpg -s 256 -o out.webp[Q=%d]`"+`: Satchel's default WebP quality made
  explicit (vipsthumbnail's own default is Q75). "Per image without start-up" is one
  vipsthumbnail invocation on %d hard links to the photo divided by %d: libvips and process
  start-up paid once. vipsthumbnail uses nproc libvips threads by default; Satchel sets one
  libvips thread per render (it runs nproc renders at once instead), hence the
  VIPS_CONCURRENCY=1 row.
- (c) is github.com/disintegration/imaging v1.6.2 from a []byte in memory: imaging.Decode
  (image/jpeg), imaging.Fit(256, 256, Lanczos), imaging.Encode JPEG q%d. It decodes every
  pixel of the 12-megapixel image; libvips shrinks on load (the JPEG decoder's 1/8 scale).
- (d) GETs the rendered thumbnail of one file %d times in a row on one connection, after
  10 unmeasured GETs.
- Two unmeasured warm-up samples of each of (a), (b) and (c) come first.
`, webpQuality, o.batch, o.batch, jpegQuality, o.hits)
	return b.String()
}
