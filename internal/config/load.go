package config

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

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
	partSize := ""
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
	env("SATCHEL_S3_PART_SIZE", &partSize)
	if err := c.GraphQL.load(getenv); err != nil {
		return c, err
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (SATCHEL_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (SATCHEL_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres://... or sqlite path (DATABASE_URL)")
	fs.StringVar(&c.Storage, "storage", c.Storage, "byte store: file, or s3://BUCKET?endpoint=URL&region=R&prefix=P (SATCHEL_STORAGE)")
	fs.StringVar(&partSize, "s3-part-size", partSize, "size of the parts S3 uploads are buffered in, at least 5MiB (SATCHEL_S3_PART_SIZE)")
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
	if partSize != "" {
		if c.S3PartSize, err = ParseSize(partSize); err != nil {
			return c, fmt.Errorf("s3 part size: %w", err)
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
