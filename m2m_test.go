package logto_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/internal/testkit"
	"github.com/logto-go/logto/logtotest"
)

const m2mAPI = "https://api.example.com"

// m2mFixture is a provider with one API (read:items, write:items), a role
// granting read:items, an organization "acme" (organization permission
// read:reports; the API's write:items in organization-scoped tokens) and two
// machine-to-machine apps: "service" holds the role and is a member of acme
// with its role, "outsider" holds nothing.
type m2mFixture struct {
	srv      *logtotest.Server
	service  logtotest.App
	outsider logtotest.App
	clock    *testkit.Clock
	logs     *testkit.Buffer
}

func newM2MFixture(t *testing.T) *m2mFixture {
	t.Helper()
	f := &m2mFixture{clock: testkit.NewClock(), logs: &testkit.Buffer{}}
	f.service = logtotest.DefaultM2MApp()
	f.service.Roles = []string{"items-reader"}
	f.service.Organizations = []string{"acme"}
	f.service.OrganizationRoles = []string{"acme:reporter"}
	f.outsider = logtotest.App{ID: "outsiderm2mapp0000001", Secret: "OutsiderM2MSecret000000000000001", MachineToMachine: true}
	f.srv = logtotest.NewServer(t,
		logtotest.WithApps(f.service, f.outsider),
		logtotest.WithResources(logtotest.Resource{Indicator: m2mAPI, Scopes: []string{"read:items", "write:items"}}),
		logtotest.WithRoles(logtotest.Role{Name: "items-reader", Scopes: map[string][]string{m2mAPI: {"read:items"}}}),
		logtotest.WithOrganizations(logtotest.Organization{ID: "acme", Roles: []logtotest.OrganizationRole{{
			Name: "reporter", Scopes: []string{"read:reports"}, ResourceScopes: map[string][]string{m2mAPI: {"write:items"}},
		}}}),
		logtotest.WithClock(f.clock.Now),
	)
	return f
}

