package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// exampleConfig is the config file shipped with the command.
const exampleConfig = "example.json"

// The demo's set-up, as examples/app/demo.go builds it.
const (
	demoAPI   = "http://localhost:3002"
	demoPhone = "15551234567"
)

// started is the command running in the background.
type started struct {
	out    *lockedBuffer
	issuer string
	url    string // the provider URL: issuer without /oidc
}

// start runs the command with args and env until the test ends, and waits
// for the issuer it prints.
func start(t *testing.T, args []string, env map[string]string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("run returned early: %v\n%s", err, out)
		default:
		}
		if m := issuerRE.FindStringSubmatch(out.String()); m != nil {
			return &started{out: out, issuer: m[1], url: strings.TrimSuffix(m[1], "/oidc")}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no issuer printed:\n%s", out)
		}
	}
}

// TestConfigFileServesAppWithAPIResource runs the command with the example
// config, as `go run ./cmd/logto-dev -config cmd/logto-dev/example.json`
// does, and signs in as a script would (the README's walkthrough): an
// authorization request for the demo API, the sign-in form (phone + the code
// the console prints, or username + password), the callback code, the code
// exchange and a refresh for the API, whose access token must carry the
// scope the user's role grants (read:messages) and not the other one.
func TestConfigFileServesAppWithAPIResource(t *testing.T) {
	t.Parallel()
	s := start(t, []string{"-config", exampleConfig, "-addr", "127.0.0.1:0"}, nil)
	for _, want := range []string{"API resource:  " + demoAPI + " (scopes: read:messages write:messages)",
		"Role:          reader (read:messages on " + demoAPI + ")", `Organization:  demo-org "Demo Org", roles: member`} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, s.out)
		}
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: s.url, Audience: demoAPI})
	if err != nil {
		t.Fatal(err)
	}

	for _, method := range []string{"phone", "password"} {
		t.Run(method, func(t *testing.T) {
			b := newBrowser(t)
			state, verifier := rand.Text(), rand.Text()+rand.Text()
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{
				"client_id": {logtotest.DefaultAppID}, "redirect_uri": {logtotest.DefaultRedirectURI},
				"response_type": {"code"}, "state": {state}, "prompt": {"consent"},
				"scope":          {"openid offline_access profile read:messages write:messages"},
				"resource":       {demoAPI},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
			}
			// 1. The authorization request answers 303 to the sign-in page
			// and sets the _interaction cookie.
			status, loc, _ := b.do(http.MethodGet, s.issuer+"/auth?"+q.Encode(), nil)
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/sign-in?") {
				t.Fatalf("authorize: %d %q, want 303 to /sign-in", status, loc)
			}
			// 2. The sign-in page's forms carry the csrf token.
			_, _, page := b.do(http.MethodGet, s.url+loc, nil)
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no csrf field on the sign-in page:\n%s", page)
			}
			csrf := html.UnescapeString(m[1])

			// 3. Sign in; the page answers 303 to <issuer>/auth/<uid>.
			var next string
			if method == "phone" {
				status, loc, _ = b.do(http.MethodPost, s.url+"/experience/verification-code",
					url.Values{"csrf": {csrf}, "mode": {"sign-in"}, "phone": {demoPhone}})
				if status != http.StatusSeeOther || !strings.Contains(loc, "/verification-code?") {
					t.Fatalf("send code: %d %q", status, loc)
				}
				code := lastCode(t, s.out.String(), demoPhone)
				_, next, _ = b.do(http.MethodPost, s.url+"/experience/verification-code/verify",
					url.Values{"csrf": {csrf}, "mode": {"sign-in"}, "phone": {demoPhone}, "code": {code}})
			} else {
				_, next, _ = b.do(http.MethodPost, s.url+"/experience/password",
					url.Values{"csrf": {csrf}, "identifier": {"probeuser"}, "password": {"Passw0rd!probe"}})
			}
			if !strings.HasPrefix(next, s.issuer+"/auth/") {
				t.Fatalf("sign-in answered %q, want %s/auth/<uid>", next, s.issuer)
			}
			// 4. Resuming the authorization redirects to the app's callback.
			status, loc, _ = b.do(http.MethodGet, next, nil)
			cb, err := url.Parse(loc)
			if status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc, logtotest.DefaultRedirectURI+"?") {
				t.Fatalf("resume: %d %q, want 303 to the redirect URI", status, loc)
			}
			if cb.Query().Get("state") != state || cb.Query().Get("iss") != s.issuer || cb.Query().Get("code") == "" {
				t.Fatalf("callback %q: want code, state %q and iss %q", loc, state, s.issuer)
			}

			// 5. The code exchange (client_secret_basic), then a refresh for
			// the API.
			tok := b.token(s.issuer, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
				"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {verifier}})
			if tok.RefreshToken == "" || tok.IDToken == "" {
				t.Fatalf("code exchange: no refresh or ID token: %+v", tok)
			}
			api := b.token(s.issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "resource": {demoAPI}})
			if strings.Count(api.AccessToken, ".") != 2 {
				t.Fatalf("access token for %s is not a JWT: %q", demoAPI, api.AccessToken)
			}
			claims, err := rs.Verify(t.Context(), api.AccessToken)
			if err != nil {
				t.Fatalf("the API refuses the token: %v", err)
			}
			if claims.Sub != logtotest.DefaultUserID || !claims.HasScopes("read:messages") || slices.Contains(claims.Scopes(), "write:messages") {
				t.Errorf("access token sub %q scope %q, want %q with read:messages and without write:messages",
					claims.Sub, claims.Scope, logtotest.DefaultUserID)
			}
			if api.Scope != "read:messages" {
				t.Errorf("refresh response scope %q, want read:messages", api.Scope)
			}
		})
	}
}

