package interop_test

// Interoperability with oidc-provider (npm, panva/node-oidc-provider 9.x),
// the OpenID Connect engine inside Logto, configured like Logto by
// testdata/oidc-provider/server.mjs. The SDK is driven through its HTTP
// handlers by a cookie-keeping client that never follows redirects, exactly as
// a browser would, so nothing here shares the assumptions of logtotest.
//
// Node.js and npm are required. Without them the tests skip, except in CI
// (CI=true), where they fail. Dependencies are installed once per lockfile
// with `npm ci` into <os.UserCacheDir()>/logto-go/oidc-provider-<hash>/.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto"
)

const (
	interopResource = "https://api.interop.test"
	interopScope    = "read:interop"
	interopAccount  = "interop-user" // the account server.mjs signs in

	npmTimeout   = 5 * time.Minute
	readyTimeout = 30 * time.Second
)

// testdataDir holds package.json, package-lock.json and server.mjs.
var testdataDir = filepath.Join("testdata", "oidc-provider")

// ---------------------------------------------------------------------------
// Node.js dependencies, installed once per lockfile.

type nodeSetup struct {
	node   string // node executable
	dir    string // cache directory holding node_modules/oidc-provider
	server string // server.mjs copied into dir, so it resolves node_modules
	note   string // how the dependencies were obtained, for the log
	skip   string // why the tests cannot run here (node or npm missing)
	err    error
}

var (
	nodeOnce sync.Once
	nodeDeps nodeSetup
)

// requireNode returns the installed dependencies, installing them on first
// use. It skips the test when node or npm is missing, unless CI=true.
func requireNode(t *testing.T) *nodeSetup {
	t.Helper()
	nodeOnce.Do(func() { nodeDeps = installNodeDeps() })
	if nodeDeps.skip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true, so this is a failure: CI must run the oidc-provider interop tests", nodeDeps.skip)
		}
		t.Skip(nodeDeps.skip)
	}
	if nodeDeps.err != nil {
		t.Fatal(nodeDeps.err)
	}
	t.Log(nodeDeps.note)
	return &nodeDeps
}

func installNodeDeps() nodeSetup {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		return nodeSetup{skip: fmt.Sprintf("oidc-provider interop tests need Node.js and npm in PATH (node: %v, npm: %v); install Node.js 20 or later (oidc-provider recommends 22 LTS)", errNode, errNpm)}
	}
	fail := func(format string, a ...any) nodeSetup { return nodeSetup{err: fmt.Errorf(format, a...)} }
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(testdataDir, name)) }
	pkg, err := read("package.json")
	if err != nil {
		return fail("%v", err)
	}
	lock, err := read("package-lock.json")
	if err != nil {
		return fail("%v", err)
	}
	server, err := read("server.mjs")
	if err != nil {
		return fail("%v", err)
	}

	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	root = filepath.Join(root, "logto-go")
	dir := filepath.Join(root, "oidc-provider-"+shortHash(lock))
	installed := func() bool {
		_, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
		return err == nil
	}
	note := "oidc-provider: reusing " + dir
	if !installed() {
		// Install into a private directory and rename it into place: a
		// concurrent `go test` either wins the rename or finds a complete
		// install, never a half-written one.
		if err := os.MkdirAll(root, 0o755); err != nil {
			return fail("npm cache: %v", err)
		}
		tmp, err := os.MkdirTemp(root, filepath.Base(dir)+".tmp-")
		if err == nil {
			err = os.Chmod(tmp, 0o755)
		}
		if err != nil {
			return fail("npm cache: %v", err)
		}
		defer os.RemoveAll(tmp) // a no-op once renamed
		for name, data := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
			if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
				return fail("npm cache: %v", err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
		started := time.Now()
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s: %w", npmTimeout, ctx.Err())
		}
		if err != nil {
			return fail("installing oidc-provider for the interop tests: `npm ci --no-audit --no-fund` in %s failed after %s: %v\n"+
				"Check that the npm registry is reachable (npm config get registry, proxy settings) and that %s/package-lock.json is in sync with package.json.\nnpm output:\n%s",
				tmp, time.Since(started).Round(time.Millisecond), err, testdataDir, out)
		}
		if err := os.Rename(tmp, dir); err != nil && !installed() {
			if os.RemoveAll(dir) != nil || os.Rename(tmp, dir) != nil {
				return fail("npm cache: cannot move %s to %s: %v", tmp, dir, err)
			}
		}
		note = fmt.Sprintf("oidc-provider: installed into %s with npm ci in %s", dir, time.Since(started).Round(time.Millisecond))
	}

	// server.mjs is named by its own hash, so an edited copy never replaces
	// one another test process is running.
	serverPath := filepath.Join(dir, "server-"+shortHash(server)+".mjs")
	if have, err := os.ReadFile(serverPath); err != nil || !bytes.Equal(have, server) {
		f, err := os.CreateTemp(dir, ".server-*.mjs")
		if err != nil {
			return fail("copying server.mjs: %v", err)
		}
		_, werr := f.Write(server)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(f.Name(), serverPath)
		}
		if werr != nil {
			os.Remove(f.Name())
			return fail("copying server.mjs: %v", werr)
		}
	}
	return nodeSetup{node: node, dir: dir, server: serverPath, note: note}
}