// m2m builds an M2M for app; edit adjusts the config.
func (f *m2mFixture) m2m(t *testing.T, app logtotest.App, edit func(*logto.M2MConfig)) *logto.M2M {
	t.Helper()
	cfg := logto.M2MConfig{
		Endpoint: f.srv.URL(), AppID: app.ID, AppSecret: app.Secret,
		Resource: m2mAPI, Scopes: []string{"read:items", "write:items"},
		Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := logto.NewM2M(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tokenRequests returns the forms of the token requests the provider saw.
func (f *m2mFixture) tokenRequests() []logtotest.Request {
	var out []logtotest.Request
	for _, r := range f.srv.Requests() {
		if r.Path == "/oidc/token" {
			out = append(out, r)
		}
	}
	return out
}

func (f *m2mFixture) resourceServer(t *testing.T) *logto.ResourceServer {
	t.Helper()
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: f.srv.URL(), Audience: m2mAPI, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestM2MResourceToken: a token for an API resource carries the requested
// scopes the app's role grants (read:items, not write:items), verifies at
// the API as a user-kind token whose sub is the app, and came from one
// client_credentials request with client_secret_basic.
func TestM2MResourceToken(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	m := f.m2m(t, f.service, nil)
	tok, err := m.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tok.Scopes, []string{"read:items"}) || tok.TokenType != "Bearer" || !tok.Expiry.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("token %v", tok)
	}
	claims, err := f.resourceServer(t).Verify(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("the API rejects the token: %v", err)
	}
	if claims.Sub != f.service.ID || claims.ClientID != f.service.ID || claims.Kind(m2mAPI) != logto.UserToken ||
		!claims.HasScopes("read:items") || claims.HasScopes("write:items") {
		t.Errorf("claims %+v, kind %v", claims, claims.Kind(m2mAPI))
	}

	reqs := f.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	}
	want := url.Values{"grant_type": {"client_credentials"}, "resource": {m2mAPI}, "scope": {"read:items write:items"}}
	if !reflect.DeepEqual(reqs[0].Form, want) {
		t.Errorf("form %v, want %v", reqs[0].Form, want)
	}
	r := http.Request{Header: reqs[0].Header}
	if id, secret, ok := r.BasicAuth(); !ok || id != f.service.ID || secret != f.service.Secret {
		t.Errorf("Basic credentials %q, %v", id, ok)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "did not grant every requested scope") || !strings.Contains(logs, "write:items") {
		t.Errorf("no warning about write:items in the logs:\n%s", logs)
	}
}

// TestM2MOrganizationTokens: an app in the organization gets an
// organization token (and an organization-scoped resource token); one that
// is not gets Logto's 403 access_denied as ErrAccessDenied.
func TestM2MOrganizationTokens(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	rs := f.resourceServer(t)

	org := f.m2m(t, f.service, func(c *logto.M2MConfig) {
		c.Resource, c.OrganizationID, c.Scopes = "", "acme", []string{"read:reports"}
	})
	tok, err := org.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	claims, err := logto.InsecureDecodeAccessTokenClaims(tok.AccessToken)
	if err != nil || !reflect.DeepEqual(claims.Aud, logto.Audience{logto.OrganizationURN("acme")}) || claims.Sub != f.service.ID ||
		!reflect.DeepEqual(tok.Scopes, []string{"read:reports"}) {
		t.Errorf("organization token: claims %+v scopes %v err %v", claims, tok.Scopes, err)
	}
	if _, err := rs.VerifyOrganization(t.Context(), tok.AccessToken, "acme", logto.OrganizationToken); err != nil {
		t.Errorf("VerifyOrganization: %v", err)
	}

	orgAPI := f.m2m(t, f.service, func(c *logto.M2MConfig) { c.OrganizationID = "acme" })
	tok, err = orgAPI.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	vc, err := rs.VerifyOrganization(t.Context(), tok.AccessToken, "acme", logto.OrganizationResourceToken)
	if err != nil || vc.OrganizationID != "acme" || !vc.HasScopes("write:items") || !reflect.DeepEqual(tok.Scopes, []string{"write:items"}) {
		t.Errorf("organization-scoped resource token: %v, claims %+v, scopes %v", err, vc, tok.Scopes)
	}
	if got := f.tokenRequests()[1].Form; got.Get("organization_id") != "acme" || got.Get("resource") != m2mAPI {
		t.Errorf("form %v", got)
	}

	_, err = f.m2m(t, f.outsider, func(c *logto.M2MConfig) { c.Resource, c.OrganizationID = "", "acme" }).Token(t.Context())
	var pe *logto.ProviderError
	if !errors.Is(err, logto.ErrAccessDenied) || !errors.As(err, &pe) || pe.Code != "access_denied" || pe.StatusCode != http.StatusForbidden {
		t.Fatalf("outsider: %v, want ErrAccessDenied with Code access_denied", err)
	}
	if got := logto.StatusCode(err); got != http.StatusForbidden {
		t.Errorf("outsider: StatusCode %d", got)
	}
	if want := "logto: provider token: oauth_error (HTTP 403): access_denied: app has not associated with the organization"; err.Error() != want {
		t.Errorf("outsider: %q, want %q", err, want)
	}
}

// TestM2MCachesUntilRefreshMargin: the token is reused until it is valid
// for less than the margin, then renewed once; a token shorter-lived than
// twice the margin is renewed at half its life.
func TestM2MCachesUntilRefreshMargin(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	m := f.m2m(t, f.service, func(c *logto.M2MConfig) { c.RefreshMargin = 5 * time.Minute })
	first, err := m.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(55*time.Minute - time.Second)
	again, err := m.Token(t.Context())
	if err != nil || again.AccessToken != first.AccessToken {
		t.Fatalf("inside the margin's bound: %v, same token %v", err, again.AccessToken == first.AccessToken)
	}
	if n := len(f.tokenRequests()); n != 1 {
		t.Fatalf("%d token requests before the margin, want 1", n)
	}
	f.clock.Advance(2 * time.Second) // now 4m59s before expiry
	renewed, err := m.Token(t.Context())
	if err != nil || renewed.AccessToken == first.AccessToken {
		t.Fatalf("within the margin: %v, renewed %v", err, renewed.AccessToken != first.AccessToken)
	}
	if n := len(f.tokenRequests()); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
	if !renewed.Expiry.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("expiry %v", renewed.Expiry)
	}

	// Logto lets an API resource's tokens live shorter: 60 s with a 5 min
	// margin is renewed after 30 s, not on every call.
	f.srv.SetHooks(logtotest.Hooks{TokenResponse: func(_ *int, body map[string]any) {
		if _, ok := body["access_token"]; ok {
			body["expires_in"] = 60
		}
	}})
	short := f.m2m(t, f.service, func(c *logto.M2MConfig) { c.RefreshMargin = 5 * time.Minute })
	a, _ := short.Token(t.Context())
	f.clock.Advance(29 * time.Second)
	b, _ := short.Token(t.Context())
	f.clock.Advance(time.Second)
	c, _ := short.Token(t.Context())
	if a.AccessToken != b.AccessToken || b.AccessToken == c.AccessToken {
		t.Errorf("60 s token: reused at 29 s %v, renewed at 30 s %v", a.AccessToken == b.AccessToken, b.AccessToken != c.AccessToken)
	}
}

