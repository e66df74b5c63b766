package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

const testCookieSecret = "test-cookie-secret-0123456789-abcdefghij"

// browser is an http.Client with a cookie jar that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (b *browser) do(method, rawURL string, header http.Header) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, rawURL, nil)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", method, rawURL, err)
	}
	return resp, string(body)
}

func (b *browser) get(rawURL string) (*http.Response, string) {
	b.t.Helper()
	return b.do(http.MethodGet, rawURL, nil)
}

// location resolves the response's Location against its request URL.
func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("%s %s: no Location (status %d): %v", resp.Request.Method, resp.Request.URL, resp.StatusCode, err)
	}
	return loc
}

func isRedirect(code int) bool { return code == http.StatusFound || code == http.StatusSeeOther }

// lcJSON is the LogtoContext shape of /api/context.
type lcJSON struct {
	IsAuthenticated bool           `json:"isAuthenticated"`
	Claims          map[string]any `json:"claims"`
	Scopes          []string       `json:"scopes"`
}

func (b *browser) context(appURL string) lcJSON {
	b.t.Helper()
	resp, body := b.get(appURL + "/api/context")
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET /api/context: status %d, want 200; body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		b.t.Errorf("GET /api/context: Cache-Control %q, want %q", got, "no-store")
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		b.t.Errorf("GET /api/context: Content-Type %q, want application/json", got)
	}
	var lc lcJSON
	if err := json.Unmarshal([]byte(body), &lc); err != nil {
		b.t.Fatalf("GET /api/context: %v; body %s", err, body)
	}
	return lc
}

func (b *browser) wantSignedOut(appURL string) {
	b.t.Helper()
	resp, body := b.get(appURL + "/")
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET /: status %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(body, "Sign In") || !strings.Contains(body, `href="/sign-in"`) {
		b.t.Errorf("GET / signed out: no Sign In link in\n%s", body)
	}
	if strings.Contains(body, "Hello,") || strings.Contains(body, "Sign Out") {
		b.t.Errorf("GET / signed out: page greets a user:\n%s", body)
	}
	lc := b.context(appURL)
	if lc.IsAuthenticated || lc.Claims != nil {
		b.t.Errorf("GET /api/context signed out: got %+v, want isAuthenticated false and no claims", lc)
	}
}

// signIn walks the browser through sign-in at the app at appURL, whose
// provider is at providerURL, and back to the home page.
func (b *browser) signIn(appURL, providerURL string) {
	t := b.t
	t.Helper()
	// Sign in: the app redirects to the authorization endpoint.
	resp, _ := b.get(appURL + "/sign-in?returnTo=/")
	if !isRedirect(resp.StatusCode) {
		t.Fatalf("GET /sign-in: status %d, want 302 or 303", resp.StatusCode)
	}
	loc := location(t, resp)
	if want := providerURL + "/oidc/auth"; loc.Scheme+"://"+loc.Host+loc.Path != want {
		t.Fatalf("GET /sign-in: Location %s, want %s?...", loc, want)
	}

	// Follow the provider's hops until it sends the browser back to /callback.
	app, _ := url.Parse(appURL)
	for hops := 0; loc.Host != app.Host; hops++ {
		if hops == 10 {
			t.Fatalf("still at the provider after %d hops: %s", hops, loc)
		}
		resp, body := b.get(loc.String())
		if !isRedirect(resp.StatusCode) {
			t.Fatalf("GET %s: status %d, want a redirect; body %s", loc, resp.StatusCode, body)
		}
		loc = location(t, resp)
	}
	if loc.Path != "/callback" {
		t.Fatalf("provider redirected to %s, want /callback", loc)
	}
	resp, body := b.get(loc.String())
	if !isRedirect(resp.StatusCode) {
		t.Fatalf("GET /callback: status %d, want 302 or 303; body %s", resp.StatusCode, body)
	}
	if got := location(t, resp); got.String() != appURL+"/" && got.Path != "/" {
		t.Fatalf("GET /callback: Location %s, want /", got)
	}
}

