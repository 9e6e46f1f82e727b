package tus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"

	"satchel/internal/apperr"
	"satchel/internal/auth"
	"satchel/internal/ids"
	"satchel/internal/uploads"
)

func (h *Handler) preCreate(ev handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	if err := checkMetadata(ev.HTTPRequest.Header.Get("Upload-Metadata")); err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, err)
	}
	md := ev.Upload.MetaData
	// An upload ID in the metadata authorises the upload by itself: the
	// browser that holds it holds no key.
	p := auth.FromContext(ev.Context)
	if uploadID, ok := md["uploadId"]; ok {
		var err error
		if p, err = h.uploads.TicketPrincipal(ev.Context, uploadID); err != nil {
			return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, err)
		}
	}
	if p == nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, auth.ErrUnauthenticated)
	}
	meta, err := metaOf(md)
	if err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, err)
	}
	in := uploads.BeginInput{Meta: meta, Size: ev.Upload.Size, Partial: ev.Upload.IsPartial}
	if ev.Upload.SizeIsDeferred {
		in.Size = -1
	}
	if ev.Upload.IsFinal {
		in.PartialIDs = ev.Upload.PartialUploads
	}
	up, err := h.uploads.Begin(ev.Context, p, in)
	if err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, err)
	}
	if g := guardOf(ev.Context); g != nil {
		// Creation with upload: its body is bound by the new upload's limits.
		cl := g.req.ContentLength
		if err := checkBound(up, g.req, 0); err != nil {
			h.uploads.Abort(context.WithoutCancel(ev.Context), up.ID)
			return handler.HTTPResponse{}, handler.FileInfoChanges{}, hookError(ev.Context, err)
		}
		g.up, g.whole = up, cl >= 0 && cl == up.Size
	}
	if c, ok := ev.Context.Value(creationKey{}).(*creation); ok {
		c.location = h.uploadBase + up.ID
	}
	resp := handler.HTTPResponse{Header: handler.HTTPHeader{
		"Upload-Expires": time.UnixMicro(up.ExpiresAt).UTC().Format(http.TimeFormat),
	}}
	// The metadata is kept whole, as the client sent it, for HEAD.
	return resp, handler.FileInfoChanges{ID: up.ID}, nil
}

// creation is what a creation request learns on its way through tusd.
type creation struct {
	// location is the new upload's URL, once it has one.
	location string
}

type creationKey struct{}

// checkConcat refuses a final Upload-Concat that names anything but known
// uploads before tusd turns the names into store paths (tusd would read
// "<files>/../../x.info" for a part URL ending in ../../x). Unknown parts
// answer like checkPartials: NOT_FOUND.
func (h *Handler) checkConcat(ctx context.Context, header string) error {
	list, ok := strings.CutPrefix(header, "final;")
	if !ok {
		return nil
	}
	errUnknown := apperr.New(apperr.NotFound, "Upload-Concat names an unknown upload")
	p := auth.FromContext(ctx)
	// Split as tusd does: on single spaces, trimmed, empty values skipped.
	for _, u := range strings.Split(list, " ") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		_, id, found := strings.Cut(u, h.uploadBase)
		id = strings.Trim(id, "/")
		if !found || !ids.Valid(id) {
			return errUnknown
		}
		up, err := h.uploads.Pending(ctx, id)
		if errors.Is(err, uploads.ErrUploadNotFound) {
			return errUnknown
		}
		if err != nil {
			return err
		}
		// Only the caller's own partial uploads; a multipart part belongs
		// to its session. Anything else looks exactly like a missing one.
		if !up.Partial || up.SessionID != "" || (p != nil && up.AccountID != p.AccountID) {
			return errUnknown
		}
	}
	return nil
}

func (h *Handler) preFinish(ev handler.HookEvent) (handler.HTTPResponse, error) {
	// Finish under a context that survives the client hanging up: the bytes
	// are all here, so the commit should happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ev.Context), 2*time.Minute)
	defer cancel()
	f, err := h.uploads.FinishWritten(ctx, ev.Upload)
	if err != nil {
		return handler.HTTPResponse{}, hookError(ev.Context, fmt.Errorf("finish upload %s: %w", ev.Upload.ID, err))
	}
	resp := handler.HTTPResponse{Header: handler.HTTPHeader{}}
	if f != nil {
		resp.Header["X-File-Url"] = h.uploads.FileURL(f.ID)
	}
	if ev.Upload.IsPartial {
		// A part answers its ETag, as a PUT does; a multipart session's
		// part goes into its session first.
		etag, err := h.uploads.PartETag(ctx, ev.Upload.ID)
		if err != nil {
			return handler.HTTPResponse{}, hookError(ev.Context, err)
		}
		resp.Header["ETag"] = etag
	}
	return resp, nil
}

func (h *Handler) preTerminate(ev handler.HookEvent) (handler.HTTPResponse, error) {
	// The upload URL authorises resuming, not deleting a finished file:
	// finished files are deleted through the API with a secret key.
	up, err := h.uploads.Pending(ev.Context, ev.Upload.ID)
	if err != nil {
		if errors.Is(err, uploads.ErrUploadNotFound) {
			return handler.HTTPResponse{}, hookError(ev.Context, apperr.New(apperr.Forbidden, "finished files are deleted with deleteFile"))
		}
		return handler.HTTPResponse{}, hookError(ev.Context, err)
	}
	if up.SessionID != "" {
		return handler.HTTPResponse{}, hookError(ev.Context, errDeletePart)
	}
	return handler.HTTPResponse{}, nil
}