func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// ---------------------------------------------------------------------------
// The oidc-provider process.

type oidcProvider struct {
	URL    string // http://127.0.0.1:<port>: the SDK's Endpoint
	Issuer string // URL + "/oidc"
}

// startOIDCProvider runs server.mjs for one confidential client and stops it
// when the test ends; its output is logged if the test failed.
func startOIDCProvider(t *testing.T, d *nodeSetup, clientID, clientSecret, redirectURI, postLogoutURI string, extraEnv ...string) *oidcProvider {
	t.Helper()
	cmd := exec.Command(d.node, d.server)
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(),
		"PORT=0",
		"CLIENT_ID="+clientID,
		"CLIENT_SECRET="+clientSecret,
		"REDIRECT_URI="+redirectURI,
		"POST_LOGOUT_REDIRECT_URI="+postLogoutURI,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	ownProcessGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s %s: %v", d.node, d.server, err)
	}

	stdoutLog := &syncBuffer{}
	ready := make(chan string, 1)
	stdoutDone := make(chan struct{})
	go func() {
		defer close(stdoutDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(stdoutLog, line)
			if port, ok := strings.CutPrefix(line, "READY "); ok {
				select {
				case ready <- strings.TrimSpace(port):
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		killProcessGroup(cmd)
		select {
		case <-stdoutDone:
		case <-time.After(5 * time.Second):
		}
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oidc-provider stdout:\n%s\noidc-provider stderr:\n%s", stdoutLog, stderr)
		}
	})

	var port string
	select {
	case port = <-ready:
	case <-stdoutDone:
		t.Fatalf("oidc-provider exited before READY:\n%s%s", stdoutLog, stderr)
	case <-time.After(readyTimeout):
		t.Fatalf("oidc-provider not READY after %s:\n%s%s", readyTimeout, stdoutLog, stderr)
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		t.Fatalf("oidc-provider printed a bad port %q", port)
	}
	base := "http://127.0.0.1:" + port
	return &oidcProvider{URL: base, Issuer: base + "/oidc"}
}

// ---------------------------------------------------------------------------
// An app using the SDK, wired to its own oidc-provider.

type interopApp struct {
	t      *testing.T
	op     *oidcProvider
	app    *httptest.Server
	cfg    logto.Config
	client *logto.Client
	// eager refreshes on every GetAccessToken (its refresh margin exceeds the
	// token lifetime): the same app and cookies, a forced expiry.
	eager *logto.Client
	logs  *syncBuffer

	errs testkit.Errors
}

type appOptions struct {
	secret      string   // the app secret; default: random, shaped like Logto's
	providerEnv []string // extra environment for server.mjs
}

