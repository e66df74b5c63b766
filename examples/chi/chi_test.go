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

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

const testCookieSecret = "test-cookie-secret-0123456789-abcdefghij"

// recipe is newRouter served on httptest, signed in with the demo provider
// (demoProviderOptions) served on httptest too.
type recipe struct {
	t           *testing.T
	op          *logtotest.Provider
	url         string // the app
	apiResource string
}

// newRecipe starts the provider and the app, configured by loadSettings as
// the command is; now is the clock of both (nil: time.Now).
func newRecipe(t *testing.T, now func() time.Time) *recipe {
	t.Helper()
	opSrv, appSrv := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	t.Cleanup(opSrv.Close)
	t.Cleanup(appSrv.Close)
	opURL, appURL := "http://"+opSrv.Listener.Addr().String(), "http://"+appSrv.Listener.Addr().String()
	env := map[string]string{
		"LOGTO_ENDPOINT":      opURL,
		"LOGTO_APP_ID":        logtotest.DefaultAppID,
		"LOGTO_APP_SECRET":    logtotest.DefaultAppSecret,
		"LOGTO_BASE_URL":      appURL,
		"LOGTO_COOKIE_SECRET": testCookieSecret,
		"API_RESOURCE":        appURL + "/api",
	}
	s, err := loadSettings(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s.Config.Now = now
	client, err := logto.New(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: opURL, Audience: s.APIResource, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	app := logtotest.DefaultApp()
	app.RedirectURIs = []string{client.RedirectURI()}
	app.PostLogoutRedirectURIs = []string{client.PostLogoutRedirectURI()}
	opts := demoProviderOptions(opURL, app, s.APIResource)
	opts.Now = now
	op, err := logtotest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	opSrv.Config.Handler = op
	opSrv.Start()
	appSrv.Config.Handler = newRouter(client, rs, s.APIResource)
	appSrv.Start()
	return &recipe{t: t, op: op, url: appURL, apiResource: s.APIResource}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t, &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request with header (key, value pairs) and reads the body.
func (b *browser) do(method, rawURL string, body io.Reader, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	s, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return resp, string(s)
}

// page GETs rawURL as a browser navigation does.
func (b *browser) page(rawURL string) (*http.Response, string) {
	b.t.Helper()
	return b.do(http.MethodGet, rawURL, nil, "Accept", "text/html")
}

func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("%s %s: status %d, no Location: %v", resp.Request.Method, resp.Request.URL, resp.StatusCode, err)
	}
	return loc
}

// signIn walks b through GET /sign-in?returnTo=/profile, the provider and
// GET /callback, and checks the callback sends it to /profile.
func (rc *recipe) signIn(b *browser) {
	t := rc.t
	t.Helper()
	resp, _ := b.page(rc.url + "/sign-in?returnTo=/profile")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /sign-in: status %d, want 302", resp.StatusCode)
	}
	loc := location(t, resp)
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, rc.op.Issuer()+"/auth"; got != want {
		t.Fatalf("GET /sign-in: Location %s, want %s?...", loc, want)
	}
	for hops := 0; !strings.HasPrefix(loc.String(), rc.url+"/"); hops++ {
		if hops == 5 {
			t.Fatalf("still at the provider after %d hops: %s", hops, loc)
		}
		resp, body := b.page(loc.String())
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET %s: status %d, want 303; body %s", loc, resp.StatusCode, body)
		}
		loc = location(t, resp)
	}
	if loc.Path != "/callback" {
		t.Fatalf("the provider sent the browser to %s, want /callback", loc)
	}
	resp, body := b.page(loc.String())
	if resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/profile" {
		t.Fatalf("GET /callback: status %d, Location %q, want 303 to /profile; body %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// wantSignedOut checks the home page offers Sign In and /profile refuses
// b: a redirect to sign-in for a page navigation, 401 for other requests.
func (rc *recipe) wantSignedOut(b *browser) {
	t := rc.t
	t.Helper()
	resp, body := b.page(rc.url + "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/sign-in?returnTo=/profile"`) || strings.Contains(body, "Hello") {
		t.Errorf("GET / signed out: status %d, want 200 with a Sign In link and no Hello:\n%s", resp.StatusCode, body)
	}
	resp, _ = b.page(rc.url + "/profile")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/sign-in?") || !strings.Contains(loc, "returnTo=%2Fprofile") {
		t.Errorf("GET /profile (text/html) signed out: status %d, Location %q, want 303 to /sign-in?returnTo=%%2Fprofile", resp.StatusCode, loc)
	}
	resp, _ = b.do(http.MethodGet, rc.url+"/profile", nil, "Accept", "application/json")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /profile (application/json) signed out: status %d, want 401", resp.StatusCode)
	}
}

// sessionCookieSet reports whether resp sets the session cookie
// (logto_<AppID>, or its chunks logto_<AppID>.N).
func sessionCookieSet(resp *http.Response) bool {
	name := "logto_" + logtotest.DefaultAppID
	for _, c := range resp.Cookies() {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			return true
		}
	}
	return false
}

// TestSignInThroughChi signs in through the chi router: the protected page
// refuses a signed-out browser, greets the user after sign-in, keeps the
// access token its handler refreshes (the session cookie is written through
// the ResponseWriter chi passed on), and refuses the browser again after
// sign-out.
func TestSignInThroughChi(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	rc := newRecipe(t, clock.Now)
	b := newBrowser(t)

	rc.wantSignedOut(b)
	rc.signIn(b)

	// The first visit gets an access token for the API (a refresh-token
	// grant), in the handler, and stores it in the session cookie.
	profile := func(step string) {
		t.Helper()
		tokens := rc.op.CountRequests("/oidc/token")
		resp, body := b.page(rc.url + "/profile")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET /profile: status %d, want 200; body %s", step, resp.StatusCode, body)
		}
		for _, want := range []string{"Hello, " + logtotest.DefaultUserID, "<code>" + scopeRead + "</code>", `<form method="post" action="/sign-out">`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: GET /profile: no %q in\n%s", step, want, body)
			}
		}
		if got := rc.op.CountRequests("/oidc/token") - tokens; got != 1 {
			t.Errorf("%s: GET /profile made %d token requests, want 1 (a refresh)", step, got)
		}
		if !sessionCookieSet(resp) {
			t.Errorf("%s: GET /profile refreshed a token but did not set the session cookie", step)
		}
		// The browser kept the new token: the next visit needs no refresh
		// (past the 10 s in which the SDK hands a refresh's result to
		// requests that come late, so the token can only be the cookie's).
		clock.Advance(11 * time.Second)
		tokens = rc.op.CountRequests("/oidc/token")
		if resp, _ := b.page(rc.url + "/profile"); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET /profile again: status %d, want 200", step, resp.StatusCode)
		}
		if got := rc.op.CountRequests("/oidc/token") - tokens; got != 0 {
			t.Errorf("%s: GET /profile again made %d token requests, want 0: the refreshed token was not kept", step, got)
		}
	}
	profile("first visit")
	// Close to its expiry (1 h, refreshed 60 s early), the access token is
	// refreshed again; the ID token is still valid.
	clock.Advance(time.Hour - 30*time.Second)
	profile("token about to expire")

	resp, body := b.page(rc.url + "/")
	if !strings.Contains(body, "Hello, "+logtotest.DefaultUserID) || !strings.Contains(body, `href="/profile"`) {
		t.Errorf("GET / signed in: status %d, want Hello and a Profile link:\n%s", resp.StatusCode, body)
	}

	// Sign out: a cross-origin POST is refused; a same-origin one clears the
	// session and goes to Logto's end-session endpoint.
	if resp, _ := b.do(http.MethodGet, rc.url+"/sign-out", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /sign-out: status %d, want 405", resp.StatusCode)
	}
	if resp, _ := b.do(http.MethodPost, rc.url+"/sign-out", nil, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST /sign-out: status %d, want 403", resp.StatusCode)
	}
	resp, _ = b.do(http.MethodPost, rc.url+"/sign-out", nil, "Origin", rc.url)
	if loc := location(t, resp); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), rc.op.Issuer()+"/session/end?") {
		t.Errorf("POST /sign-out: status %d, Location %s, want 303 to the end-session endpoint", resp.StatusCode, loc)
	}
	rc.wantSignedOut(b)
}

// TestBackChannelLogoutThroughChi: a logout token posted to the route ends
// the session.
func TestBackChannelLogoutThroughChi(t *testing.T) {
	t.Parallel()
	rc := newRecipe(t, nil)
	b := newBrowser(t)
	rc.signIn(b)

	now := time.Now()
	token, err := rc.op.Sign(map[string]any{"typ": "logout+jwt"}, map[string]any{
		"iss": rc.op.Issuer(), "aud": logtotest.DefaultAppID, "sub": logtotest.DefaultUserID, "jti": "chi-recipe-logout",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"logout_token": {token}}.Encode()
	resp, body := newBrowser(t).do(http.MethodPost, rc.url+"/backchannel-logout", strings.NewReader(form), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /backchannel-logout: status %d, want 200; body %s", resp.StatusCode, body)
	}
	rc.wantSignedOut(b)
}

// TestAPIThroughChi: the API routes answer 401 without a valid token, 403
// without the scope (or for another organization), 200 otherwise.
func TestAPIThroughChi(t *testing.T) {
	t.Parallel()
	rc := newRecipe(t, nil)
	other, err := logtotest.New(logtotest.Options{URL: "https://other.example"}) // another tenant's key
	if err != nil {
		t.Fatal(err)
	}
	mint := func(op *logtotest.Provider, scope string, edit func(claims map[string]any)) string {
		t.Helper()
		now := time.Now()
		claims := map[string]any{
			"iss": rc.op.Issuer(), "aud": rc.apiResource, "sub": logtotest.DefaultUserID, "client_id": logtotest.DefaultAppID,
			"jti": "chi-recipe", "scope": scope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		if edit != nil {
			edit(claims)
		}
		tok, err := op.Sign(map[string]any{"typ": "at+jwt"}, claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	orgToken := func(org string) func(map[string]any) {
		return func(c map[string]any) { c["aud"] = "urn:logto:organization:" + org }
	}

	tests := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/api/messages", "", http.StatusUnauthorized},
		{"another tenant's token", "/api/messages", mint(other, scopeRead, nil), http.StatusUnauthorized},
		{"another API's token", "/api/messages", mint(rc.op, scopeRead, func(c map[string]any) { c["aud"] = "https://other.example/api" }), http.StatusUnauthorized},
		{"without the scope", "/api/messages", mint(rc.op, "write:messages", nil), http.StatusForbidden},
		{"with the scope", "/api/messages", mint(rc.op, "openid "+scopeRead, nil), http.StatusOK},
		{"organization: no token", "/api/organizations/org1/messages", "", http.StatusUnauthorized},
		{"organization: its token", "/api/organizations/org1/messages", mint(rc.op, scopeRead, orgToken("org1")), http.StatusOK},
		{"organization: another's token", "/api/organizations/org1/messages", mint(rc.op, scopeRead, orgToken("org2")), http.StatusForbidden},
		{"organization: without the scope", "/api/organizations/org1/messages", mint(rc.op, "", orgToken("org1")), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var header []string
			if tt.token != "" {
				header = []string{"Authorization", "Bearer " + tt.token}
			}
			resp, body := newBrowser(t).do(http.MethodGet, rc.url+tt.path, nil, header...)
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s: status %d, want %d; body %s", tt.path, resp.StatusCode, tt.want, body)
			}
			if tt.want != http.StatusOK {
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("GET %s: WWW-Authenticate %q, want a Bearer challenge", tt.path, got)
				}
				return
			}
			var got struct {
				Sub            string   `json:"sub"`
				Scopes         []string `json:"scopes"`
				OrganizationID string   `json:"organizationId"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("GET %s: %v; body %s", tt.path, err, body)
			}
			wantOrg := ""
			if strings.HasPrefix(tt.path, "/api/organizations/") {
				wantOrg = "org1"
			}
			if got.Sub != logtotest.DefaultUserID || got.OrganizationID != wantOrg || !strings.Contains(strings.Join(got.Scopes, " "), scopeRead) {
				t.Errorf("GET %s: got %+v, want sub %q, organizationId %q, scopes with %q", tt.path, got, logtotest.DefaultUserID, wantOrg, scopeRead)
			}
		})
	}
}

