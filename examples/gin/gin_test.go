package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

const (
	testAppID     = "ginrecipeapp000000001"
	testAppSecret = "ginrecipesecret0123456789abcdefg"
)

// testApp is newRouter on httptest, configured through loadSettings to sign
// in against a logtotest provider that knows the app's API resource.
type testApp struct {
	t   *testing.T
	op  *logtotest.Server
	url string
	api string
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	a := &testApp{t: t, url: "http://" + ts.Listener.Addr().String()}
	a.api = a.url + "/api"
	a.op = logtotest.NewServer(t, logtotest.WithResources(
		logtotest.Resource{Indicator: a.api, Scopes: []string{scopeRead, "write:messages"}}))
	a.op.AddApp(logtotest.App{
		ID: testAppID, Secret: testAppSecret, Name: "gin recipe",
		RedirectURIs:           []string{a.url + "/callback"},
		PostLogoutRedirectURIs: []string{a.url + "/"},
	})
	env := map[string]string{
		"LOGTO_ENDPOINT":   a.op.URL(),
		"LOGTO_APP_ID":     testAppID,
		"LOGTO_APP_SECRET": testAppSecret,
		"LOGTO_BASE_URL":   a.url,
	}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	client, err := logto.New(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: s.Config.Endpoint, Audience: s.API})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = newRouter(client, rs, s.API)
	ts.Start()
	t.Cleanup(ts.Close)
	return a
}

// response is a fully read response.
type response struct {
	*http.Response
	body string
}

// browser keeps cookies and never follows redirects, so every hop is checked.
type browser struct {
	t *testing.T
	c *http.Client
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{a.t, &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, rawURL string, header http.Header, body string) *response {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, rawURL, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{resp, string(data)}
}

// page GETs rawURL as a browser navigation does.
func (b *browser) page(rawURL string) *response {
	b.t.Helper()
	return b.do(http.MethodGet, rawURL, http.Header{"Accept": {"text/html"}}, "")
}

// location is r's Location, resolved.
func location(t *testing.T, r *response) *url.URL {
	t.Helper()
	loc, err := r.Location()
	if err != nil {
		t.Fatalf("%s %s: status %d, no Location: %s", r.Request.Method, r.Request.URL, r.StatusCode, r.body)
	}
	return loc
}

// signIn walks /sign-in → provider → /callback and returns the callback's
// response.
func (a *testApp) signIn(b *browser, signIn string) *response {
	a.t.Helper()
	r := b.page(signIn)
	if r.StatusCode != http.StatusFound {
		a.t.Fatalf("GET %s: status %d, want 302: %s", signIn, r.StatusCode, r.body)
	}
	next := location(a.t, r)
	for range 10 {
		if strings.HasPrefix(next.String(), a.url+"/") {
			return b.page(next.String()) // the callback
		}
		r := b.page(next.String())
		if r.StatusCode/100 != 3 {
			a.t.Fatalf("provider %s: status %d: %s", next, r.StatusCode, r.body)
		}
		next = location(a.t, r)
	}
	a.t.Fatal("too many provider hops")
	return nil
}

// sessionCookie returns the Set-Cookie of r for the session (or its first
// chunk), nil when r does not touch it.
func sessionCookie(r *response) *http.Cookie {
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && (c.Name == "logto_"+testAppID || strings.HasPrefix(c.Name, "logto_"+testAppID+".")) {
			return c
		}
	}
	return nil
}

func (a *testApp) tokenCalls() int { return a.op.CountRequests("/oidc/token") }