// browser is a cookie-jar client that does not follow redirects.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, hc: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a GET, or a POST of form, and returns the status, the Location
// and the body.
func (b *browser) do(method, target string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
}

// token posts form to the token endpoint with client_secret_basic.
func (b *browser) token(issuer string, form url.Values) tokenResponse {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var tok tokenResponse
	if err := json.Unmarshal(data, &tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		b.t.Fatalf("token (%s): %d %v %s", form.Get("grant_type"), resp.StatusCode, err, data)
	}
	return tok
}

var smsRE = regexp.MustCompile(`(?m)^SMS to (\d+): .*?\b(\d{6})\b`)

// lastCode reads the last code the console connector printed for phone.
func lastCode(t *testing.T, out, phone string) string {
	t.Helper()
	code := ""
	for _, m := range smsRE.FindAllStringSubmatch(out, -1) {
		if m[1] == phone {
			code = m[2]
		}
	}
	if code == "" {
		t.Fatalf("no SMS to %s in:\n%s", phone, out)
	}
	return code
}

// TestExampleConfigIsTheDemo checks that the example file expresses the
// demo's provider set-up (examples/app/demo.go).
func TestExampleConfigIsTheDemo(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	user := logtotest.DefaultUser()
	user.CreatedAt, user.UpdatedAt = time.Time{}, time.Time{}
	user.Roles = []string{"reader"}
	user.Organizations = []string{"demo-org"}
	user.OrganizationRoles = []string{"demo-org:member"}
	app := logtotest.DefaultApp()
	app.Name = "Logto Go demo app"
	want := logtotest.Options{
		URL:       "http://localhost:3001",
		Apps:      []logtotest.App{app},
		Users:     []logtotest.User{user},
		Resources: []logtotest.Resource{{Indicator: demoAPI, Scopes: []string{"read:messages", "write:messages"}}},
		Roles:     []logtotest.Role{{Name: "reader", Scopes: map[string][]string{demoAPI: {"read:messages"}}}},
		Organizations: []logtotest.Organization{{
			ID: "demo-org", Name: "Demo Org", Description: "The organization of the Logto Go demo",
			Roles: []logtotest.OrganizationRole{{Name: "member", Scopes: []string{"read:messages"},
				ResourceScopes: map[string][]string{demoAPI: {"read:messages"}}}},
		}},
	}
	if got := cfg.options("http://localhost:3001"); !reflect.DeepEqual(got, want) {
		t.Errorf("example config\n got %+v\nwant %+v", got, want)
	}
	if cfg.SMS != "console" || cfg.Addr != "" || cfg.URL != "" || cfg.DisableRegistration {
		t.Errorf("example config: sms %q addr %q url %q disableRegistration %v", cfg.SMS, cfg.Addr, cfg.URL, cfg.DisableRegistration)
	}
}

