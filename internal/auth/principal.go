package auth

import (
	"context"

	"satchel/internal/apperr"
	"satchel/models"
)

// Principal is who a request acts for: an API key, or an upload ticket
// (an upload ID minted by the account's backend) that may upload one file.
type Principal struct {
	AccountID string
	Key       *models.APIKey
	Ticket    *models.Ticket
	// Minter is the key that minted Ticket: its limits bind the ticket's
	// uploads too. It grants nothing by itself (Secret is false).
	Minter *models.APIKey
}

// Secret reports whether the principal holds a secret key.
func (p *Principal) Secret() bool { return p != nil && p.Key != nil && p.Key.Kind == models.KindSecret }

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Errors for the two auth failures; messages are safe for clients.
var (
	ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "a valid API key is required")
	ErrSecretRequired  = apperr.New(apperr.Forbidden, "this operation needs a secret key")
)

// RequireSecret returns the principal if it holds a secret key.
func RequireSecret(ctx context.Context) (*Principal, error) {
	p := FromContext(ctx)
	if p == nil {
		return nil, ErrUnauthenticated
	}
	if !p.Secret() {
		return nil, ErrSecretRequired
	}
	return p, nil
}

// RequireUploader returns the principal if it may upload (any live key).
func RequireUploader(ctx context.Context) (*Principal, error) {
	p := FromContext(ctx)
	if p == nil {
		return nil, ErrUnauthenticated
	}
	return p, nil
}
