package logtotest

import (
	"crypto/ecdsa"
	"net/http/httptest"
	"testing"
	"time"
)

// Option configures [NewServer].
type Option func(*Options)

// WithApps replaces the default app.
func WithApps(apps ...App) Option {
	return func(o *Options) { o.Apps = append(o.Apps, apps...) }
}

// WithUsers replaces the default user.
func WithUsers(users ...User) Option {
	return func(o *Options) { o.Users = append(o.Users, users...) }
}

// WithResources registers API resources.
func WithResources(resources ...Resource) Option {
	return func(o *Options) { o.Resources = append(o.Resources, resources...) }
}

// WithRoles registers global roles (see [Options.Roles]).
func WithRoles(roles ...Role) Option {
	return func(o *Options) { o.Roles = append(o.Roles, roles...) }
}

// WithOrganizations registers organizations (see [Options.Organizations]).
func WithOrganizations(orgs ...Organization) Option {
	return func(o *Options) { o.Organizations = append(o.Organizations, orgs...) }
}

// WithClock sets the clock behind every exp, iat and TTL.
func WithClock(now func() time.Time) Option {
	return func(o *Options) { o.Now = now }
}

// WithSigningKey sets the current P-384 signing key.
func WithSigningKey(key *ecdsa.PrivateKey) Option {
	return func(o *Options) { o.SigningKey = key }
}

// WithAccessTokenHash makes ID tokens carry at_hash (see Options.AccessTokenHash).
func WithAccessTokenHash() Option {
	return func(o *Options) { o.AccessTokenHash = true }
}

// Server is a [Provider] served by an [httptest.Server] on 127.0.0.1.
type Server struct {
	*Provider
	HTTP *httptest.Server
}

// NewServer starts a provider on http://127.0.0.1:<port> and closes it when
// the test ends. It calls t.Fatal if the provider cannot be built.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	o.URL = "http://" + hs.Listener.Addr().String()
	p, err := New(o)
	if err != nil {
		hs.Listener.Close()
		t.Fatal(err)
	}
	hs.Config.Handler = p
	hs.Start()
	t.Cleanup(hs.Close)
	return &Server{Provider: p, HTTP: hs}
}