// TestSignInThroughGin walks the whole journey through the gin router:
// signed out, sign-in at the provider, the protected page (whose access
// token refresh must reach the browser through gin's writer), and sign-out.
func TestSignInThroughGin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	hello := "Hello, " + logtotest.DefaultUserID

	// Signed out: the home page offers Sign In, the protected page sends
	// navigations to sign-in and answers other requests with 401.
	if r := b.page(a.url + "/"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `href="/sign-in"`) || strings.Contains(r.body, "Hello") {
		t.Fatalf("GET / signed out: %d\n%s", r.StatusCode, r.body)
	}
	r := b.page(a.url + "/profile")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/sign-in?returnTo=%2Fprofile" {
		t.Fatalf("GET /profile signed out: %d, Location %q; want 303 to /sign-in?returnTo=%%2Fprofile", r.StatusCode, r.Header.Get("Location"))
	}
	signIn := location(t, r).String()
	if r := b.do(http.MethodGet, a.url+"/profile", http.Header{"Accept": {"application/json"}}, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /profile (JSON) signed out: %d, want 401", r.StatusCode)
	}

	// Sign in; the callback returns to the protected page.
	r = a.signIn(b, signIn)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/profile" || sessionCookie(r) == nil {
		t.Fatalf("callback: %d, Location %q, session cookie %v: %s", r.StatusCode, r.Header.Get("Location"), sessionCookie(r), r.body)
	}

	// The profile page's handler asks for an access token for the API,
	// which the session does not hold yet: one refresh, and the rewritten
	// session must come back in this response.
	before := a.tokenCalls()
	r = b.page(a.url + "/profile")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, hello) || !strings.Contains(r.body, "<code>"+scopeRead+"</code>") {
		t.Fatalf("GET /profile: %d, want 200 with %q and the scope %s:\n%s", r.StatusCode, hello, scopeRead, r.body)
	}
	if got := a.tokenCalls() - before; got != 1 {
		t.Errorf("GET /profile: %d token requests, want 1 (the refresh)", got)
	}
	if c := sessionCookie(r); c == nil || c.Value == "" || c.MaxAge < 0 {
		t.Fatalf("GET /profile: the refreshed session was not written (Set-Cookie %q)", r.Header.Values("Set-Cookie"))
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /profile: Cache-Control %q, want no-store", cc)
	}
	// The cookie carried the new token: no refresh this time.
	before = a.tokenCalls()
	if r := b.page(a.url + "/profile"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, scopeRead) {
		t.Fatalf("GET /profile again: %d:\n%s", r.StatusCode, r.body)
	}
	if got := a.tokenCalls() - before; got != 0 {
		t.Errorf("GET /profile again: %d token requests, want 0 (the token is in the session)", got)
	}

	r = b.page(a.url + "/")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, hello) || !strings.Contains(r.body, `<form method="post" action="/sign-out">`) {
		t.Fatalf("GET / signed in: %d, want %q and a Sign Out form:\n%s", r.StatusCode, hello, r.body)
	}

	// Sign out: a same-origin POST, off to Logto's end-session endpoint,
	// with the session cookie deleted.
	r = b.do(http.MethodPost, a.url+"/sign-out", http.Header{
		"Origin":       {a.url},
		"Content-Type": {"application/x-www-form-urlencoded"},
	}, "")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), a.op.Issuer()) {
		t.Fatalf("POST /sign-out: %d, Location %q; want 303 to %s", r.StatusCode, r.Header.Get("Location"), a.op.Issuer())
	}
	if c := sessionCookie(r); c == nil || c.MaxAge >= 0 {
		t.Fatalf("POST /sign-out: session cookie not deleted (Set-Cookie %q)", r.Header.Values("Set-Cookie"))
	}
	if r := b.page(a.url + "/profile"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /profile after sign-out: %d, want 303 to sign-in", r.StatusCode)
	}
	if r := b.page(a.url + "/"); strings.Contains(r.body, "Hello") {
		t.Fatalf("GET / after sign-out still greets:\n%s", r.body)
	}
}

// TestBackChannelLogoutThroughGin: Logto's logout token, POSTed to the
// Client's path on the gin router, ends the session.
func TestBackChannelLogoutThroughGin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	a.signIn(b, a.url+"/sign-in")
	if r := b.page(a.url + "/profile"); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /profile: %d", r.StatusCode)
	}
	now := time.Now()
	token, err := a.op.Sign(map[string]any{"typ": "logout+jwt"}, map[string]any{
		"iss": a.op.Issuer(), "aud": testAppID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": "gin-recipe-logout", "sub": logtotest.DefaultUserID,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := a.browser().do(http.MethodPost, a.url+"/backchannel-logout",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		url.Values{"logout_token": {token}}.Encode())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("POST /backchannel-logout: %d: %s", r.StatusCode, r.body)
	}
	if r := b.page(a.url + "/profile"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /profile after the back-channel logout: %d, want 303 to sign-in", r.StatusCode)
	}
}