// newInteropApp starts an oidc-provider and an app for it.
func newInteropApp(t *testing.T, opts appOptions) *interopApp {
	t.Helper()
	d := requireNode(t)
	a := &interopApp{t: t, logs: &syncBuffer{}}
	a.app = httptest.NewUnstartedServer(nil)
	appURL := "http://" + a.app.Listener.Addr().String()
	appID, appSecret := randomString(21), opts.secret // Logto's shapes
	if appSecret == "" {
		appSecret = randomString(32)
	}
	a.op = startOIDCProvider(t, d, appID, appSecret, appURL+"/callback", appURL+"/", opts.providerEnv...)

	a.cfg = logto.Config{
		AppID:        appID,
		AppSecret:    appSecret,
		Endpoint:     a.op.URL,
		BaseURL:      appURL,
		CookieSecret: randomString(40),
		Scopes:       []string{logto.UserScopeEmail, interopScope},
		Resources:    []string{interopResource},
		Logger:       slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.recordError(err)
			a.client.DefaultErrorHandler(w, r, err)
		},
	}
	a.client = a.newClient(nil)
	a.eager = a.newClient(func(c *logto.Config) { c.AccessTokenRefreshMargin = 2 * time.Hour })

	mux := http.NewServeMux()
	mux.Handle("/", a.client.Handler())
	// /sign-in-with?prompt=P&login_hint=H starts a sign-in with those options.
	mux.Handle("GET /sign-in-with", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := a.client.SignIn(w, r, &logto.SignInOptions{Prompt: q.Get("prompt"), LoginHint: q.Get("login_hint")}); err != nil {
			a.cfg.ErrorHandler(w, r, err)
		}
	}))
	mux.Handle("GET /api/context", a.client.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var opts []logto.ContextOption
		if r.URL.Query().Get("fetchUserInfo") == "1" {
			opts = append(opts, logto.WithUserInfo())
		}
		if res, ok := r.URL.Query()["accessToken"]; ok {
			opts = append(opts, logto.WithAccessToken(res[0]))
		}
		lc, err := a.client.GetContext(w, r, opts...)
		if err != nil {
			a.recordError(err)
			if !errors.Is(err, logto.ErrNotAuthenticated) {
				a.client.DefaultErrorHandler(w, r, err)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(lc)
	})))
	// POST /late/sign-out signs out with a clock two hours ahead: the ID token
	// has expired, so no id_token_hint is sent.
	late := a.newClient(func(c *logto.Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } })
	mux.Handle("POST /late/sign-out", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := late.SignOut(w, r); err != nil {
			a.cfg.ErrorHandler(w, r, err)
		}
	}))
	// /api/token?resource=R answers the access token as text, or the error's
	// status. /eager/... forces a refresh; /probe/... does too, with a brand
	// new client (no cached or coalesced result can hide the provider's answer).
	mux.Handle("GET /api/token", a.tokenHandler(func() (*logto.Client, error) { return a.client, nil }))
	mux.Handle("GET /eager/api/token", a.tokenHandler(func() (*logto.Client, error) { return a.eager, nil }))
	mux.Handle("GET /probe/api/token", a.tokenHandler(func() (*logto.Client, error) {
		cfg := a.cfg
		cfg.AccessTokenRefreshMargin = 2 * time.Hour
		return logto.New(cfg)
	}))
	a.app.Config.Handler = mux
	a.app.Start()
	t.Cleanup(a.app.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SDK log:\n%s", a.logs)
		}
	})
	return a
}

func (a *interopApp) newClient(edit func(*logto.Config)) *logto.Client {
	a.t.Helper()
	cfg := a.cfg
	if edit != nil {
		edit(&cfg)
	}
	c, err := logto.New(cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	return c
}

func (a *interopApp) tokenHandler(client func() (*logto.Client, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := client()
		if err != nil {
			a.recordError(err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, err := c.GetAccessToken(w, r, r.URL.Query().Get("resource"))
		if err != nil {
			a.recordError(err)
			w.WriteHeader(logto.StatusCode(err))
			_, _ = io.WriteString(w, "error")
			return
		}
		_, _ = io.WriteString(w, tok)
	})
}

func (a *interopApp) recordError(err error) { a.errs.Record(err) }

// lastError returns the last error the app's error handler saw.
func (a *interopApp) lastError() error { return a.errs.Last() }

// startSignIn hits /sign-in and returns the authorization URL.
func (a *interopApp) startSignIn(b *browser) *url.URL {
	a.t.Helper()
	r := b.get(a.app.URL + "/sign-in?returnTo=" + url.QueryEscape("/done"))
	if r.StatusCode != http.StatusFound {
		a.t.Fatalf("/sign-in: status %d, body %s", r.StatusCode, r.body)
	}
	return location(a.t, r)
}

// authorize follows the provider's redirects (authorization endpoint ->
// /interaction/<uid> -> /oidc/auth/<uid> resume) until it points back at the
// app, and returns that callback URL without visiting it.
func (a *interopApp) authorize(b *browser, authURL *url.URL) *url.URL {
	a.t.Helper()
	next := authURL
	var hops []string
	for range 10 {
		if strings.HasPrefix(next.String(), a.app.URL+"/") {
			return next
		}
		hops = append(hops, next.Path)
		r := b.get(next.String())
		if r.StatusCode/100 != 3 {
			a.t.Fatalf("provider hop %s: status %d, body %s", next, r.StatusCode, r.body)
		}
		next = location(a.t, r)
	}
	a.t.Fatalf("too many provider hops: %q", hops)
	return nil
}

type contextJSON struct {
	IsAuthenticated bool           `json:"isAuthenticated"`
	Claims          map[string]any `json:"claims"`
	Scopes          []string       `json:"scopes"`
	AccessToken     string         `json:"accessToken"`
	UserInfo        map[string]any `json:"userInfo"`
}

func (a *interopApp) context(b *browser, query string) contextJSON {
	a.t.Helper()
	r := b.get(a.app.URL + "/api/context?" + query)
	if r.StatusCode != http.StatusOK {
		a.t.Fatalf("/api/context?%s: status %d: %s", query, r.StatusCode, r.body)
	}
	var c contextJSON
	if err := json.Unmarshal([]byte(r.body), &c); err != nil {
		a.t.Fatalf("/api/context: %v: %s", err, r.body)
	}
	return c
}

// token calls path (/api/token, /eager/api/token or /probe/api/token) for
// the interop resource.
func (a *interopApp) token(b *browser, path string) *response {
	a.t.Helper()
	return b.get(a.app.URL + path + "?resource=" + url.QueryEscape(interopResource))
}

// ---------------------------------------------------------------------------
// A browser: a cookie jar, no redirects followed.

type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// clone returns a browser holding a copy of b's cookies for u (the app and
// the provider share the host 127.0.0.1, and cookies ignore ports).
func (b *browser) clone(u string) *browser {
	nb := newBrowser(b.t)
	pu, err := url.Parse(u)
	if err != nil {
		b.t.Fatal(err)
	}
	nb.c.Jar.SetCookies(pu, b.c.Jar.Cookies(pu))
	return nb
}

type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &response{resp, string(body)}
}

func (b *browser) get(u string) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

// postForm posts form to u with an Origin header ("" for none).
func (b *browser) postForm(u, origin string, form url.Values) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

func location(t *testing.T, r *response) *url.URL {
	t.Helper()
	loc, err := r.Location()
	if err != nil {
		t.Fatalf("%s %s: status %d, no Location (%v): %s", r.Request.Method, r.Request.URL, r.StatusCode, err, r.body)
	}
	return loc
}

// ---------------------------------------------------------------------------
// Helpers.

// syncBuffer is a log or console sink safe for concurrent use.
type syncBuffer = testkit.Buffer

func randomString(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// jwtHeader decodes the protected header of a compact JWS.
func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	part, _, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("not a JWT: %d bytes", len(token))
	}
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*id="op\.logoutForm"[^>]*action="([^"]*)"`)
	xsrfRE       = regexp.MustCompile(`<input[^>]*name="xsrf"[^>]*value="([^"]*)"`)
)