// TestM2MConcurrentCallers: 100 callers of a cold M2M share one discovery
// and one token request, and get the same token.
func TestM2MConcurrentCallers(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	f.srv.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			return 200 * time.Millisecond
		}
		return 0
	}})
	m := f.m2m(t, f.service, nil)
	const callers = 100
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			tok, err := m.Token(t.Context())
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || tokens[i] == "" || tokens[i] != tokens[0] {
			t.Fatalf("caller %d: %v (same token: %v)", i, errs[i], tokens[i] == tokens[0])
		}
	}
	if n := f.srv.CountRequests("/oidc/token"); n != 1 {
		t.Errorf("%d token requests for %d callers, want 1", n, callers)
	}
	if n := f.srv.CountRequests("/oidc/.well-known/openid-configuration"); n != 1 {
		t.Errorf("%d discovery requests, want 1", n)
	}
}

// TestM2MCallerCancelled: a caller whose context ends stops waiting with
// its context's error; the request it started goes on for the others.
func TestM2MCallerCancelled(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	release := make(chan struct{})
	f.srv.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			<-release
		}
		return 0
	}})
	m := f.m2m(t, f.service, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := m.Token(ctx); done <- err }()
	waitFor(t, func() bool { return f.srv.CountRequests("/oidc/token") == 1 })
	other := make(chan error, 1)
	go func() { _, err := m.Token(t.Context()); other <- err }()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || !errors.Is(err, logto.ErrProviderTimeout) {
		t.Errorf("cancelled caller: %v, want context.Canceled and ErrProviderTimeout", err)
	}
	close(release)
	if err := <-other; err != nil {
		t.Errorf("other caller: %v", err)
	}
	if n := f.srv.CountRequests("/oidc/token"); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestM2MErrors: Logto's answers become *ProviderError with the OAuth
// code; a wrong secret appears neither in the error nor in the logs.
func TestM2MErrors(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	const badSecret = "ThisIsTheWrongSecret0123456789ab"
	for _, tc := range []struct {
		name   string
		app    logtotest.App
		edit   func(*logto.M2MConfig)
		hook   func(status *int, body map[string]any)
		status int
		code   string
		kind   error
	}{
		{name: "bad secret", app: f.service, edit: func(c *logto.M2MConfig) { c.AppSecret = badSecret },
			status: 401, code: "invalid_client", kind: logto.ErrProviderResponse},
		{name: "unknown app", app: logtotest.App{ID: "nosuchapp000000000001", Secret: badSecret},
			status: 400, code: "invalid_client", kind: logto.ErrProviderResponse},
		{name: "unknown resource", app: f.service, edit: func(c *logto.M2MConfig) { c.Resource = "https://unknown.example.com" },
			status: 400, code: "invalid_target", kind: logto.ErrProviderResponse},
		{name: "not in the organization", app: f.outsider, edit: func(c *logto.M2MConfig) { c.OrganizationID = "acme" },
			status: 403, code: "access_denied", kind: logto.ErrAccessDenied},
		{name: "invalid_scope", app: f.service, hook: func(status *int, body map[string]any) {
			*status = 400
			clear(body)
			body["code"], body["error"], body["error_description"] = "oidc.invalid_scope", "invalid_scope", "requested scope is not allowed"
		}, status: 400, code: "invalid_scope", kind: logto.ErrProviderResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testkit.Buffer{}
			srv := f.srv
			if tc.hook != nil {
				g := newM2MFixture(t)
				g.srv.SetHooks(logtotest.Hooks{TokenResponse: tc.hook})
				srv = g.srv
			}
			cfg := logto.M2MConfig{Endpoint: srv.URL(), AppID: tc.app.ID, AppSecret: tc.app.Secret, Resource: m2mAPI,
				Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			m, err := logto.NewM2M(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Token(t.Context())
			var pe *logto.ProviderError
			if !errors.As(err, &pe) || pe.Stage != "token" || pe.Code != tc.code || pe.StatusCode != tc.status || !errors.Is(err, tc.kind) {
				t.Fatalf("%v, want a token-stage ProviderError %d %s matching %v", err, tc.status, tc.code, tc.kind)
			}
			// Through the HTTP client: the request is not sent, the error
			// is the same.
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the API received a request without a token")
			}))
			defer api.Close()
			_, cerr := m.Client(nil).Get(api.URL)
			if !errors.As(cerr, &pe) || pe.Code != tc.code {
				t.Errorf("Client: %v", cerr)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), cerr.Error(), logs.String()} {
				if strings.Contains(s, cfg.AppSecret) {
					t.Errorf("the secret leaked: %s", s)
				}
			}
			if !strings.Contains(logs.String(), "M2M token request failed") {
				t.Errorf("no log of the failure:\n%s", logs)
			}
		})
	}
}

