// Package config holds Satchel's one configuration struct: every setting, its
// default, and where it comes from (a flag, else the environment, else the
// default). Validate checks it in one place.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole server configuration.
type Config struct {
	// Addr is the listen address. SATCHEL_ADDR, --addr; default localhost:8080.
	Addr string
	// DataDir holds the SQLite database, the filestore and bootstrap-keys.json.
	// SATCHEL_DATA_DIR, --data-dir; default ./data.
	DataDir string
	// DatabaseURL selects the database: postgres://... for PostgreSQL, or
	// sqlite://path / file:path for SQLite. DATABASE_URL, --database-url;
	// default: SQLite at $DataDir/satchel.db.
	DatabaseURL string
	// Storage selects the byte store. SATCHEL_STORAGE, --storage; default "file"
	// (tusd filestore under $DataDir/files).
	Storage string
	// PublicURL is the externally visible base URL used in fileUrl and upload
	// URLs. SATCHEL_PUBLIC_URL, --public-url; default http://{Addr}.
	PublicURL string
	// MaxUploadSize is the largest upload in bytes (0: no limit).
	// SATCHEL_MAX_UPLOAD_SIZE, --max-upload-size; accepts 10GiB, 500MB, 1048576.
	// Default 10 GiB.
	MaxUploadSize int64
	// UploadTTL is how long an unfinished upload lives before it is swept.
	// SATCHEL_UPLOAD_TTL, --upload-ttl; default 24h.
	UploadTTL time.Duration
	// LogLevel is debug, info, warn or error. SATCHEL_LOG_LEVEL; default info.
	LogLevel string
	// LogFormat is text or json. SATCHEL_LOG_FORMAT; default text.
	LogFormat string
	// Introspection and Playground may be turned off in production.
	// SATCHEL_INTROSPECTION, SATCHEL_PLAYGROUND; default true.
	Introspection bool
	Playground    bool
	// ShutdownTimeout bounds the graceful shutdown. SATCHEL_SHUTDOWN_TIMEOUT; default 25s.
	ShutdownTimeout time.Duration
	// MaxImagePixels is the largest image (width x height) transformations
	// decode; larger ones are refused with TOO_LARGE before decoding.
	// SATCHEL_MAX_IMAGE_PIXELS, --max-image-pixels; default 50000000.
	MaxImagePixels int64
	// MaxImageBytes is the largest image file transformations read.
	// SATCHEL_MAX_IMAGE_BYTES, --max-image-bytes; default 64MiB.
	MaxImageBytes int64
	// MaintenanceInterval is how often the reconciler and the sweeper run.
	// SATCHEL_MAINTENANCE_INTERVAL; default 1m.
	MaintenanceInterval time.Duration
	// StorageQuota is each account's storage quota in bytes, unless the
	// account has its own (`satchel accounts update --quota`); 0 for
	// none. SATCHEL_STORAGE_QUOTA, --storage-quota; default 1TiB.
	StorageQuota int64
	// MaxPendingUploads caps the unfinished uploads of each key (a key may
	// have a lower cap of its own); 0 for none. SATCHEL_MAX_PENDING_UPLOADS,
	// --max-pending-uploads; default 10000.
	MaxPendingUploads int
	// MetricsToken, when set, protects /metrics: scrapers send it as a
	// bearer token. SATCHEL_METRICS_TOKEN; default none.
	MetricsToken string
	// BodyIdleTimeout cuts a request body (routes other than tus) that sends
	// nothing for this long; bodies must also average 1 KiB/s after their
	// first 10 seconds. SATCHEL_BODY_IDLE_TIMEOUT; default 30s.
	BodyIdleTimeout time.Duration
	// MaxBodyReaders bounds the request bodies (routes other than tus) read
	// at once; others wait a second, then get 503. SATCHEL_MAX_BODY_READERS;
	// default 256.
	MaxBodyReaders int
	// GraphQL bounds what one GraphQL request may cost. Zero fields take
	// the defaults of package graph/transport (transport.Config documents
	// each).
	GraphQL GraphQLLimits
}

// GraphQLLimits are the GraphQL limits one may set from the environment:
// SATCHEL_GRAPHQL_MAX_BODY_BYTES (1MiB), _MAX_DOCUMENT_BYTES (64KiB),
// _MAX_TOKENS (15000), _MAX_FIELDS (5000), _MAX_ALIASES (500),
// _MAX_FIELD_PAIRS (10000), _MAX_DEPTH (12), _MAX_COMPLEXITY (50000),
// _MAX_COMPLEXITY_ANONYMOUS (10000).
type GraphQLLimits struct {
	MaxBodyBytes, MaxDocumentBytes                  int64
	MaxTokens, MaxFields, MaxAliases, MaxFieldPairs int
	MaxDepth, MaxComplexity, MaxComplexityAnonymous int
}

