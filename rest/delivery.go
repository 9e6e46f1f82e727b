package rest

import (
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"satchel/internal/apperr"
	"satchel/models"
)

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
