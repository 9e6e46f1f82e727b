package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tus/tusd/v2/pkg/prometheuscollector"

	"satchel/internal/storage"
	"satchel/internal/uploads"
	"satchel/models"
)

// metrics is Satchel's Prometheus registry (served at /metrics) and the
// uploads' observer that counts finished files.
type metrics struct {
	reg   *prometheus.Registry
	files *prometheus.CounterVec
	bytes *prometheus.CounterVec
	aside prometheus.Counter
}

var _ uploads.Observer = (*metrics)(nil)

// newMetrics registers the process's collectors, the statement counter and
// the upload counters.
func newMetrics(a *App) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_files_finished_total", Help: "Uploads finished into files, by route.",
		}, []string{"source"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_file_bytes_total", Help: "Bytes of finished files, by route.",
		}, []string{"source"}),
		aside: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "satchel_reconcile_set_aside_total", Help: "Uploads the reconciler could not repair and set aside (see the log).",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_db_statements_total", Help: "SQL statements run.",
		}, func() float64 { return float64(a.Statements.Statements()) }),
		m.files, m.bytes, m.aside,
	)
	return m
}

// watch registers the counters of the services, once they exist.
func (m *metrics) watch(a *App) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_db_commits_total", Help: "Transactions run by the group commit of upload rows and files.",
		}, func() float64 { t, _ := a.Uploads.CommitStats(); return float64(t) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_db_commit_writes_total", Help: "Upload rows and files written by the group commit.",
		}, func() float64 { _, w := a.Uploads.CommitStats(); return float64(w) }),
		prometheuscollector.New(a.Tus.Metrics()),
	)
}

// watchSessions registers how the store computed the digests of multipart
// sessions: the bytes hashed as they streamed in, from parts held in
// memory and read back from the store, and the bytes held now.
func (m *metrics) watchSessions(store *storage.Store) {
	digest := func(how string, f func(storage.SessionStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "satchel_multipart_digest_bytes_total", ConstLabels: prometheus.Labels{"how": how},
			Help: "Bytes of multipart sessions hashed into their files' SHA-256: streamed (as they arrived), held (from parts held in memory), read_back (read from the store).",
		}, func() float64 { return float64(f(store.SessionStats())) })
	}
	m.reg.MustRegister(
		digest("streamed", func(s storage.SessionStats) int64 { return s.Streamed }),
		digest("held", func(s storage.SessionStats) int64 { return s.FromHeld }),
		digest("read_back", func(s storage.SessionStats) int64 { return s.ReadBack }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "satchel_multipart_held_bytes", Help: "Bytes of multipart parts held in memory until their session's digest reaches them.",
		}, func() float64 { return float64(store.SessionStats().Held) }),
	)
}

// UploadSetAside counts an upload the reconciler set aside.
func (m *metrics) UploadSetAside() { m.aside.Inc() }

// FileFinished counts f.
func (m *metrics) FileFinished(f *models.File, source string) {
	m.files.WithLabelValues(source).Inc()
	m.bytes.WithLabelValues(source).Add(float64(f.Size))
}
