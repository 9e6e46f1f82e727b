// Package tus is Satchel's tus 1.0.0 endpoint: tusd v2 as a library, with
// Satchel's authentication, metadata validation and finishing in its hooks.
package tus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	expslog "golang.org/x/exp/slog"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/internal/uploads"
	"satchel/models"
)

// Uploads is what the tus endpoint needs of the use cases.
type Uploads interface {
	Begin(ctx context.Context, p *auth.Principal, in uploads.BeginInput) (*models.Upload, error)
	FinishWritten(ctx context.Context, info handler.FileInfo) (*models.File, error)
	Pending(ctx context.Context, id string) (*models.Upload, error)
	Resumable(ctx context.Context, id string) (*models.Upload, error)
	TicketPrincipal(ctx context.Context, uploadID string) (*auth.Principal, error)
	Abort(ctx context.Context, id string)
	PutPart(ctx context.Context, uploadID string, length int64, body io.Reader) (etag string, err error)
	PartETag(ctx context.Context, uploadID string) (string, error)
	PartUpload(ctx context.Context, uploadID string) error
	FileURL(id string) string
}

// Config configures the endpoint.
type Config struct {
	// BasePath is where the endpoint is mounted, e.g. "/uploads/".
	BasePath string
	// PublicURL prefixes upload URLs (Location), e.g. https://files.example.com.
	PublicURL string
	Composer  *handler.StoreComposer
	Uploads   Uploads
	// MaxSize is the largest upload (0: none), advertised as Tus-Max-Size.
	MaxSize int64
	Log     *slog.Logger
}

// Handler is the mounted tus endpoint.
type Handler struct {
	tusd    *handler.Handler
	store   handler.DataStore
	uploads Uploads
	base    string
	// uploadBase is the upload URL prefix tusd cuts partial IDs from in
	// Upload-Concat.
	uploadBase string
	// extensions is Tus-Extension: tusd's and those Satchel adds.
	extensions string
	log        *slog.Logger
}

// The tus protocol version, the only one served.
const tusVersion = "1.0.0"

// Resumable sets Tus-Resumable on every response of next, which is the tus
// endpoint with whatever answers in front of it (the auth middleware's 401
// and 403): tus clients read it on every response, refusals included.
func Resumable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Tus-Resumable", tusVersion)
		next.ServeHTTP(w, r)
	})
}

// New builds the endpoint.
func New(cfg Config) (*Handler, error) {
	if !strings.HasSuffix(cfg.BasePath, "/") {
		cfg.BasePath += "/"
	}
	h := &Handler{store: cfg.Composer.Core, uploads: cfg.Uploads, base: cfg.BasePath, uploadBase: cfg.PublicURL + cfg.BasePath, log: cfg.Log}
	t, err := handler.NewHandler(handler.Config{
		StoreComposer:   cfg.Composer,
		BasePath:        cfg.PublicURL + cfg.BasePath,
		MaxSize:         cfg.MaxSize,
		DisableDownload: true, // Satchel serves bytes itself; tusd's GET holds the upload lock
		// One CORS layer only: rs/cors in front.
		Cors:                       &handler.CorsConfig{Disable: true},
		PreUploadCreateCallback:    h.preCreate,
		PreFinishResponseCallback:  h.preFinish,
		PreUploadTerminateCallback: h.preTerminate,
		Logger:                     expslog.New(tusdLog{h: cfg.Log.Handler()}),
	})
	if err != nil {
		return nil, fmt.Errorf("tusd: %w", err)
	}
	h.tusd = t
	// tusd implements neither: Satchel verifies Upload-Checksum (the store
	// checks each chunk) and sends Upload-Expires.
	h.extensions = t.SupportedExtensions() + ",checksum,expiration"
	return h, nil
}

// Metrics exposes tusd's counters for the Prometheus collector.
func (h *Handler) Metrics() handler.Metrics { return h.tusd.Metrics }