// verifyResourceToken checks tok with a logto.ResourceServer for the interop
// API pointed at the provider, and checks the claims oidc-provider issues.
func (a *interopApp) verifyResourceToken(rs *logto.ResourceServer, tok string) *logto.AccessTokenClaims {
	a.t.Helper()
	if h := jwtHeader(a.t, tok); h["typ"] != "at+jwt" || h["alg"] != "ES384" || h["kid"] == nil {
		a.t.Errorf("access token header = %v, want typ at+jwt, alg ES384 and a kid", h)
	}
	claims, err := rs.Verify(context.Background(), tok)
	if err != nil {
		a.t.Fatalf("ResourceServer.Verify: %v", err)
	}
	if !slices.Equal(claims.Aud, logto.Audience{interopResource}) || claims.Iss != a.op.Issuer ||
		claims.Sub != interopAccount || claims.ClientID != a.cfg.AppID || !claims.HasScopes(interopScope) || claims.Jti == "" {
		a.t.Errorf("access token claims = %+v", claims)
	}
	return claims
}

// ---------------------------------------------------------------------------
// Tests.

// TestOIDCProviderJourney: sign-in, context, userinfo, resource tokens,
// forced refresh, sign-out with revocation and RP-initiated logout, and
// sign-in again, against oidc-provider.
func TestOIDCProviderJourney(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{})
	b := newBrowser(t)

	if c := a.context(b, ""); c.IsAuthenticated {
		t.Fatalf("authenticated before sign-in: %+v", c)
	}

	// Sign in.
	authURL := a.startSignIn(b)
	if got, want := authURL.Scheme+"://"+authURL.Host+authURL.Path, a.op.Issuer+"/auth"; got != want {
		t.Fatalf("authorization endpoint = %s, want %s", got, want)
	}
	aq := authURL.Query()
	if aq.Get("client_id") != a.cfg.AppID || aq.Get("resource") != interopResource || aq.Get("prompt") != "consent" ||
		aq.Get("code_challenge_method") != "S256" || aq.Get("response_type") != "code" {
		t.Errorf("authorization request = %v", aq)
	}
	for _, s := range []string{"openid", "offline_access", "profile", "email", interopScope} {
		if !slices.Contains(strings.Fields(aq.Get("scope")), s) {
			t.Errorf("authorization scope %q lacks %s", aq.Get("scope"), s)
		}
	}
	cbURL := a.authorize(b, authURL)
	cq := cbURL.Query()
	if cbURL.Path != "/callback" || cq.Get("iss") != a.op.Issuer || cq.Get("code") == "" || cq.Get("state") != aq.Get("state") {
		t.Fatalf("callback URL = %s", cbURL)
	}
	cb := b.get(cbURL.String())
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/done" {
		t.Fatalf("callback: status %d, Location %q, body %s (error %v)", cb.StatusCode, cb.Header.Get("Location"), cb.body, a.lastError())
	}

	// Context: the verified ES384 ID token's claims.
	c := a.context(b, "")
	if !c.IsAuthenticated {
		t.Fatalf("not authenticated after sign-in: %+v", c)
	}
	for k, want := range map[string]any{
		"sub": interopAccount, "iss": a.op.Issuer, "aud": a.cfg.AppID,
		"name": "Interop User", "email": "interop-user@example.test", "email_verified": true,
	} {
		if c.Claims[k] != want {
			t.Errorf("claim %s = %#v, want %#v (claims %v)", k, c.Claims[k], want, c.Claims)
		}
	}
	for _, s := range []string{"openid", "offline_access", "profile", "email"} {
		if !slices.Contains(c.Scopes, s) {
			t.Errorf("context scopes %q lack %s", c.Scopes, s)
		}
	}

	// Userinfo with the opaque default access token.
	if u := a.context(b, "fetchUserInfo=1").UserInfo; u["sub"] != interopAccount || u["email"] != "interop-user@example.test" {
		t.Errorf("userinfo = %v (error %v)", u, a.lastError())
	}

	// A JWT access token for the API resource (refresh_token grant with resource).
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: a.op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	r := a.token(b, "/api/token")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/api/token: status %d (error %v)", r.StatusCode, a.lastError())
	}
	tok1 := r.body
	claims1 := a.verifyResourceToken(rs, tok1)
	if r := a.token(b, "/api/token"); r.StatusCode != http.StatusOK || r.body != tok1 {
		t.Errorf("a valid cached access token was not reused: status %d", r.StatusCode)
	}
	if c := a.context(b, "accessToken="+url.QueryEscape(interopResource)); c.AccessToken != tok1 || !slices.Equal(c.Scopes, []string{interopScope}) {
		t.Errorf("context with the resource's access token: scopes %q, same token %v (error %v)", c.Scopes, c.AccessToken == tok1, a.lastError())
	}
	// The ResourceServer's middleware enforces scopes on this token.
	for scope, want := range map[string]int{interopScope: http.StatusOK, "write:interop": http.StatusForbidden} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api", nil)
		req.Header.Set("Authorization", "Bearer "+tok1)
		rs.Middleware(scope)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("ResourceServer.Middleware(%q): status %d, want %d: %s", scope, rec.Code, want, rec.Body)
		}
	}

	// Forced expiry: a client whose refresh margin exceeds the token lifetime
	// refreshes again, with the same cookies, and the session stays intact
	// (the refreshed ID token is verified and written back).
	r = a.token(b, "/eager/api/token")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/eager/api/token: status %d (error %v)", r.StatusCode, a.lastError())
	}
	if r.body == tok1 {
		t.Fatal("forced refresh returned the cached token")
	}
	if claims2 := a.verifyResourceToken(rs, r.body); claims2.Jti == claims1.Jti {
		t.Errorf("refreshed token has the same jti %s", claims2.Jti)
	}
	if c := a.context(b, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
		t.Fatalf("session after a refresh: %+v", c)
	}

	// A copy of the cookies as they are before sign-out: their refresh token
	// still works now...
	stale := b.clone(a.app.URL)
	if r := a.token(stale, "/probe/api/token"); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh before sign-out: status %d (error %v)", r.StatusCode, a.lastError())
	}

	// Sign out.
	out := b.postForm(a.app.URL+"/sign-out", a.app.URL, nil)
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d, body %s (error %v)", out.StatusCode, out.body, a.lastError())
	}
	end := location(t, out)
	eq := end.Query()
	if got := end.Scheme + "://" + end.Host + end.Path; got != a.op.Issuer+"/session/end" {
		t.Errorf("end-session endpoint = %s", got)
	}
	if eq.Get("client_id") != a.cfg.AppID || eq.Get("post_logout_redirect_uri") != a.app.URL+"/" || eq.Get("id_token_hint") == "" || eq.Has("state") {
		redacted := url.Values{}
		for k, v := range eq {
			if k == "id_token_hint" {
				v = []string{"<redacted>"}
			}
			redacted[k] = v
		}
		t.Errorf("end-session parameters = %v", redacted)
	}
	if c := a.context(b, ""); c.IsAuthenticated {
		t.Fatal("still authenticated after sign-out")
	}
	if strings.Contains(a.logs.String(), "revocation failed") {
		t.Errorf("the SDK could not revoke the refresh token at oidc-provider:\n%s", a.logs)
	}
	// ...and no longer once the SDK revoked it at sign-out, before the
	// browser even reached the end-session endpoint.
	if r := a.token(stale, "/probe/api/token"); r.StatusCode != http.StatusUnauthorized || !errors.Is(a.lastError(), logto.ErrNotAuthenticated) {
		t.Errorf("refresh with the signed-out session's refresh token: status %d, error %v; want 401 ErrNotAuthenticated (revoked)", r.StatusCode, a.lastError())
	}

	// RP-initiated logout at oidc-provider: its confirmation form, then back.
	page := b.get(end.String())
	if page.StatusCode != http.StatusOK {
		t.Fatalf("end-session page: status %d: %s", page.StatusCode, page.body)
	}
	am, xm := formActionRE.FindStringSubmatch(page.body), xsrfRE.FindStringSubmatch(page.body)
	if am == nil || xm == nil {
		t.Fatalf("end-session page has no logout form with xsrf:\n%s", page.body)
	}
	action, err := end.Parse(html.UnescapeString(am[1]))
	if err != nil {
		t.Fatal(err)
	}
	confirm := b.postForm(action.String(), a.op.URL, url.Values{"logout": {"yes"}, "xsrf": {html.UnescapeString(xm[1])}})
	if confirm.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout confirm: status %d: %s", confirm.StatusCode, confirm.body)
	}
	back := location(t, confirm)
	if got := back.Scheme + "://" + back.Host + back.Path; got != a.app.URL+"/" || back.Query().Get("state") != eq.Get("state") {
		t.Errorf("post-logout redirect = %s, want %s/?state=<the sign-out state>", back, a.app.URL)
	}
	if c := a.context(b, ""); c.IsAuthenticated {
		t.Fatal("authenticated after logout")
	}

	// Signing in again works: oidc-provider's session is gone, so this is a
	// fresh login interaction.
	cb = b.get(a.authorize(b, a.startSignIn(b)).String())
	if cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: status %d: %s (error %v)", cb.StatusCode, cb.body, a.lastError())
	}
	if c := a.context(b, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
		t.Fatalf("after the second sign-in: %+v", c)
	}

	// Nothing secret reached the SDK's log: no app secret, no JWT.
	for _, secret := range []string{a.cfg.AppSecret, a.cfg.CookieSecret, "eyJ"} {
		if strings.Contains(a.logs.String(), secret) {
			t.Errorf("the SDK log contains a secret or token:\n%s", a.logs)
		}
	}
}

