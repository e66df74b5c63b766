package logtotest

import (
	"crypto/ecdsa"
	"net/http/httptest"
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

// TestingT is what the test helpers ([NewServer], [Provider.NewAppServer],
// [NewBrowser]) need from a test: a way to stop it. *testing.T, *testing.B
// and *testing.F have it, and so does *log.Logger, whose Fatalf exits the
// program, for examples and small programs. When t also has the Helper and
// Cleanup methods of [testing.TB], the helpers report failures at the
// caller's line and close what they start when the test ends; without
// Cleanup, call Close.
type TestingT interface {
	Fatalf(format string, args ...any)
}

// testHelper and testCleanup are the optional parts of a TestingT.
type (
	testHelper  interface{ Helper() }
	testCleanup interface{ Cleanup(func()) }
)

// cleanup registers f with t's Cleanup, when t has one.
func cleanup(t TestingT, f func()) {
	if c, ok := t.(testCleanup); ok {
		c.Cleanup(f)
	}
}

// Server is a [Provider] served by an [httptest.Server] on 127.0.0.1.
type Server struct {
	*Provider
	HTTP *httptest.Server
}

// NewServer starts a provider on http://127.0.0.1:<port> and closes it when
// the test ends (with a t that has no Cleanup method, call [Server.Close]).
// It calls t.Fatalf if the provider cannot be built.
func NewServer(t TestingT, opts ...Option) *Server {
	if h, ok := t.(testHelper); ok {
		h.Helper()
	}
	hs := httptest.NewUnstartedServer(nil)
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	o.URL = "http://" + hs.Listener.Addr().String()
	p, err := New(o)
	if err != nil {
		hs.Listener.Close()
		t.Fatalf("%v", err)
		return nil
	}
	hs.Config.Handler = p
	hs.Start()
	cleanup(t, hs.Close)
	return &Server{Provider: p, HTTP: hs}
}

// Close shuts the server down; it may be called more than once.
func (s *Server) Close() { s.HTTP.Close() }