// TestM2MTransientFailure: a failed renewal while the cached token is
// still valid hands out the cached token; once it has expired, the error.
func TestM2MTransientFailure(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	m := f.m2m(t, f.service, nil)
	first, err := m.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetHooks(logtotest.Hooks{TokenResponse: func(status *int, body map[string]any) {
		*status = http.StatusServiceUnavailable
		clear(body)
	}})
	f.clock.Advance(59*time.Minute + 30*time.Second)
	tok, err := m.Token(t.Context())
	if err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("renewal failing 30 s before expiry: %v", err)
	}
	if !strings.Contains(f.logs.String(), "using the cached token until it expires") {
		t.Errorf("no warning:\n%s", f.logs)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := m.Token(t.Context()); !errors.Is(err, logto.ErrProviderUnavailable) {
		t.Fatalf("after expiry: %v, want ErrProviderUnavailable", err)
	}

	// A definitive answer is not hidden behind the cached token.
	g := newM2MFixture(t)
	m = g.m2m(t, g.service, nil)
	if _, err := m.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	g.srv.SetHooks(logtotest.Hooks{TokenResponse: func(status *int, body map[string]any) {
		*status = http.StatusUnauthorized
		clear(body)
		body["error"], body["error_description"] = "invalid_client", "client authentication failed"
	}})
	g.clock.Advance(59 * time.Minute)
	if _, err := m.Token(t.Context()); err == nil {
		t.Fatal("invalid_client while a token is cached: no error")
	}
}