// TestOIDCProviderCallbackRejections: callbacks that must not sign anyone in.
func TestOIDCProviderCallbackRejections(t *testing.T) {
	t.Parallel()

	// withQuery returns u with one query parameter replaced.
	withQuery := func(u *url.URL, k, v string) string {
		c := *u
		q := c.Query()
		q.Set(k, v)
		c.RawQuery = q.Encode()
		return c.String()
	}
	reasonOf := func(err error) logto.Reason {
		var ce *logto.CallbackError
		if errors.As(err, &ce) {
			return ce.Reason
		}
		return ""
	}

	t.Run("tampered state", func(t *testing.T) {
		t.Parallel()
		a := newInteropApp(t, appOptions{})
		b := newBrowser(t)
		cb := a.authorize(b, a.startSignIn(b))
		state := cb.Query().Get("state")
		r := b.get(withQuery(cb, "state", state[:len(state)-2]+"xx"))
		if r.StatusCode != http.StatusBadRequest || reasonOf(a.lastError()) != logto.ReasonStateMismatch {
			t.Fatalf("tampered state: status %d, error %v; want 400 state_mismatch", r.StatusCode, a.lastError())
		}
		if a.context(b, "").IsAuthenticated {
			t.Fatal("authenticated after a tampered callback")
		}
	})

	t.Run("foreign iss", func(t *testing.T) {
		t.Parallel()
		a := newInteropApp(t, appOptions{})
		b := newBrowser(t)
		cb := a.authorize(b, a.startSignIn(b))
		r := b.get(withQuery(cb, "iss", "http://127.0.0.1:1/oidc"))
		if r.StatusCode != http.StatusBadRequest || reasonOf(a.lastError()) != logto.ReasonIssuerMismatch {
			t.Fatalf("foreign iss: status %d, error %v; want 400 iss_mismatch", r.StatusCode, a.lastError())
		}
		if a.context(b, "").IsAuthenticated {
			t.Fatal("authenticated after a mixed-up callback")
		}
	})

	t.Run("code replay", func(t *testing.T) {
		t.Parallel()
		a := newInteropApp(t, appOptions{})
		b := newBrowser(t)
		cbURL := a.authorize(b, a.startSignIn(b))
		// Someone holding a copy of the transaction cookie (the cookie is
		// stateless, so across instances only the provider can notice this
		// replay).
		thief := b.clone(a.app.URL)

		if r := b.get(cbURL.String()); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: status %d: %s (error %v)", r.StatusCode, r.body, a.lastError())
		}
		if r := a.token(b, "/api/token"); r.StatusCode != http.StatusOK {
			t.Fatalf("/api/token: status %d (error %v)", r.StatusCode, a.lastError())
		}

		// Same browser: the transaction is consumed, the SDK rejects it.
		if r := b.get(cbURL.String()); r.StatusCode != http.StatusBadRequest || reasonOf(a.lastError()) != logto.ReasonStateMismatch {
			t.Fatalf("replayed callback: status %d, error %v; want 400 state_mismatch", r.StatusCode, a.lastError())
		}
		if !a.context(b, "").IsAuthenticated {
			t.Fatal("a replayed callback ended the existing session")
		}

		// Cloned transaction at a second instance of the app (same
		// configuration, a cookie session store, which cannot claim a state
		// across instances; within one instance a redeemed transaction is
		// remembered, see TestOIDCProviderDoubleDelivery): it redeems the
		// code again, oidc-provider answers invalid_grant (documented as 502
		// ErrProviderResponse) and revokes the grant the code belonged to.
		second := httptest.NewServer(a.newClient(nil).Handler())
		t.Cleanup(second.Close)
		r := thief.get(second.URL + cbURL.RequestURI())
		var pe *logto.ProviderError
		if r.StatusCode != http.StatusBadGateway || !errors.Is(a.lastError(), logto.ErrProviderResponse) ||
			!errors.As(a.lastError(), &pe) || pe.Code != "invalid_grant" {
			t.Fatalf("code replay: status %d, error %v; want 502 invalid_grant", r.StatusCode, a.lastError())
		}
		if a.context(thief, "").IsAuthenticated {
			t.Fatal("code replay signed the thief in")
		}
		if r := a.token(b, "/eager/api/token"); r.StatusCode != http.StatusUnauthorized || !errors.Is(a.lastError(), logto.ErrNotAuthenticated) {
			t.Fatalf("refresh after code replay: status %d, error %v; want 401 (oidc-provider revoked the grant)", r.StatusCode, a.lastError())
		}
		if a.context(b, "").IsAuthenticated {
			t.Fatal("session survived its revoked grant")
		}
	})
}