// ServeHTTP serves requests to BasePath, with or without its final slash,
// and below it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Tus-Resumable", tusVersion)
	rest, below := strings.CutPrefix(r.URL.Path, h.base)
	if !below {
		rest = "" // BasePath without its slash, or not the endpoint at all
	}
	if !below && r.URL.Path != strings.TrimSuffix(h.base, "/") || rest != "" && !ids.Valid(rest) {
		apperr.WriteJSON(w, r, apperr.New(apperr.NotFound, "upload not found"))
		return
	}
	method := r.Method
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" {
		method = o
	}
	if rest != "" && method == http.MethodPut {
		h.putPart(w, r, rest)
		return
	}
	// The version is checked first, as tusd does, so that Satchel's own
	// refusals below answer only requests in a version it speaks.
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodDelete:
		if r.Header.Get("Tus-Resumable") != tusVersion {
			w.Header().Set("Tus-Version", tusVersion)
			apperr.WriteJSON(w, r, errUnsupportedVersion)
			return
		}
	}
	if rest != "" && method == http.MethodDelete {
		// Refused here, not in the termination hook: a part may have no
		// tus upload for tusd to find.
		if up, err := h.uploads.Pending(r.Context(), rest); err == nil && up.SessionID != "" {
			apperr.WriteJSON(w, r, errDeletePart)
			return
		}
	}
	var created *creation
	if method == http.MethodPost || method == http.MethodPatch {
		checked, err := withChecksum(r)
		if err != nil {
			apperr.WriteJSON(w, r, err)
			return
		}
		if checked != r && method == http.MethodPost {
			// Should the first bytes fail their checksum, the answer still
			// names the upload they were meant for.
			created = &creation{}
			checked = checked.WithContext(context.WithValue(checked.Context(), creationKey{}, created))
		}
		r = checked
	}
	if rest != "" && method == http.MethodPatch && r.Header.Get("Upload-Length") != "" {
		h.dropDeclaredLength(r, rest)
	}
	var guard *bodyGuard
	if rest != "" && (method == http.MethodHead || method == http.MethodPatch) {
		up, err := h.uploads.Resumable(r.Context(), rest)
		if err != nil && method == http.MethodPatch && apperr.CodeOf(err) != apperr.NotFound {
			// Another upload spent this one's upload ID, or it was revoked:
			// it can never finish.
			apperr.WriteJSON(w, r, err)
			return
		}
		if up != nil && up.SessionID != "" {
			// A part of a multipart session gets its tus upload when its
			// URL is first used over tus (a part sent with PUT has none).
			if err := h.uploads.PartUpload(r.Context(), rest); err != nil {
				apperr.WriteJSON(w, r, err)
				return
			}
		}
		if up != nil {
			w.Header().Set("Upload-Expires", time.UnixMicro(up.ExpiresAt).UTC().Format(http.TimeFormat))
		}
		if up != nil && method == http.MethodPatch {
			offset, _ := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64) // tusd checks it against the upload's
			if err := checkBound(up, r, offset); err != nil {
				apperr.WriteJSON(w, r, err)
				return
			}
			whole := offset == 0 && r.ContentLength >= 0 && (r.ContentLength == up.Size || r.Header.Get("Upload-Length") == strconv.FormatInt(r.ContentLength, 10))
			guard = &bodyGuard{src: r.Body, ctx: r.Context(), up: up, offset: offset, whole: whole}
			r.Body = guard
		}
	}
	if rest == "" && method == http.MethodPost && r.Body != nil && r.Body != http.NoBody {
		// Creation with upload: the creation hook fills the guard in.
		guard = &bodyGuard{src: r.Body}
		r = r.WithContext(context.WithValue(r.Context(), guardKey{}, guard))
		guard.ctx, guard.req = r.Context(), r
		r.Body = guard
	}
	if rest == "" && method == http.MethodPost {
		if err := h.checkConcat(r.Context(), r.Header.Get("Upload-Concat")); err != nil {
			apperr.WriteJSON(w, r, err)
			return
		}
	}
	ew := &errorRewriter{ResponseWriter: w, req: r, header: func(hdr http.Header, status int) {
		switch {
		case r.Method == http.MethodOptions && status < 300:
			hdr.Set("Tus-Extension", h.extensions)
			hdr.Set("Tus-Checksum-Algorithm", checksumAlgorithmList)
		case status == http.StatusPreconditionFailed:
			hdr.Set("Tus-Version", tusVersion)
		case status == apperr.StatusChecksumMismatch && created != nil && created.location != "":
			// Created, but its first bytes were refused: the client may
			// send them again to the new upload.
			hdr.Set("Location", created.location)
		}
	}}
	http.StripPrefix(strings.TrimSuffix(h.base, "/"), h.tusd).ServeHTTP(ew, r)
	ew.finish()
	guard.dropRefused(h.uploads)
	if guard != nil && guard.req != nil && guard.up != nil && ew.status >= 400 && ew.status != apperr.StatusChecksumMismatch {
		// A creation whose bytes were refused answered no Location: its
		// upload is nobody's to resume. (A checksum mismatch answers the
		// Location, so that the client sends its bytes again.)
		h.uploads.Abort(context.WithoutCancel(r.Context()), guard.up.ID)
	}
	if rest != "" && method == http.MethodDelete && ew.status == http.StatusNoContent {
		h.uploads.Abort(context.WithoutCancel(r.Context()), rest)
	}
}

var errDeletePart = apperr.New(apperr.Forbidden, "a part of a multipart upload is replaced with PUT, not deleted")

var errUnsupportedVersion = apperr.Newf(apperr.UnsupportedVersion, "Tus-Resumable must be %s", tusVersion)
