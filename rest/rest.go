// Package rest is Satchel's plain-HTTP edge: one-shot uploads (POST
// /files/basic, POST /files/public/{uploadId}), delivery of files and their
// transformations, and the operator's routes (health, readiness, metrics).
// Errors go out as {"error":{"code","message","requestId"}}.
package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/images"
	"satchel/internal/storage"
	"satchel/internal/uploads"
	"satchel/models"
)

// Uploads is what the REST routes need of the upload use cases.
type Uploads interface {
	TicketPrincipal(ctx context.Context, uploadID string) (*auth.Principal, error)
	CheckSize(p *auth.Principal, size int64) error
	UploadBasic(ctx context.Context, p *auth.Principal, meta uploads.Meta, size int64, body io.Reader) (*models.File, error)
	ForDelivery(ctx context.Context, id string) (*models.File, storage.Object, error)
	FileURL(id string) string
}

// Images is what delivery needs of the transformation use cases.
type Images interface {
	Result(ctx context.Context, fileID, name string) (*models.File, *models.Transformation, *models.TransformJob, storage.Object, error)
}

var (
	_ Uploads = (*uploads.Service)(nil)
	_ Images  = (*images.Service)(nil)
)

// API serves the REST routes.
type API struct {
	Uploads Uploads
	Images  Images // nil: no transformations
}

// Register mounts the routes on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("/files/basic", methods{http.MethodPost: a.basicUpload})
	mux.Handle("/files/public/{uploadId}", methods{http.MethodPost: a.publicUpload})
	mux.Handle("/files/{fileId}", methods{http.MethodGet: a.serveFile, http.MethodHead: a.serveFile})
	mux.Handle("/files/{fileId}/{transformation}", methods{http.MethodGet: a.serveTransformed, http.MethodHead: a.serveTransformed})
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		apperr.WriteJSON(w, r, apperr.New(apperr.NotFound, "no such route"))
	})
}

// methods dispatches on the request method and answers others with 405.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	apperr.WriteJSON(w, r, apperr.New(apperr.MethodNotAllowed, "method not allowed on this route"))
}

type uploadResponse struct {
	FileID  string `json:"fileId"`
	FileURL string `json:"fileUrl"`
}

func (a *API) basicUpload(w http.ResponseWriter, r *http.Request) {
	p, err := auth.RequireUploader(r.Context())
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	a.upload(w, r, p)
}

// publicUpload is the one-shot upload a browser makes with an upload ID
// minted by its backend, and no key.
func (a *API) publicUpload(w http.ResponseWriter, r *http.Request) {
	p, err := a.Uploads.TicketPrincipal(r.Context(), r.PathValue("uploadId"))
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	a.upload(w, r, p)
}

func (a *API) upload(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if r.ContentLength >= 0 {
		if err := a.Uploads.CheckSize(p, r.ContentLength); err != nil {
			apperr.WriteJSON(w, r, err)
			return
		}
	}
	meta, err := uploads.ParseMeta(headerFileName(r.Header.Get("X-Upload-File-Name")), r.Header.Get("Content-Type"), r.Header.Get("X-Upload-Tags"))
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	f, err := a.Uploads.UploadBasic(r.Context(), p, meta, r.ContentLength, r.Body)
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, uploadResponse{FileID: f.ID, FileURL: a.Uploads.FileURL(f.ID)})
}

// headerFileName reads X-Upload-File-Name. Header values cannot carry
// UTF-8 from a browser, so a name may come percent-encoded
// (encodeURIComponent); a value that is not valid percent-encoding is taken
// as it is ("100%.txt").
func headerFileName(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