// TestOIDCProviderAuthorizationErrors: OAuth error responses delivered to the
// callback (with state and iss) end in 401 ErrAuthorization.
func TestOIDCProviderAuthorizationErrors(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{})
	for _, tc := range []struct{ name, query, code string }{
		// The user cancels at the sign-in page (interaction error result).
		{"access_denied", "login_hint=deny", "access_denied"},
		// prompt=none without a session at oidc-provider.
		{"login_required", "prompt=none", "login_required"},
	} {
		b := newBrowser(t)
		r := b.get(a.app.URL + "/sign-in-with?" + tc.query)
		if r.StatusCode != http.StatusFound {
			t.Fatalf("%s: sign-in: status %d: %s", tc.name, r.StatusCode, r.body)
		}
		cb := a.authorize(b, location(t, r))
		if q := cb.Query(); q.Get("error") != tc.code || q.Get("iss") != a.op.Issuer || q.Get("state") == "" {
			t.Fatalf("%s: callback URL = %s", tc.name, cb)
		}
		r = b.get(cb.String())
		var ae *logto.AuthorizationError
		if r.StatusCode != http.StatusUnauthorized || !errors.As(a.lastError(), &ae) || ae.Code != tc.code {
			t.Fatalf("%s: callback: status %d, error %v; want 401 %s", tc.name, r.StatusCode, a.lastError(), tc.code)
		}
		if a.context(b, "").IsAuthenticated {
			t.Fatalf("%s: authenticated after an error response", tc.name)
		}
	}
}

