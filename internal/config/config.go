// Package config holds Satchel's one configuration struct: every setting, its
// default, and where it comes from (a flag, else the environment, else the
// default). Validate checks it in one place.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
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
	// (tusd filestore under $DataDir/files), or an S3 bucket:
	// s3://BUCKET?endpoint=URL&region=R&prefix=P (endpoint for S3-compatible
	// servers, addressed path-style; credentials from the AWS environment).
	Storage string
	// S3 is Storage parsed when it names a bucket (nil for "file"); Validate
	// fills it in.
	S3 *S3
	// S3PartSize is the size of the parts an S3 upload is buffered in on
	// disk and sent to S3 as (at least 5MiB). SATCHEL_S3_PART_SIZE,
	// --s3-part-size; default 16MiB. It bounds what an upload being written
	// holds: on disk, under $TMPDIR/satchel-s3/<pid>, at most 4 parts
	// waiting plus the one being filled (5 x 16 MiB = 80 MiB by default),
	// plus the parts on their way to S3, at most 10 across the process
	// (160 MiB); a PATCH carrying Upload-Checksum is also spooled there
	// first, up to what is left of its upload. Memory stays small: parts
	// are files, not buffers.
	S3PartSize int64
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
		S3PartSize:          DefaultS3PartSize,
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

// Validate checks the configuration and fills in derived defaults.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("data dir must not be empty")
	}
	s3, err := ParseStorage(c.Storage)
	if err != nil {
		return err
	}
	c.S3 = s3
	if c.S3PartSize < MinS3PartSize || c.S3PartSize > maxS3PartSize {
		return fmt.Errorf("s3 part size %d: want 5MiB to 5GiB (S3's part sizes)", c.S3PartSize)
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