// TestM2MClient: the client sends the token to the API, to the same origin
// after a redirect, and not to another origin.
func TestM2MClient(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	m := f.m2m(t, f.service, nil)
	var mu sync.Mutex
	seen := map[string]string{} // server:path -> Authorization
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name+":"+r.URL.Path] = r.Header.Get("Authorization")
			mu.Unlock()
		}
	}
	other := httptest.NewServer(record("other"))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/items", record("api"))
	mux.Handle("/moved", http.RedirectHandler("/items", http.StatusFound))
	mux.Handle("/away", http.RedirectHandler(other.URL+"/stolen", http.StatusFound))
	api := httptest.NewServer(mux)
	defer api.Close()

	hc := m.Client(nil)
	for _, p := range []string{"/items", "/moved", "/away"} {
		resp, err := hc.Post(api.URL+p, "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	tok, _ := m.Token(t.Context())
	if got := seen["api:/items"]; got != "Bearer "+tok.AccessToken {
		t.Errorf("API Authorization %q", got)
	}
	if got, ok := seen["other:/stolen"]; !ok || got != "" {
		t.Errorf("other origin after a redirect: Authorization %q (reached %v)", got, ok)
	}
	if n := len(f.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}

	// base is copied, not changed.
	base := &http.Client{Timeout: 3 * time.Second}
	if c := m.Client(base); c.Timeout != 3*time.Second || base.Transport != nil {
		t.Errorf("Client(base): timeout %v, base transport %v", c.Timeout, base.Transport)
	}
}

// TestM2MTokenSource: the x/oauth2 view of the same cached token.
func TestM2MTokenSource(t *testing.T) {
	t.Parallel()
	f := newM2MFixture(t)
	m := f.m2m(t, f.service, nil)
	ts := m.TokenSource(t.Context())
	a, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ts.Token()
	mine, _ := m.Token(t.Context())
	if a.AccessToken != mine.AccessToken || b.AccessToken != a.AccessToken || a.TokenType != "Bearer" ||
		!a.Expiry.Equal(mine.Expiry) || a.Extra("scope") != "read:items" || !a.Valid() {
		t.Errorf("oauth2 token %+v, scope %v", a, a.Extra("scope"))
	}
	if n := len(f.tokenRequests()); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestNewM2MValidation(t *testing.T) {
	t.Parallel()
	ok := logto.M2MConfig{Endpoint: "https://tenant.logto.app", AppID: "id", AppSecret: "secret", Resource: m2mAPI}
	for _, tc := range []struct {
		field string
		edit  func(*logto.M2MConfig)
	}{
		{"AppID", func(c *logto.M2MConfig) { c.AppID = "" }},
		{"AppSecret", func(c *logto.M2MConfig) { c.AppSecret = "" }},
		{"Endpoint", func(c *logto.M2MConfig) { c.Endpoint = "" }},
		{"Endpoint", func(c *logto.M2MConfig) { c.Endpoint = "http://logto.example.com" }},
		{"Endpoint", func(c *logto.M2MConfig) { c.Endpoint = "https://logto.example.com?x=1" }},
		{"Resource", func(c *logto.M2MConfig) { c.Resource = "" }},
		{"Resource", func(c *logto.M2MConfig) { c.Resource = "api" }},
		{"Resource", func(c *logto.M2MConfig) { c.Resource = "https://api.example.com#frag" }},
		{"Resource", func(c *logto.M2MConfig) { c.Resource = logto.OrganizationURN("acme") }},
		{"OrganizationID", func(c *logto.M2MConfig) { c.OrganizationID = "a b" }},
		{"Scopes", func(c *logto.M2MConfig) { c.Scopes = []string{"read", ""} }},
		{"Scopes", func(c *logto.M2MConfig) { c.Scopes = []string{"read write"} }},
		{"RefreshMargin", func(c *logto.M2MConfig) { c.RefreshMargin = -time.Second }},
	} {
		cfg := ok
		tc.edit(&cfg)
		_, err := logto.NewM2M(cfg)
		var ce *logto.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, logto.ErrInvalidConfig) {
			t.Errorf("%+v: %v, want a ConfigError for %s", cfg, err, tc.field)
		}
	}
	for name, edit := range map[string]func(*logto.M2MConfig){
		"organization only":      func(c *logto.M2MConfig) { c.Resource, c.OrganizationID = "", "acme" },
		"http on loopback":       func(c *logto.M2MConfig) { c.Endpoint = "http://localhost:3001" },
		"http with the Insecure": func(c *logto.M2MConfig) { c.Endpoint, c.InsecureAllowHTTPEndpoint = "http://logto:3001", true },
		"management API": func(c *logto.M2MConfig) {
			c.Resource, c.Scopes = logto.ManagementAPIResource(c.Endpoint), []string{"all"}
		},
	} {
		cfg := ok
		edit(&cfg)
		if _, err := logto.NewM2M(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestManagementAPIResource(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://abc123.logto.app":      "https://abc123.logto.app/api",
		"https://ABC123.logto.app/":     "https://abc123.logto.app/api",
		"abc123":                        "https://abc123.logto.app/api",
		"http://localhost:3001":         "https://default.logto.app/api",
		"https://auth.example.com":      "https://default.logto.app/api",
		"https://a.b.logto.app":         "https://default.logto.app/api",
		"":                              "https://default.logto.app/api",
		"default":                       "https://default.logto.app/api",
		"https://logto.example.com/xyz": "https://default.logto.app/api",
	} {
		if got := logto.ManagementAPIResource(in); got != want {
			t.Errorf("ManagementAPIResource(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestM2MRedaction: neither the secret nor the token is printed, logged or
// encoded.
func TestM2MRedaction(t *testing.T) {
	t.Parallel()
	const secret, token = "TheAppSecretValue000000000000001", "eyJ.the-token-value.sig"
	cfg := logto.M2MConfig{Endpoint: "https://t.logto.app", AppID: "id", AppSecret: secret, Resource: m2mAPI}
	tok := logto.M2MToken{AccessToken: token, TokenType: "Bearer", Scopes: []string{"read:items"}, Expiry: time.Unix(1e9, 0)}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("x", "cfg", cfg, "token", tok, "ptr", &tok)
	j, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	m, err := logto.NewM2M(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s %v %#v %v %+v %#v", cfg, cfg, cfg, tok, tok, &tok, &tok, m, m) + logs.String() + string(j)
	for _, s := range []string{secret, token} {
		if strings.Contains(out, s) {
			t.Errorf("%q leaked in %s", s, out)
		}
	}
	if !strings.Contains(string(j), `"scope":"read:items"`) {
		t.Errorf("JSON %s", j)
	}
}