// TestLoadSettings: without LOGTO_ENDPOINT the command runs the demo
// provider with its app; with it, the app's credentials and API_RESOURCE
// are required.
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
	if !s.Demo || c.Endpoint != demoProviderURL || c.AppID != logtotest.DefaultAppID || c.BaseURL != defaultBaseURL ||
		s.APIResource != defaultBaseURL+"/api" || len(c.CookieSecret) < 32 {
		t.Errorf("no env: got %+v, want the demo provider, its app, %s/api and a random cookie secret", s, defaultBaseURL)
	}
	if _, err := logto.New(c); err != nil {
		t.Errorf("no env: logto.New: %v", err)
	}
	withLogto := []string{"LOGTO_ENDPOINT", "https://foo.logto.app", "LOGTO_APP_ID", "id", "LOGTO_APP_SECRET", "secret"}
	if _, err := loadSettings(env(withLogto...)); err == nil || !strings.Contains(err.Error(), "API_RESOURCE") {
		t.Errorf("LOGTO_ENDPOINT without API_RESOURCE: err %v, want one naming API_RESOURCE", err)
	}
	if _, err := loadSettings(env("LOGTO_ENDPOINT", "https://foo.logto.app", "API_RESOURCE", "https://api.example.com")); err == nil {
		t.Error("LOGTO_ENDPOINT without the app's credentials: no error")
	}
	s, err = loadSettings(env(append(withLogto, "API_RESOURCE", "https://api.example.com")...))
	if err != nil || s.Demo || s.Config.Resources[0] != "https://api.example.com" {
		t.Errorf("a real Logto: got %+v, %v", s, err)
	}
}
