// Package httpapi is Satchel's plain-HTTP edge: one-shot uploads, delivery
// of files, health, readiness and metrics, and the CORS policy. Errors go out
// as {"error":{"code","message"}}.
package httpapi

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/images"
	"satchel/internal/uploads"
	"satchel/models"
)

// API serves the REST routes.
type API struct {
	Uploads *uploads.Service
	Images  *images.Service
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

// Disposition is how a stored type is delivered: inline only for the types
// a browser shows without running anything of the file's (images but SVG,
// audio, video, plain text, PDF, JSON); every other type (HTML, SVG,
// JavaScript, the whole XML family, unknown types) is an attachment, so an
// upload never runs script on Satchel's origin, whatever type it claims.
func Disposition(mimeType string) string {
	base, _, _ := strings.Cut(mimeType, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	typ, sub, _ := strings.Cut(base, "/")
	if strings.HasSuffix(sub, "+xml") || strings.Contains(sub, "xml") || strings.Contains(sub, "script") || strings.Contains(sub, "html") {
		return "attachment"
	}
	switch {
	case typ == "image" || typ == "audio" || typ == "video":
		return "inline"
	case base == "text/plain", base == "text/csv", base == "application/pdf", base == "application/json":
		return "inline"
	}
	return "attachment"
}

func (a *API) serveFile(w http.ResponseWriter, r *http.Request) {
	f, obj, err := a.Uploads.ForDelivery(r.Context(), r.PathValue("fileId"))
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", f.Mime)
	h.Set("ETag", `"`+f.SHA256+`"`)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Content-Disposition", ContentDisposition(Disposition(f.Mime), f.Name))
	http.ServeContent(w, r, "", models.Time(f.UploadedAt), obj)
}

// ContentDisposition formats a Content-Disposition header whose filename is
// safely encoded: ASCII names quoted, others as RFC 2231/5987 filename*.
func ContentDisposition(disposition, name string) string {
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": name}); v != "" {
		return v
	}
	return disposition
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serveTransformed serves a named transformation of a file, rendering it on
// first request. Query parameters change nothing about the result; the API
// hands out URLs with ?v=<version>, which may be cached for good.
func (a *API) serveTransformed(w http.ResponseWriter, r *http.Request) {
	if a.Images == nil {
		apperr.WriteJSON(w, r, apperr.New(apperr.NotFound, "no such route"))
		return
	}
	f, p, j, obj, err := a.Images.Result(r.Context(), r.PathValue("fileId"), r.PathValue("transformation"))
	if err != nil {
		apperr.WriteJSON(w, r, err)
		return
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", j.Mime)
	h.Set("ETag", fmt.Sprintf(`"%s-%s-v%d"`, f.SHA256[:16], p.Name, p.Version))
	if r.URL.Query().Get("v") == strconv.Itoa(p.Version) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=86400")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Content-Disposition", ContentDisposition("inline", transformedName(f.Name, p.Name, j.Mime)))
	http.ServeContent(w, r, "", models.Time(j.UpdatedAt), obj)
}

// transformedName names a result after its original and preset.
func transformedName(name, preset, mt string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	ext := ""
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		ext = exts[len(exts)-1]
	}
	switch mt {
	case "image/jpeg":
		ext = ".jpg"
	case "image/webp":
		ext = ".webp"
	case "image/avif":
		ext = ".avif"
	}
	return base + "-" + preset + ext
}