// TestOIDCProviderSecretEncoding: client_secret_basic credentials are
// form-url-encoded before Basic encoding (RFC 6749 2.3.1) and oidc-provider
// decodes them so: a secret with reserved characters works at the token and
// revocation endpoints. (oidc-provider accepts VSCHAR secrets only, RFC 6749
// A.2: printable ASCII.)
func TestOIDCProviderSecretEncoding(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{secret: "s3cr+t/ with:reserved%25&=?chars~\"quoted\""})
	b := newBrowser(t)
	if r := b.get(a.authorize(b, a.startSignIn(b)).String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: status %d: %s (error %v)", r.StatusCode, r.body, a.lastError())
	}
	if r := a.token(b, "/api/token"); r.StatusCode != http.StatusOK {
		t.Fatalf("/api/token: status %d (error %v)", r.StatusCode, a.lastError())
	}
	stale := b.clone(a.app.URL)
	if r := b.postForm(a.app.URL+"/sign-out", a.app.URL, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d: %s", r.StatusCode, r.body)
	}
	if strings.Contains(a.logs.String(), "revocation failed") {
		t.Errorf("revocation failed:\n%s", a.logs)
	}
	if r := a.token(stale, "/probe/api/token"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh token not revoked: status %d (error %v)", r.StatusCode, a.lastError())
	}
}