// secret stands for a secret in the configs below: no error or output may
// quote it.
const secret = "s3cret-never-printed"

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	const app = `{"id": "app1", "secret": "` + secret + `", "redirectUris": ["http://localhost:8080/cb"]}`
	for _, tc := range []struct {
		name, config string
		want         []string // substrings of the error
	}{
		{"syntax", "{\n  \"apps\": [,]\n}", []string{"line 2, column 12", "invalid character ','"}},
		{"not an object", `[]`, []string{"want an object"}},
		{"trailing data", `{} {}`, []string{"after top-level value"}},
		{"unknown key", `{"app": []}`, []string{`unknown field "app"`}},
		{"key case", `{"Apps": []}`, []string{`unknown field "Apps"`}},
		{"unknown nested key", `{"apps": [` + app + `, {"id": "app2", "redirectUri": "x"}]}`, []string{`apps[1]: unknown field "redirectUri"`}},
		{"deep unknown key", `{"organizations": [{"id": "o", "roles": [{"name": "r", "scope": []}]}]}`,
			[]string{`organizations[0].roles[0]: unknown field "scope"`}},
		{"wrong type", `{"apps": [{"id": "a", "secret": 42}]}`, []string{"apps[0].secret: want a string"}},
		{"wrong list type", `{"users": [{"id": "u", "roles": "reader"}]}`, []string{"users[0].roles: want an array of strings"}},
		{"null", `{"users": null}`, []string{"users: want an array of objects, got null"}},
		{"missing ids", `{"apps": [{"secret": "x", "redirectUris": ["http://a/cb"]}], "users": [{}], "roles": [{}], "organizations": [{}], "resources": [{}]}`,
			[]string{"apps[0]: id is required", "users[0]: id is required", "roles[0]: name is required", "organizations[0]: id is required", "resources[0]: indicator is required"}},
		{"duplicate app", `{"apps": [` + app + `, ` + app + `]}`, []string{`apps[1] "app1": id declared twice`}},
		{"app without secret", `{"apps": [{"id": "a", "redirectUris": ["http://a/cb"]}]}`, []string{`apps[0] "a": secret is required`}},
		{"app without redirect", `{"apps": [{"id": "a", "secret": "` + secret + `"}]}`, []string{`apps[0] "a": redirectUris is required`}},
		{"relative redirect", `{"apps": [{"id": "a", "public": true, "redirectUris": ["/cb"], "postLogoutRedirectUris": ["x#y"]}]}`,
			[]string{`apps[0] "a": redirectUris: "/cb" is not an absolute URI`, `postLogoutRedirectUris: "x#y"`}},
		{"bad phone", `{"users": [{"id": "u", "phone": "+1 555 123", "password": "` + secret + `"}]}`, []string{`users[0] "u": phone must be 6 to 15 digits`}},
		{"duplicate phone", `{"users": [{"id": "u", "phone": "15551234567"}, {"id": "v", "phone": "15551234567"}]}`,
			[]string{`users[1] "v": another user has the same phone`}},
		{"undeclared role", `{"users": [{"id": "u", "roles": ["reder"]}]}`, []string{`users[0] "u": role "reder" is not declared in roles`}},
		{"undeclared organization", `{"users": [{"id": "u", "organizations": ["o"], "organizationRoles": ["o:member", "p:x", "nocolon"]}]}`,
			[]string{`organization "o" is not declared`, `"p:x": the user is not a member of "p"`, `"nocolon" must be`}},
		{"undeclared organization role", `{"organizations": [{"id": "o"}], "users": [{"id": "u", "organizations": ["o"], "organizationRoles": ["o:member"]}]}`,
			[]string{`users[0] "u": organizationRoles entry "o:member": organization "o" has no role "member"`}},
		{"bad resource", `{"resources": [{"indicator": "api", "scopes": ["a b", "c", "c"]}]}`,
			[]string{`resources[0] "api": indicator must be an absolute URI`, `"a b" is not a scope name`, `"c" listed twice`}},
		{"role scope of no resource", `{"resources": [{"indicator": "https://api", "scopes": ["read"]}], "roles": [{"name": "r", "scopes": {"https://api": ["write"], "https://other": ["read"]}}]}`,
			[]string{`roles[0] "r": scopes: scope "write" is not a scope of resource "https://api"`, `roles[0] "r": scopes: resource "https://other" is not declared in resources`}},
		{"organization role scope", `{"organizations": [{"id": "o", "roles": [{"name": "m", "resourceScopes": {"https://api": ["read"]}}, {"name": "m"}]}]}`,
			[]string{`organizations[0] "o": roles[0] "m": resourceScopes: resource "https://api" is not declared`, `organizations[0] "o": roles[1] "m": name declared twice`}},
		{"bad sms", `{"sms": "pigeon"}`, []string{`sms: want "console"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			if err == nil {
				t.Fatal("loadConfig succeeded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config "+path+": ") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error quotes a secret:\n%s", msg)
			}
		})
	}
	if _, err := loadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestConfigPrecedence checks flag > environment > config file > default,
// the app flags editing the file's only app, and that the banner prints no
// secret of the file.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, config string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const apps = `"apps": [{"id": "app1", "secret": "` + secret + `", "redirectUris": ["http://localhost:8080/cb"]}]`
	bad := write("bad-addr.json", `{"addr": "256.0.0.1:x", "sms": "console:sms.json", `+apps+`,
		"users": [{"id": "u1", "username": "alice", "password": "`+secret+`"}]}`)
	good := write("good-addr.json", `{"addr": "127.0.0.1:0", "url": "http://127.0.0.1:1/base", "disableRegistration": true, "users": [], `+apps+`}`)
	two := write("two-apps.json", `{"apps": [{"id": "a", "public": true, "redirectUris": ["http://a/cb"]}, {"id": "b", "public": true, "redirectUris": ["http://b/cb"]}]}`)

	t.Run("file", func(t *testing.T) {
		t.Parallel()
		// addr and url come from the file (the URL need not be where the
		// server listens), and "users": [] means no users.
		s := start(t, []string{"-config", good}, nil)
		if s.issuer != "http://127.0.0.1:1/base/oidc" {
			t.Errorf("issuer %q, want the file's url", s.issuer)
		}
		if strings.Contains(s.out.String(), "User:") {
			t.Errorf(`"users": [] printed a user:`+"\n%s", s.out)
		}
	})
	t.Run("flag over file", func(t *testing.T) {
		t.Parallel()
		s := start(t, []string{"-config", bad, "-addr", "127.0.0.1:0", "-redirect-uri", "http://localhost:9090/cb", "-app-id", "flagapp"}, nil)
		out := s.out.String()
		for _, want := range []string{"App ID:        flagapp", "Redirect URIs: http://localhost:9090/cb", "App secret:    (not shown)",
			"User:          u1: username alice, password (not shown)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, secret) {
			t.Errorf("output quotes a secret:\n%s", out)
		}
	})
	t.Run("environment over file", func(t *testing.T) {
		t.Parallel()
		start(t, nil, map[string]string{"LOGTO_DEV_CONFIG": bad, "LOGTO_DEV_ADDR": "127.0.0.1:0"})
	})
	t.Run("flag over environment", func(t *testing.T) {
		t.Parallel()
		s := start(t, []string{"-url", "http://localhost:7/x"}, map[string]string{"LOGTO_DEV_ADDR": "127.0.0.1:0", "LOGTO_DEV_URL": "http://localhost:8/y"})
		if s.issuer != "http://localhost:7/x/oidc" {
			t.Errorf("issuer %q, want -url's", s.issuer)
		}
	})
	t.Run("app flags with two apps", func(t *testing.T) {
		t.Parallel()
		err := run(t.Context(), []string{"-config", two, "-addr", "127.0.0.1:0", "-app-secret", secret}, func(string) string { return "" }, &lockedBuffer{})
		if err == nil || !strings.Contains(err.Error(), "-app-secret edits the config file's only app") || strings.Contains(err.Error(), secret) {
			t.Errorf("got %v, want an error about -app-secret without the secret", err)
		}
	})
}

func TestResolveSMSPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("conf", "dir")
	for _, tc := range []struct{ spec, want string }{
		{"", ""},
		{"console", "console"},
		{"console:rec.json", "console:" + filepath.Join(dir, "rec.json")},
		{"smsaero:aero.json", "smsaero:" + filepath.Join(dir, "aero.json")},
		{"aero.json", filepath.Join(dir, "aero.json")},
		{"console:/tmp/rec.json", "console:/tmp/rec.json"},
		{"smsaero:", "smsaero:"},
	} {
		if got, err := resolveSMSPath(tc.spec, dir); err != nil || got != tc.want {
			t.Errorf("resolveSMSPath(%q) = %q, %v, want %q", tc.spec, got, err, tc.want)
		}
	}
}
