package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

const testCookieSecret = "test-cookie-secret-0123456789-abcdefghij"

// recipe is newRouter served on httptest, signing in with a logtotest
// provider that knows the app and the API resource.
type recipe struct {
	url, apiResource string
	op               *logtotest.Server
}

func startRecipe(t *testing.T) *recipe {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	r := &recipe{url: "http://" + ts.Listener.Addr().String()}
	r.apiResource = r.url + "/api"
	app := logtotest.DefaultApp()
	app.RedirectURIs = []string{r.url + "/callback"}
	app.PostLogoutRedirectURIs = []string{r.url + "/"}
	r.op = logtotest.NewServer(t, logtotest.WithApps(app),
		logtotest.WithResources(logtotest.Resource{Indicator: r.apiResource, Scopes: []string{scopeRead}}))
	client, err := logto.New(logto.Config{
		AppID:        app.ID,
		AppSecret:    app.Secret,
		Endpoint:     r.op.URL(),
		BaseURL:      r.url,
		CookieSecret: testCookieSecret,
		Scopes:       []string{scopeRead},
		Resources:    []string{r.apiResource},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: r.op.URL(), Audience: r.apiResource})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = newRouter(client, rs, r.apiResource)
	ts.Start()
	return r
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

// do sends a request with header (alternating keys and values) and returns
// the response and its body.
func (b *browser) do(method, rawURL string, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, rawURL, nil)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return resp, string(body)
}

// page GETs path as a browser navigation.
func (b *browser) page(rawURL string) (*http.Response, string) {
	b.t.Helper()
	return b.do(http.MethodGet, rawURL, "Accept", "text/html")
}

// signIn walks sign-in → provider → callback through the router.
func (b *browser) signIn(r *recipe) {
	t := b.t
	t.Helper()
	next := r.url + "/sign-in"
	for hops := 0; ; hops++ {
		resp, body := b.page(next)
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET %s: status %d, want a redirect; body %s", next, resp.StatusCode, body)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if next == r.url+"/sign-in" && !strings.HasPrefix(loc.String(), r.op.Issuer()+"/auth?") {
			t.Fatalf("GET /sign-in: Location %s, want the provider's authorization endpoint", loc)
		}
		if strings.HasPrefix(next, r.url+"/callback?") {
			if loc.String() != "/" && loc.String() != r.url+"/" {
				t.Fatalf("GET /callback: Location %s, want /", loc)
			}
			return
		}
		if hops == 5 {
			t.Fatalf("no callback after %d hops, at %s", hops, loc)
		}
		next = loc.String()
	}
}