// TestOIDCProviderSignOutWithoutIDTokenHint: once the ID token has expired the
// SDK signs out with client_id alone, which oidc-provider accepts (it checks
// post_logout_redirect_uri against that client), and still revokes the
// refresh token.
func TestOIDCProviderSignOutWithoutIDTokenHint(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{})
	b := newBrowser(t)
	if r := b.get(a.authorize(b, a.startSignIn(b)).String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: status %d: %s (error %v)", r.StatusCode, r.body, a.lastError())
	}
	stale := b.clone(a.app.URL)
	out := b.postForm(a.app.URL+"/late/sign-out", a.app.URL, nil)
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d: %s (error %v)", out.StatusCode, out.body, a.lastError())
	}
	end := location(t, out)
	if q := end.Query(); q.Has("id_token_hint") || q.Get("client_id") != a.cfg.AppID || q.Get("post_logout_redirect_uri") != a.app.URL+"/" {
		t.Fatalf("end-session URL = %s, want client_id and post_logout_redirect_uri without id_token_hint", end)
	}
	if r := a.token(stale, "/probe/api/token"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh token not revoked: status %d (error %v)", r.StatusCode, a.lastError())
	}
	page := b.get(end.String())
	am, xm := formActionRE.FindStringSubmatch(page.body), xsrfRE.FindStringSubmatch(page.body)
	if page.StatusCode != http.StatusOK || am == nil || xm == nil {
		t.Fatalf("end-session page: status %d:\n%s", page.StatusCode, page.body)
	}
	action, err := end.Parse(html.UnescapeString(am[1]))
	if err != nil {
		t.Fatal(err)
	}
	confirm := b.postForm(action.String(), a.op.URL, url.Values{"logout": {"yes"}, "xsrf": {html.UnescapeString(xm[1])}})
	if back := location(t, confirm); confirm.StatusCode != http.StatusSeeOther || back.String() != a.app.URL+"/" {
		t.Fatalf("logout confirm: status %d, Location %s", confirm.StatusCode, back)
	}
}

// TestOIDCProviderRefreshTokenRotation: with rotation on every use (Logto's
// policy for public clients, and for confidential ones late in the token's
// life) the SDK keeps the rotated refresh token in the session cookie, and a
// replay of a rotated-out one makes oidc-provider end the grant.
func TestOIDCProviderRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{providerEnv: []string{"ROTATE_REFRESH_TOKEN=always"}})
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: a.op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	if r := b.get(a.authorize(b, a.startSignIn(b)).String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: status %d: %s (error %v)", r.StatusCode, r.body, a.lastError())
	}
	original := b.clone(a.app.URL)

	// Each refresh rotates; /probe uses a fresh client every time (no
	// coalescer memory), so each one must send the token the previous
	// response put in the cookie or oidc-provider would answer invalid_grant.
	for i, path := range []string{"/eager/api/token", "/probe/api/token", "/probe/api/token"} {
		r := a.token(b, path)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("refresh %d (%s): status %d, error %v: the rotated refresh token was not kept", i+1, path, r.StatusCode, a.lastError())
		}
		a.verifyResourceToken(rs, r.body)
	}
	if c := a.context(b, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
		t.Fatalf("session after rotations: %+v", c)
	}

	// The first refresh token is consumed: replaying it (an old cookie, no
	// coalescer result to fall back on) is reuse, and oidc-provider revokes
	// the whole grant, so the current session is over too.
	if r := a.token(original, "/probe/api/token"); r.StatusCode != http.StatusUnauthorized || !errors.Is(a.lastError(), logto.ErrNotAuthenticated) {
		t.Fatalf("replayed rotated-out refresh token: status %d, error %v; want 401", r.StatusCode, a.lastError())
	}
	if r := a.token(b, "/probe/api/token"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("refresh after reuse detection: status %d; want 401 (grant revoked)", r.StatusCode)
	}
}