// Default returns the configuration with every default applied.
func Default() Config {
	return Config{
		Addr:                "localhost:8080",
		DataDir:             "./data",
		Storage:             "file",
		MaxUploadSize:       10 << 30,
		UploadTTL:           24 * time.Hour,
		LogLevel:            "info",
		LogFormat:           "text",
		Introspection:       true,
		Playground:          true,
		ShutdownTimeout:     25 * time.Second,
		MaintenanceInterval: time.Minute,
		MaxImagePixels:      50_000_000,
		MaxImageBytes:       64 << 20,
		StorageQuota:        1 << 40,
		MaxPendingUploads:   10_000,
		BodyIdleTimeout:     30 * time.Second,
		MaxBodyReaders:      256,
	}
}

// Load reads the configuration from args (flags win) and the environment
// lookup function (getenv is os.Getenv in production).
//
// extra registers a subcommand's own flags on the same flag set.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer, extra ...func(*flag.FlagSet)) (Config, error) {
	c := Default()
	env := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	env("SATCHEL_ADDR", &c.Addr)
	env("SATCHEL_DATA_DIR", &c.DataDir)
	env("DATABASE_URL", &c.DatabaseURL)
	env("SATCHEL_STORAGE", &c.Storage)
	env("SATCHEL_PUBLIC_URL", &c.PublicURL)
	env("SATCHEL_LOG_LEVEL", &c.LogLevel)
	env("SATCHEL_LOG_FORMAT", &c.LogFormat)
	env("SATCHEL_METRICS_TOKEN", &c.MetricsToken)
	maxSize, ttl, shutdown, maint, maxPixels, maxImage := "", "", "", "", "", ""
	introspection, playground, quota, pending, bodyIdle, bodyReaders := "", "", "", "", "", ""
	env("SATCHEL_MAX_UPLOAD_SIZE", &maxSize)
	env("SATCHEL_UPLOAD_TTL", &ttl)
	env("SATCHEL_SHUTDOWN_TIMEOUT", &shutdown)
	env("SATCHEL_MAINTENANCE_INTERVAL", &maint)
	env("SATCHEL_MAX_IMAGE_PIXELS", &maxPixels)
	env("SATCHEL_MAX_IMAGE_BYTES", &maxImage)
	env("SATCHEL_INTROSPECTION", &introspection)
	env("SATCHEL_PLAYGROUND", &playground)
	env("SATCHEL_STORAGE_QUOTA", &quota)
	env("SATCHEL_MAX_PENDING_UPLOADS", &pending)
	env("SATCHEL_BODY_IDLE_TIMEOUT", &bodyIdle)
	env("SATCHEL_MAX_BODY_READERS", &bodyReaders)
	if err := c.GraphQL.load(getenv); err != nil {
		return c, err
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (SATCHEL_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (SATCHEL_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres://... or sqlite path (DATABASE_URL)")
	fs.StringVar(&c.Storage, "storage", c.Storage, "byte store: file (SATCHEL_STORAGE)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "external base URL (SATCHEL_PUBLIC_URL)")
	fs.StringVar(&maxSize, "max-upload-size", maxSize, "largest upload, e.g. 10GiB (SATCHEL_MAX_UPLOAD_SIZE)")
	fs.StringVar(&ttl, "upload-ttl", ttl, "lifetime of unfinished uploads (SATCHEL_UPLOAD_TTL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug|info|warn|error (SATCHEL_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text|json (SATCHEL_LOG_FORMAT)")
	fs.StringVar(&maxPixels, "max-image-pixels", maxPixels, "largest image transformations decode, in pixels (SATCHEL_MAX_IMAGE_PIXELS)")
	fs.StringVar(&maxImage, "max-image-bytes", maxImage, "largest image file transformations read (SATCHEL_MAX_IMAGE_BYTES)")
	fs.StringVar(&introspection, "introspection", introspection, "GraphQL introspection on/off (SATCHEL_INTROSPECTION)")
	fs.StringVar(&playground, "playground", playground, "GraphQL playground on/off (SATCHEL_PLAYGROUND)")
	fs.StringVar(&quota, "storage-quota", quota, "each account's storage quota unless it has its own, e.g. 1TiB; 0 for none (SATCHEL_STORAGE_QUOTA)")
	fs.StringVar(&pending, "max-pending-uploads", pending, "unfinished uploads a key may have open; 0 for no cap (SATCHEL_MAX_PENDING_UPLOADS)")
	for _, f := range extra {
		f(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if maxSize != "" {
		if c.MaxUploadSize, err = ParseSize(maxSize); err != nil {
			return c, fmt.Errorf("max upload size: %w", err)
		}
	}
	if ttl != "" {
		if c.UploadTTL, err = time.ParseDuration(ttl); err != nil {
			return c, fmt.Errorf("upload ttl: %w", err)
		}
	}
	if shutdown != "" {
		if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil {
			return c, fmt.Errorf("shutdown timeout: %w", err)
		}
	}
	if maxPixels != "" {
		if c.MaxImagePixels, err = strconv.ParseInt(maxPixels, 10, 64); err != nil || c.MaxImagePixels <= 0 {
			return c, fmt.Errorf("max image pixels %q: want a positive integer", maxPixels)
		}
	}
	if maxImage != "" {
		if c.MaxImageBytes, err = ParseSize(maxImage); err != nil || c.MaxImageBytes <= 0 {
			return c, fmt.Errorf("max image bytes %q: want a positive size", maxImage)
		}
	}
	if maint != "" {
		if c.MaintenanceInterval, err = time.ParseDuration(maint); err != nil || c.MaintenanceInterval <= 0 {
			return c, fmt.Errorf("maintenance interval %q: want a positive duration", maint)
		}
	}
	if quota != "" {
		if c.StorageQuota, err = ParseSize(quota); err != nil {
			return c, fmt.Errorf("storage quota: %w", err)
		}
	}
	if pending != "" {
		if c.MaxPendingUploads, err = strconv.Atoi(pending); err != nil || c.MaxPendingUploads < 0 {
			return c, fmt.Errorf("max pending uploads %q: want a whole number, 0 for no cap", pending)
		}
	}
	if bodyIdle != "" {
		if c.BodyIdleTimeout, err = time.ParseDuration(bodyIdle); err != nil || c.BodyIdleTimeout <= 0 {
			return c, fmt.Errorf("body idle timeout %q: want a positive duration", bodyIdle)
		}
	}
	if bodyReaders != "" {
		if c.MaxBodyReaders, err = strconv.Atoi(bodyReaders); err != nil || c.MaxBodyReaders <= 0 {
			return c, fmt.Errorf("max body readers %q: want a positive number", bodyReaders)
		}
	}
	if introspection != "" {
		if c.Introspection, err = strconv.ParseBool(introspection); err != nil {
			return c, fmt.Errorf("introspection: %w", err)
		}
	}
	if playground != "" {
		if c.Playground, err = strconv.ParseBool(playground); err != nil {
			return c, fmt.Errorf("playground: %w", err)
		}
	}
	return c, c.Validate()
}

// Validate checks the configuration and fills in derived defaults.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("data dir must not be empty")
	}
	if c.Storage != "file" {
		return fmt.Errorf("storage %q: only \"file\" is supported", c.Storage)
	}
	if c.MaxUploadSize < 0 {
		return errors.New("max upload size must not be negative")
	}
	if c.UploadTTL < time.Minute {
		return errors.New("upload ttl must be at least 1m")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("public url %q must be an absolute http(s) URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if _, err := c.Level(); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	return nil
}

// Level parses LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("log level %q: %w", c.LogLevel, err)
	}
	return l, nil
}

// SQLitePath is the default database file.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "satchel.db") }

// FilesDir is where the filestore keeps bytes.
func (c *Config) FilesDir() string { return filepath.Join(c.DataDir, "files") }

// Logger builds the process logger.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	lvl, _ := c.Level()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ParseSize reads a byte count: a plain integer, or a number with one of the
// suffixes B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (1024).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n > 0 && mult > 1 && n > (1<<63-1)/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return n * mult, nil
}

func (g *GraphQLLimits) load(getenv func(string) string) error {
	for _, v := range []struct {
		name string
		size *int64
		n    *int
	}{
		{"SATCHEL_GRAPHQL_MAX_BODY_BYTES", &g.MaxBodyBytes, nil},
		{"SATCHEL_GRAPHQL_MAX_DOCUMENT_BYTES", &g.MaxDocumentBytes, nil},
		{"SATCHEL_GRAPHQL_MAX_TOKENS", nil, &g.MaxTokens},
		{"SATCHEL_GRAPHQL_MAX_FIELDS", nil, &g.MaxFields},
		{"SATCHEL_GRAPHQL_MAX_ALIASES", nil, &g.MaxAliases},
		{"SATCHEL_GRAPHQL_MAX_FIELD_PAIRS", nil, &g.MaxFieldPairs},
		{"SATCHEL_GRAPHQL_MAX_DEPTH", nil, &g.MaxDepth},
		{"SATCHEL_GRAPHQL_MAX_COMPLEXITY", nil, &g.MaxComplexity},
		{"SATCHEL_GRAPHQL_MAX_COMPLEXITY_ANONYMOUS", nil, &g.MaxComplexityAnonymous},
	} {
		raw := getenv(v.name)
		if raw == "" {
			continue
		}
		if v.size != nil {
			n, err := ParseSize(raw)
			if err != nil || n <= 0 {
				return fmt.Errorf("%s %q: want a positive size", v.name, raw)
			}
			*v.size = n
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s %q: want a positive number", v.name, raw)
		}
		*v.n = n
	}
	return nil
}