// walk runs the whole contract with b against an app at appURL whose
// provider is at providerURL, for the user with ID sub, whom signIn signs in.
// It returns the end-session URL the app's sign-out redirected to, not
// visited.
func walk(t *testing.T, b *browser, appURL, providerURL, sub string, signIn func(*browser)) (endSession *url.URL) {
	b.wantSignedOut(appURL)
	signIn(b)

	// Signed in.
	resp, body := b.get(appURL + "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / signed in: status %d, want 200", resp.StatusCode)
	}
	for _, want := range []string{"Hello, " + sub, "Sign Out", `method="post"`, `action="/sign-out"`, `&#34;sub&#34;: &#34;` + sub + `&#34;`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / signed in: no %q in\n%s", want, body)
		}
	}
	lc := b.context(appURL)
	if !lc.IsAuthenticated {
		t.Errorf("GET /api/context signed in: isAuthenticated false, want true")
	}
	if got := lc.Claims["sub"]; got != sub {
		t.Errorf("GET /api/context signed in: claims.sub %v, want %q", got, sub)
	}
	if len(lc.Scopes) == 0 {
		t.Errorf("GET /api/context signed in: no scopes")
	}

	// Sign out: GET is refused, cross-origin POST is refused, same-origin
	// POST redirects to the end-session endpoint.
	if resp, _ := b.get(appURL + "/sign-out"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /sign-out: status %d, want 405", resp.StatusCode)
	}
	resp, _ = b.do(http.MethodPost, appURL+"/sign-out", http.Header{"Origin": {"https://evil.example"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST /sign-out: status %d, want 403", resp.StatusCode)
	}
	if lc := b.context(appURL); !lc.IsAuthenticated {
		t.Fatalf("cross-origin POST /sign-out signed the user out")
	}
	resp, _ = b.do(http.MethodPost, appURL+"/sign-out", http.Header{"Origin": {appURL}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /sign-out: status %d, want 303", resp.StatusCode)
	}
	loc := location(t, resp)
	if want := providerURL + "/oidc/session/end"; loc.Scheme+"://"+loc.Host+loc.Path != want {
		t.Errorf("POST /sign-out: Location %s, want %s?...", loc, want)
	}
	if got, want := loc.Query().Get("post_logout_redirect_uri"), appURL+"/"; got != want {
		t.Errorf("POST /sign-out: post_logout_redirect_uri %q, want %q", got, want)
	}
	b.wantSignedOut(appURL)
	return loc
}

// startApp serves the app for cfg (and api, which may be zero) on a fresh
// loopback port.
func startApp(t *testing.T, cfg logto.Config, api apiTarget) (appURL string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	appURL = "http://" + ts.Listener.Addr().String()
	cfg.BaseURL = appURL
	if cfg.CookieSecret == "" {
		cfg.CookieSecret = testCookieSecret
	}
	a, err := newApp(cfg, api)
	if err != nil {
		ts.Close()
		t.Fatal(err)
	}
	ts.Config.Handler = a
	ts.Start()
	t.Cleanup(ts.Close)
	return appURL
}

func demoApp(id, appURL string) logtotest.App {
	return logtotest.App{
		ID:                     id,
		Secret:                 logtotest.DefaultAppSecret,
		RedirectURIs:           []string{appURL + "/callback"},
		PostLogoutRedirectURIs: []string{appURL + "/"},
	}
}

func TestContract(t *testing.T) {
	t.Parallel()
	for name, scopes := range map[string][]string{
		"default scopes":  nil,
		"email and phone": {logto.UserScopeEmail, logto.UserScopePhone},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := logtotest.NewServer(t)
			appURL := startApp(t, logto.Config{
				AppID:     logtotest.DefaultAppID,
				AppSecret: logtotest.DefaultAppSecret,
				Endpoint:  srv.URL(),
				Scopes:    scopes,
				Logger:    discard,
			}, apiTarget{})
			srv.AddApp(demoApp(logtotest.DefaultAppID, appURL))
			walk(t, newBrowser(t), appURL, srv.URL(), logtotest.DefaultUserID, func(b *browser) { b.signIn(appURL, srv.URL()) })
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	appURL := startApp(t, logto.Config{
		AppID:     logtotest.DefaultAppID,
		AppSecret: logtotest.DefaultAppSecret,
		Endpoint:  srv.URL(),
		Logger:    discard,
	}, apiTarget{})
	srv.AddApp(demoApp(logtotest.DefaultAppID, appURL))

	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		want   int
	}{
		{"callback without state", http.MethodGet, "/callback", nil, http.StatusBadRequest},
		{"callback with unknown state", http.MethodGet, "/callback?code=x&state=y", nil, http.StatusBadRequest},
		{"GET sign-out", http.MethodGet, "/sign-out", nil, http.StatusMethodNotAllowed},
		{"cross-origin sign-out", http.MethodPost, "/sign-out", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"POST home", http.MethodPost, "/", nil, http.StatusNotFound},
		{"unknown path", http.MethodGet, "/nope", nil, http.StatusNotFound},
		{"tampered session", http.MethodGet, "/api/context", http.Header{"Cookie": {"logto_" + logtotest.DefaultAppID + "=garbage"}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := newBrowser(t).do(tt.method, appURL+tt.path, tt.header)
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.want, body)
			}
		})
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadSettings(t *testing.T) {
	t.Parallel()
	t.Run("empty env: demo defaults", func(t *testing.T) {
		t.Parallel()
		s, err := loadSettings(mapEnv(nil), demoProviderURL)
		if err != nil {
			t.Fatal(err)
		}
		c := s.Config
		if !s.Demo || c.Endpoint != demoProviderURL || c.BaseURL != defaultBaseURL ||
			c.AppID != logtotest.DefaultAppID || c.AppSecret != logtotest.DefaultAppSecret {
			t.Errorf("got %v (demo %v), want the demo defaults", c, s.Demo)
		}
		if !s.RandomCookieSecret || len(c.CookieSecret) < 32 {
			t.Errorf("got a %d-character cookie secret (random %v), want a random one of 32+", len(c.CookieSecret), s.RandomCookieSecret)
		}
		s2, _ := loadSettings(mapEnv(nil), demoProviderURL)
		if s2.Config.CookieSecret == c.CookieSecret {
			t.Error("two starts got the same random cookie secret")
		}
		if !slices.Equal(c.Scopes, demoScopes) || !slices.Equal(c.Resources, []string{defaultAPIResource}) {
			t.Errorf("Scopes %q, Resources %q; want the demo's %q and [%s]", c.Scopes, c.Resources, demoScopes, defaultAPIResource)
		}
		if want := (apiTarget{defaultAPIResource, defaultAPIResource}); s.API != want || !s.ServeAPI {
			t.Errorf("API %+v (serve %v), want %+v served in process", s.API, s.ServeAPI, want)
		}
	})
	t.Run("demo settings", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name          string
			env           map[string]string
			wantScopes    []string
			wantResources []string
			wantAPI       apiTarget
			wantServe     bool
		}{
			{"LOGTO_SCOPES and LOGTO_RESOURCES override", map[string]string{"LOGTO_SCOPES": "email", "LOGTO_RESOURCES": "https://b.example.com"},
				[]string{"email"}, []string{"https://b.example.com"}, apiTarget{defaultAPIResource, defaultAPIResource}, true},
			{"API_RESOURCE", map[string]string{"API_RESOURCE": "http://127.0.0.1:4000/"},
				demoScopes, []string{"http://127.0.0.1:4000/"}, apiTarget{"http://127.0.0.1:4000/", "http://127.0.0.1:4000"}, true},
			{"API_URL: the API runs elsewhere", map[string]string{"API_URL": "http://127.0.0.1:4000"},
				demoScopes, []string{defaultAPIResource}, apiTarget{defaultAPIResource, "http://127.0.0.1:4000"}, false},
		}
		for _, tt := range tests {
			s, err := loadSettings(mapEnv(tt.env), demoProviderURL)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !slices.Equal(s.Config.Scopes, tt.wantScopes) || !slices.Equal(s.Config.Resources, tt.wantResources) || s.API != tt.wantAPI || s.ServeAPI != tt.wantServe {
				t.Errorf("%s: Scopes %q Resources %q API %+v serve %v; want %q %q %+v %v", tt.name,
					s.Config.Scopes, s.Config.Resources, s.API, s.ServeAPI, tt.wantScopes, tt.wantResources, tt.wantAPI, tt.wantServe)
			}
		}
		if _, err := loadSettings(mapEnv(map[string]string{"API_RESOURCE": "urn:example:api"}), demoProviderURL); err == nil {
			t.Error("API_RESOURCE that is not a URL, without API_URL: no error")
		}
	})
	t.Run("real Logto with API_RESOURCE", func(t *testing.T) {
		t.Parallel()
		s, err := loadSettings(mapEnv(map[string]string{
			"LOGTO_ENDPOINT": "https://foo.logto.app", "LOGTO_APP_ID": "id", "LOGTO_APP_SECRET": "secret",
			"LOGTO_RESOURCES": "https://b.example.com", "API_RESOURCE": "https://api.example.com", "API_URL": "http://127.0.0.1:3002",
		}), demoProviderURL)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Config.Resources, []string{"https://b.example.com", "https://api.example.com"}; !slices.Equal(got, want) {
			t.Errorf("Resources %q, want %q", got, want)
		}
		if want := (apiTarget{"https://api.example.com", "http://127.0.0.1:3002"}); s.API != want || s.ServeAPI || len(s.Config.Scopes) != 0 {
			t.Errorf("API %+v serve %v scopes %q; want %+v, not served, no scopes", s.API, s.ServeAPI, s.Config.Scopes, want)
		}
	})
	t.Run("everything set", func(t *testing.T) {
		t.Parallel()
		s, err := loadSettings(mapEnv(map[string]string{
			"LOGTO_ENDPOINT":      "https://foo.logto.app",
			"LOGTO_APP_ID":        "id",
			"LOGTO_APP_SECRET":    "secret",
			"LOGTO_BASE_URL":      "https://app.example.com",
			"LOGTO_COOKIE_SECRET": testCookieSecret,
			"LOGTO_SCOPES":        " email  phone ",
			"LOGTO_RESOURCES":     "https://api.example.com https://b.example.com",
		}), demoProviderURL)
		if err != nil {
			t.Fatal(err)
		}
		c := s.Config
		if s.Demo || s.RandomCookieSecret || c.Endpoint != "https://foo.logto.app" || c.AppID != "id" ||
			c.AppSecret != "secret" || c.BaseURL != "https://app.example.com" || c.CookieSecret != testCookieSecret {
			t.Errorf("got %v (demo %v, random secret %v)", c, s.Demo, s.RandomCookieSecret)
		}
		if got := strings.Join(c.Scopes, ","); got != "email,phone" {
			t.Errorf("Scopes %q, want email,phone", got)
		}
		if got := strings.Join(c.Resources, ","); got != "https://api.example.com,https://b.example.com" {
			t.Errorf("Resources %q", got)
		}
		if s.API != (apiTarget{}) || s.ServeAPI {
			t.Errorf("API %+v (serve %v) with a real Logto and no API_RESOURCE, want none", s.API, s.ServeAPI)
		}
	})
	t.Run("endpoint without credentials", func(t *testing.T) {
		t.Parallel()
		for _, env := range []map[string]string{
			{"LOGTO_ENDPOINT": "https://foo.logto.app"},
			{"LOGTO_ENDPOINT": "https://foo.logto.app", "LOGTO_APP_ID": "id"},
			{"LOGTO_APP_ID": "id"},
		} {
			if _, err := loadSettings(mapEnv(env), demoProviderURL); err == nil {
				t.Errorf("loadSettings(%v): no error, want one about the missing credential", env)
			}
		}
	})
}

