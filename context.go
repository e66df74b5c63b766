package logto

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Context tells a request who is signed in. It has the JSON shape of
// @logto/next's LogtoContext, and templates can read it directly:
//
//	{{if .IsAuthenticated}}Hello, {{.Claims.Sub}}{{end}}
type Context struct {
	// IsAuthenticated is true only for a session whose ID token was verified at
	// sign-in and has not expired now (with [Config.ClockSkew]).
	IsAuthenticated bool `json:"isAuthenticated"`
	// Claims are the ID token's claims; zero when not authenticated.
	Claims IDTokenClaims `json:"claims,omitzero"`
	// Scopes are the scopes Logto granted to the access token of the request's
	// session (for the default, non-resource token).
	Scopes []string `json:"scopes,omitempty"`
}

// ContextOption customizes [Client.GetContext].
type ContextOption func(*contextOptions)

type contextOptions struct{}

// GetContext reads the request's session. A missing session gives a zero
// Context; an unusable one (tampered, truncated, expired, foreign) is cleared
// through w (which may be nil for read-only use) and also gives a zero
// Context. The error is reserved for options that call Logto.
func (c *Client) GetContext(w http.ResponseWriter, r *http.Request, opts ...ContextOption) (Context, error) {
	var o contextOptions
	for _, opt := range opts {
		opt(&o)
	}
	sess, ok := c.loadSession(w, r)
	if !ok {
		return Context{}, nil
	}
	return c.contextFromSession(sess), nil
}

func (c *Client) contextFromSession(sess *session) Context {
	var claims IDTokenClaims
	if err := decodeJWTClaims(sess.IDToken, &claims); err != nil {
		return Context{}
	}
	if !c.cfg.Now().Before(time.Unix(claims.Exp, 0).Add(c.cfg.ClockSkew)) {
		return Context{}
	}
	ctx := Context{IsAuthenticated: true, Claims: claims}
	if at, ok := sess.AccessTokens[accessTokenKey("", "")]; ok && at.Scope != "" {
		ctx.Scopes = strings.Fields(at.Scope)
	}
	return ctx
}

type contextKey struct{}

// FromContext returns the Context that [Client.Middleware] stored in ctx, or a
// zero (signed-out) Context.
func FromContext(ctx context.Context) Context {
	lc, _ := ctx.Value(contextKey{}).(Context)
	return lc
}

// NewContext returns a copy of ctx carrying lc, for tests and custom middleware.
func NewContext(ctx context.Context, lc Context) context.Context {
	return context.WithValue(ctx, contextKey{}, lc)
}