// TestAPIThroughGin: the ResourceServer, as gin middleware, answers 401
// without a (valid) token, 403 without the scope, and lets the handler run
// with the scope.
func TestAPIThroughGin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	other := logtotest.NewServer(t) // another tenant: another key and issuer
	mint := func(op *logtotest.Server, audience, scope string) string {
		t.Helper()
		now := time.Now()
		tok, err := op.Sign(map[string]any{"typ": "at+jwt"}, map[string]any{
			"iss": op.Issuer(), "aud": audience, "sub": logtotest.DefaultUserID,
			"client_id": testAppID, "scope": scope,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name   string
		token  string
		status int
		error  string // error="..." in WWW-Authenticate
	}{
		{"no token", "", http.StatusUnauthorized, ""},
		{"garbage", "not-a-jwt", http.StatusUnauthorized, "invalid_token"},
		{"another tenant", mint(other, a.api, scopeRead), http.StatusUnauthorized, "invalid_token"},
		{"another audience", mint(a.op, "https://elsewhere.example.com", scopeRead), http.StatusUnauthorized, "invalid_token"},
		{"without the scope", mint(a.op, a.api, "write:messages"), http.StatusForbidden, "insufficient_scope"},
		{"with the scope", mint(a.op, a.api, "write:messages "+scopeRead), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Accept": {"application/json"}}
			if tt.token != "" {
				h.Set("Authorization", "Bearer "+tt.token)
			}
			r := (&browser{t, http.DefaultClient}).do(http.MethodGet, a.url+"/api/messages", h, "")
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			challenge := r.Header.Get("WWW-Authenticate")
			if tt.status == http.StatusOK {
				var got struct {
					Sub      string   `json:"sub"`
					Messages []string `json:"messages"`
				}
				if err := json.Unmarshal([]byte(r.body), &got); err != nil || got.Sub != logtotest.DefaultUserID || len(got.Messages) == 0 {
					t.Fatalf("body %s (%v): want the token's sub %s and messages", r.body, err, logtotest.DefaultUserID)
				}
				return
			}
			if !strings.HasPrefix(challenge, "Bearer ") || !strings.Contains(challenge, tt.error) {
				t.Errorf("WWW-Authenticate %q, want Bearer with %q", challenge, tt.error)
			}
			if strings.Contains(r.body, "Hello from gin") {
				t.Errorf("the handler ran after the middleware refused: %s", r.body)
			}
		})
	}
}

func TestLoadSettings(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	s, err := loadSettings(env())
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if !s.Demo || c.Endpoint != demoProviderURL || c.BaseURL != defaultBaseURL || c.AppID != logtotest.DefaultAppID ||
		s.API != defaultBaseURL+"/api" || len(c.Resources) != 1 || c.Resources[0] != s.API || len(c.CookieSecret) < 32 {
		t.Errorf("defaults: %+v (API %q)", c, s.API)
	}
	s, err = loadSettings(env("LOGTO_ENDPOINT", "https://foo.logto.app", "LOGTO_APP_ID", "id", "LOGTO_APP_SECRET", "secret",
		"LOGTO_BASE_URL", "https://app.example.com/", "API_RESOURCE", "https://api.example.com"))
	if err != nil || s.Demo || s.Config.BaseURL != "https://app.example.com" || s.API != "https://api.example.com" {
		t.Errorf("with a tenant: %+v, %v", s, err)
	}
	for _, bad := range [][]string{
		{"LOGTO_ENDPOINT", "https://foo.logto.app"}, // no app credentials
		{"LOGTO_BASE_URL", "http://localhost:3000/app"},
	} {
		if _, err := loadSettings(env(bad...)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