// sessionCookieSet reports whether resp sets the session cookie (or one of
// its chunks) to a value.
func sessionCookieSet(resp *http.Response) bool {
	name := "logto_" + logtotest.DefaultAppID
	for _, c := range resp.Cookies() {
		if (c.Name == name || strings.HasPrefix(c.Name, name+".")) && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// refreshes counts the refresh-token grants the provider received.
func refreshes(op *logtotest.Server) int {
	n := 0
	for _, req := range op.Requests() {
		if req.Path == "/oidc/token" && req.Form.Get("grant_type") == "refresh_token" {
			n++
		}
	}
	return n
}

// TestSignIn signs in through the Echo router: the pages before and after,
// a token refresh inside a handler that must end in the session cookie, and
// sign-out.
func TestSignIn(t *testing.T) {
	t.Parallel()
	r := startRecipe(t)
	b := newBrowser(t)
	sub := logtotest.DefaultUserID

	// Signed out: the home page offers Sign In, the profile needs a session.
	if resp, body := b.page(r.url + "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/sign-in"`) || strings.Contains(body, "Hello") {
		t.Fatalf("GET / signed out: status %d, body\n%s", resp.StatusCode, body)
	}
	resp, _ := b.page(r.url + "/profile")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/sign-in?returnTo=%2Fprofile" {
		t.Errorf("GET /profile signed out: %d to %q, want 303 to /sign-in?returnTo=%%2Fprofile", resp.StatusCode, loc)
	}
	if resp, _ := b.do(http.MethodGet, r.url+"/profile", "Accept", "application/json"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /profile signed out, not a page: status %d, want 401", resp.StatusCode)
	}

	b.signIn(r)
	resp, body := b.page(r.url + "/")
	for _, want := range []string{"Hello, " + sub, `<form method="post" action="/sign-out">`, "Sign Out"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET / signed in: status %d, no %q in\n%s", resp.StatusCode, want, body)
		}
	}

	// The profile handler gets an access token for the API: a refresh grant
	// (with refresh-token rotation) inside the handler. The new session must
	// reach the browser with the page's own response: with an adapter whose
	// handler wrote past the SDK's writer, the cookie would come after the
	// headers and be lost (checked by hand: this test then fails here).
	before := refreshes(r.op)
	resp, body = b.page(r.url + "/profile")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello, "+sub) || !strings.Contains(body, "<code>"+scopeRead+"</code>") {
		t.Fatalf("GET /profile: status %d, body\n%s", resp.StatusCode, body)
	}
	if got := refreshes(r.op) - before; got != 1 {
		t.Errorf("GET /profile: %d refresh grants, want 1", got)
	}
	if !sessionCookieSet(resp) {
		t.Errorf("GET /profile refreshed tokens but set no session cookie: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := b.page(r.url + "/profile"); resp.StatusCode != http.StatusOK || refreshes(r.op)-before != 1 {
		t.Errorf("GET /profile again: status %d, %d refresh grants in all, want 200 and still 1 (token kept in the session)", resp.StatusCode, refreshes(r.op)-before)
	}

	// Sign out: 303 to Logto's end-session endpoint, and the session is gone.
	resp, _ = b.do(http.MethodPost, r.url+"/sign-out", "Origin", r.url)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, r.op.Issuer()+"/session/end?") {
		t.Fatalf("POST /sign-out: %d to %q, want 303 to the end-session endpoint", resp.StatusCode, loc)
	}
	if resp, body := b.page(r.url + "/"); resp.StatusCode != http.StatusOK || strings.Contains(body, "Hello") || !strings.Contains(body, "Sign In") {
		t.Errorf("GET / after sign-out: status %d, body\n%s", resp.StatusCode, body)
	}
	if resp, _ := b.page(r.url + "/profile"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /profile after sign-out: status %d, want 303", resp.StatusCode)
	}
}

// TestBackChannelLogout ends a session with a logout token posted to the
// router.
func TestBackChannelLogout(t *testing.T) {
	t.Parallel()
	r := startRecipe(t)
	b := newBrowser(t)
	b.signIn(r)

	now := time.Now()
	token, err := r.op.Sign(map[string]any{"typ": "logout+jwt"}, map[string]any{
		"iss": r.op.Issuer(), "aud": logtotest.DefaultAppID, "sub": logtotest.DefaultUserID,
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "echo-recipe-logout",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(r.url+"/backchannel-logout", url.Values{"logout_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /backchannel-logout: status %d, want 200", resp.StatusCode)
	}
	if resp, body := b.page(r.url + "/"); strings.Contains(body, "Hello") {
		t.Errorf("GET / after back-channel logout: status %d, still signed in:\n%s", resp.StatusCode, body)
	}
}

// TestAPI calls GET /api/messages with the tokens ResourceServer.Middleware
// tells apart.
func TestAPI(t *testing.T) {
	t.Parallel()
	r := startRecipe(t)
	mint := func(aud, scope string) string {
		now := time.Now()
		tok, err := r.op.Sign(map[string]any{"typ": "at+jwt"}, map[string]any{
			"iss": r.op.Issuer(), "aud": aud, "sub": logtotest.DefaultUserID, "client_id": logtotest.DefaultAppID,
			"scope": scope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name, token string
		want        int
		wantError   string // in WWW-Authenticate
	}{
		{"no token", "", http.StatusUnauthorized, ""},
		{"another audience", mint("https://other.example", scopeRead), http.StatusUnauthorized, `error="invalid_token"`},
		{"without the scope", mint(r.apiResource, "write:messages"), http.StatusForbidden, `error="insufficient_scope"`},
		{"with the scope", mint(r.apiResource, "openid "+scopeRead), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var header []string
			if tt.token != "" {
				header = []string{"Authorization", "Bearer " + tt.token}
			}
			resp, body := newBrowser(t).do(http.MethodGet, r.url+"/api/messages", header...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if tt.want != http.StatusOK && (!strings.HasPrefix(challenge, "Bearer ") || !strings.Contains(challenge, tt.wantError)) {
				t.Errorf("WWW-Authenticate %q, want Bearer with %q", challenge, tt.wantError)
			}
			if tt.want == http.StatusOK && !strings.Contains(body, `"to":"`+logtotest.DefaultUserID+`"`) {
				t.Errorf("body %s, want a message to %s", body, logtotest.DefaultUserID)
			}
		})
	}
}