// TestRun starts the whole program, dev provider included, on free ports and
// signs in through the provider's pages as a browser without JavaScript
// would: with the demo user's phone and the code printed on stdout, then with
// the username and password.
func TestRun(t *testing.T) {
	t.Parallel()
	r := startRun(t, nil)
	appURL, providerURL, apiURL := r.appURL, r.providerURL, r.apiURL

	out := r.stdout.String()
	user := logtotest.DefaultUser()
	for _, want := range []string{
		"running the Logto dev provider (logtodev) at " + providerURL,
		"Demo user " + user.ID + ": phone " + user.Phone + ", username " + user.Username + ", password " + user.Password,
		"won't survive a restart", "demo API (examples/api) at " + apiURL,
		"Open " + appURL + "/ and press Sign In. Sign in with phone " + user.Phone +
			": the verification code appears below as 'SMS to " + user.Phone + ": ...'. (Or use username " +
			user.Username + " / password " + user.Password + ".",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout has no %q:\n%s", want, out)
		}
	}

	b := newBrowser(t)
	phoneSignIn := func(b *browser) { b.signInWithCode(appURL, providerURL, user.Phone, r.smsCode) }
	end := walk(t, b, appURL, providerURL, user.ID, phoneSignIn)
	if lc := b.context(appURL); lc.IsAuthenticated {
		t.Fatal("signed in after sign-out")
	}
	// The app signed out, the provider session lives on until the
	// end-session page is submitted; then the next sign-in asks again.
	b.endSession(end, appURL)
	b.startSignIn(appURL, providerURL)

	// Username and password, then the demo API (in process, trusting the
	// demo provider) and its organization.
	b = newBrowser(t)
	b.signInWithPassword(appURL, providerURL, user.Username, user.Password)
	lc := b.context(appURL)
	if !lc.IsAuthenticated || lc.Claims["sub"] != user.ID || lc.Claims["phone_number"] != user.Phone {
		t.Errorf("after password sign-in: %+v, want sub %s and phone_number %s", lc, user.ID, user.Phone)
	}
	resp, body := b.do(http.MethodPost, appURL+"/call-api", http.Header{"Origin": {appURL}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "200 OK") || !strings.Contains(body, "GET "+apiURL+"/api/messages") {
		t.Errorf("POST /call-api: status %d, want 200 and the API's 200 OK; body\n%s", resp.StatusCode, body)
	}
	status, flc, body := b.contextQuery(appURL, "getAccessToken=1&resource="+url.QueryEscape(apiURL)+"&organizationId="+demoOrgID)
	if c, err := logto.InsecureDecodeAccessTokenClaims(flc.AccessToken); status != http.StatusOK || err != nil || c.OrganizationID != demoOrgID || !c.HasScopes("read:messages") {
		t.Errorf("organization-scoped API token from the demo: %d %s", status, body)
	}

	// A number nobody has registers a new user, who is not the demo user.
	b = newBrowser(t)
	const newPhone = "4915123456789"
	b.signInWithCode(appURL, providerURL, "+49 151 2345 6789", r.smsCode)
	lc = b.context(appURL)
	registered, ok := r.dev.Provider.FindUserByPhone(newPhone)
	if !ok || !lc.IsAuthenticated || lc.Claims["sub"] != registered.ID || registered.ID == user.ID || lc.Claims["phone_number"] != newPhone {
		t.Errorf("registration: context %+v, user %+v (found %v); want a new user with phone %s", lc, registered, ok, newPhone)
	}
	// The new user holds no role: the API refuses the scope-less token.
	resp, body = b.do(http.MethodPost, appURL+"/call-api", http.Header{"Origin": {appURL}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "403 Forbidden") {
		t.Errorf("POST /call-api as a new user: status %d, want 200 showing the API's 403; body\n%s", resp.StatusCode, body)
	}

	if err := r.stop(); err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(appURL, "http://"), time.Second); err == nil {
		t.Error("the app still accepts connections after shutdown")
	}
	if !strings.Contains(r.stderr.String(), "level=INFO msg=listening") {
		t.Errorf("stderr has no text log line 'listening':\n%s", r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "logtodev: signed in") {
		t.Errorf("stderr has no logtodev sign-in log line:\n%s", r.stderr.String())
	}
}

// TestRunSMSRecordFile: LOGTO_DEV_SMS=console:<file> still prints the code
// and also writes Logto's mock SMS record file.
func TestRunSMSRecordFile(t *testing.T) {
	t.Parallel()
	record := filepath.Join(t.TempDir(), "mock_sms_record.txt")
	r := startRun(t, map[string]string{"LOGTO_DEV_SMS": "console:" + record})
	user := logtotest.DefaultUser()
	b := newBrowser(t)
	b.signInWithCode(r.appURL, r.providerURL, user.Phone, r.smsCode)
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Phone, Code, Type string }
	if err := json.Unmarshal(data, &rec); err != nil || rec.Phone != user.Phone || rec.Code == "" || rec.Type != "SignIn" {
		t.Errorf("record file %s: %+v %v", data, rec, err)
	}
}

func TestRunBadSMSSpec(t *testing.T) {
	t.Parallel()
	err := runWith(t.Context(), mapEnv(map[string]string{"LOGTO_DEV_SMS": "carrier-pigeon"}), io.Discard, runOptions{stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "LOGTO_DEV_SMS") {
		t.Errorf("run with LOGTO_DEV_SMS=carrier-pigeon: %v, want an error naming LOGTO_DEV_SMS", err)
	}
}

func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	err := runWith(t.Context(), mapEnv(map[string]string{
		"LOGTO_ENDPOINT":      "https://foo.logto.app",
		"LOGTO_APP_ID":        "id",
		"LOGTO_APP_SECRET":    "secret",
		"LOGTO_COOKIE_SECRET": "short",
	}), io.Discard, runOptions{stderr: io.Discard})
	if !errors.Is(err, logto.ErrInvalidConfig) {
		t.Errorf("run with a short cookie secret: %v, want ErrInvalidConfig", err)
	}
}

// syncBuffer is a log or console sink safe for concurrent use.
type syncBuffer = testkit.Buffer

var discard = slog.New(slog.DiscardHandler)
