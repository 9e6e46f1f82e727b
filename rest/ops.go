package rest

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"satchel/internal/apperr"
)

// Pinger is anything whose reachability readiness depends on.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to Pinger.
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// Ops serves /healthz, /readyz and /metrics.
type Ops struct {
	Checks   map[string]Pinger
	Registry *prometheus.Registry
	// MetricsToken, when set, is required as "Authorization: Bearer
	// <token>" on /metrics.
	MetricsToken string
}

// Register mounts the routes on mux. They are for machines on the
// operator's side: no CORS, and no embedding by other origins.
func (o *Ops) Register(mux *http.ServeMux) {
	mux.Handle("GET /healthz", opsHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	mux.Handle("GET /readyz", opsHeaders(http.HandlerFunc(o.ready)))
	metrics := promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})
	mux.Handle("GET /metrics", opsHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.MetricsToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(o.MetricsToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				apperr.WriteJSON(w, r, apperr.New(apperr.Unauthenticated, "/metrics needs the metrics token (SATCHEL_METRICS_TOKEN) as a bearer token"))
				return
			}
		}
		metrics.ServeHTTP(w, r)
	})))
}

func opsHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func (o *Ops) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := http.StatusOK
	checks := map[string]string{}
	for name, p := range o.Checks {
		if err := p.Ping(ctx); err != nil {
			status = http.StatusServiceUnavailable
			checks[name] = "unreachable"
			continue
		}
		checks[name] = "ok"
	}
	state := "ready"
	if status != http.StatusOK {
		state = "not ready"
	}
	writeJSON(w, status, map[string]any{"status": state, "checks": checks})
}

// RegisterFallbacks answers unknown routes and wrong methods with the JSON
// error payload instead of the mux's plain text.
func RegisterFallbacks(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apperr.WriteJSON(w, r, apperr.New(apperr.NotFound, "no such route"))
	})
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			apperr.WriteJSON(w, r, apperr.New(apperr.MethodNotAllowed, "method not allowed on this route"))
		})
	}
}
