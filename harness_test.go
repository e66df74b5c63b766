package logto_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
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

// Canary secrets: any of them in a log line, body, header or Location is a leak.
const (
	canaryAppSecret    = "appsecret-CANARY-0123456789abcdef"
	canaryCookieSecret = "cookiesecret-CANARY-0123456789abcdef"
)

// harness is a Logto-compatible provider, an app using the SDK, and a
// captured log.
type harness struct {
	t      testing.TB
	op     *logtotest.Server
	client *logto.Client
	app    *httptest.Server
	logs   *syncBuffer
	appID  string

	errs testkit.Errors
}

func (h *harness) recordError(err error) { h.errs.Record(err) }

// lastError returns the last error the app's error handler saw.
func (h *harness) lastError() error { return h.errs.Last() }

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func jsonDecode(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// syncBuffer is a log or console sink safe for concurrent use.
type syncBuffer = testkit.Buffer

// harnessSetup is what harness options can change before anything starts.
type harnessSetup struct {
	appID  string
	cfg    logto.Config
	opOpts []logtotest.Option
	op     *logtotest.Server // shared with another harness; nil starts one
	tls    bool
}

type harnessOption func(*harnessSetup)

func withAppID(id string) harnessOption {
	return func(s *harnessSetup) { s.appID = id }
}

func withConfig(f func(*logto.Config)) harnessOption {
	return func(s *harnessSetup) { f(&s.cfg) }
}

// withClock drives both the provider and the SDK from clock.
func withClock(clock func() time.Time) harnessOption {
	return func(s *harnessSetup) {
		s.cfg.Now = clock
		s.opOpts = append(s.opOpts, logtotest.WithClock(clock))
	}
}

// withServer makes the harness's app another application of op (its
// provider options are then ignored).
func withServer(op *logtotest.Server) harnessOption {
	return func(s *harnessSetup) { s.op = op }
}

// withTLS serves the app over https (httptest's certificate, which the
// harness's browsers trust), with an https BaseURL.
func withTLS() harnessOption {
	return func(s *harnessSetup) { s.tls = true }
}

func withProvider(o ...logtotest.Option) harnessOption {
	return func(s *harnessSetup) { s.opOpts = append(s.opOpts, o...) }
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock = testkit.Clock

func newFakeClock() *fakeClock { return testkit.NewClock() }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, logs: &syncBuffer{}, appID: "harnessapp0123456789a"}
	h.app = httptest.NewUnstartedServer(nil)
	appURL := "http://" + h.app.Listener.Addr().String()
	setup := &harnessSetup{appID: h.appID, cfg: logto.Config{
		AppSecret:    canaryAppSecret,
		BaseURL:      appURL,
		CookieSecret: canaryCookieSecret,
		Scopes:       []string{logto.UserScopeEmail, logto.UserScopePhone},
		Logger:       slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			h.recordError(err)
			h.client.DefaultErrorHandler(w, r, err)
		},
	}}
	for _, o := range opts {
		o(setup)
	}
	if setup.tls {
		appURL = "https://" + h.app.Listener.Addr().String()
		setup.cfg.BaseURL = appURL
	}
	h.appID = setup.appID
	if h.op = setup.op; h.op == nil {
		h.op = logtotest.NewServer(t, setup.opOpts...)
	}
	h.op.AddApp(logtotest.App{
		ID: h.appID, Secret: canaryAppSecret, Name: "harness",
		RedirectURIs:           []string{appURL + "/callback"},
		PostLogoutRedirectURIs: []string{appURL + "/"},
	})
	cfg := setup.cfg
	cfg.AppID = h.appID
	cfg.Endpoint = h.op.URL()
	var err error
	h.client, err = logto.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h.client.Handler())
	mux.Handle("GET /api/context", h.client.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var opts []logto.ContextOption
		if q.Get("fetchUserInfo") == "1" {
			opts = append(opts, logto.WithUserInfo())
		}
		if q.Get("getAccessToken") == "1" {
			opts = append(opts, logto.WithAccessToken(q.Get("resource")))
		}
		if o := q.Get("organizationId"); o != "" {
			opts = append(opts, logto.WithOrganization(o))
		}
		if q.Get("organizationTokens") == "1" {
			opts = append(opts, logto.WithOrganizationTokens())
		}
		if q.Get("renew") == "1" {
			opts = append(opts, logto.WithIDTokenRenewal())
		}
		lc, err := h.client.GetContext(w, r, opts...)
		if err != nil {
			h.recordError(err)
			if !errors.Is(err, logto.ErrNotAuthenticated) {
				h.client.DefaultErrorHandler(w, r, err)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = jsonEncode(w, lc)
	})))
	// /api/token?resource=R&org=O answers the token as text, or the error's status.
	mux.Handle("GET /api/token", h.client.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, org := r.URL.Query().Get("resource"), r.URL.Query().Get("org")
		var tok string
		var err error
		switch {
		case res != "" && org != "":
			tok, err = h.client.GetOrganizationResourceToken(w, r, res, org)
		case org != "":
			tok, err = h.client.GetOrganizationToken(w, r, org)
		default:
			tok, err = h.client.GetAccessToken(w, r, res)
		}
		if err != nil {
			h.recordError(err)
			w.WriteHeader(logto.StatusCode(err))
			_, _ = io.WriteString(w, "error")
			return
		}
		_, _ = io.WriteString(w, tok)
	})))
	mux.Handle("GET /private", h.client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "private for "+logto.FromContext(r.Context()).Claims.Sub)
	})))
	h.app.Config.Handler = mux
	if setup.tls {
		h.app.StartTLS()
	} else {
		h.app.Start()
	}
	t.Cleanup(h.app.Close)
	return h
}

// browser is a cookie-keeping client that never follows redirects, so every
// hop can be inspected.
type browser struct {
	t testing.TB
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	var transport http.RoundTripper
	if h.app.TLS != nil {
		transport = h.app.Client().Transport // trusts the app's certificate
	}
	return &browser{t: h.t, c: &http.Client{
		Jar:           jar,
		Transport:     transport,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a fully read response.
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
	body, _ := io.ReadAll(resp.Body)
	return &response{resp, string(body)}
}

func (b *browser) get(u string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

func (b *browser) post(u string, origin string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// location resolves a response's Location against its request URL.
func location(t testing.TB, r *response) *url.URL {
	t.Helper()
	loc, err := r.Location()
	if err != nil {
		t.Fatalf("%s %s: status %d, no Location (%v)", r.Request.Method, r.Request.URL, r.StatusCode, err)
	}
	return loc
}

// startSignIn hits /sign-in and returns the authorization URL.
func (h *harness) startSignIn(b *browser, returnTo string) *url.URL {
	h.t.Helper()
	u := h.app.URL + "/sign-in"
	if returnTo != "" {
		u += "?returnTo=" + url.QueryEscape(returnTo)
	}
	r := b.get(u)
	if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("/sign-in: status %d, body %s", r.StatusCode, r.body)
	}
	return location(h.t, r)
}

// authorize walks the provider's hops from authURL until it redirects back to
// the app, and returns that callback URL (not yet visited).
func (h *harness) authorize(b *browser, authURL *url.URL) *url.URL {
	h.t.Helper()
	next := authURL
	for i := 0; i < 10; i++ {
		if strings.HasPrefix(next.String(), h.app.URL) {
			return next
		}
		r := b.get(next.String())
		if r.StatusCode/100 != 3 {
			h.t.Fatalf("provider %s: status %d, body %s", next, r.StatusCode, r.body)
		}
		next = location(h.t, r)
	}
	h.t.Fatal("too many provider hops")
	return nil
}

// signIn runs the whole journey and returns the callback response.
func (h *harness) signIn(b *browser, returnTo string) *response {
	h.t.Helper()
	cb := h.authorize(b, h.startSignIn(b, returnTo))
	return b.get(cb.String())
}

type contextJSON struct {
	IsAuthenticated    bool              `json:"isAuthenticated"`
	Claims             map[string]any    `json:"claims"`
	Scopes             []string          `json:"scopes"`
	AccessToken        string            `json:"accessToken"`
	UserInfo           map[string]any    `json:"userInfo"`
	OrganizationTokens map[string]string `json:"organizationTokens"`
}

func (h *harness) context(b *browser) contextJSON {
	h.t.Helper()
	return h.contextQuery(b, "")
}

// contextQuery calls /api/context?query.
func (h *harness) contextQuery(b *browser, query string) contextJSON {
	h.t.Helper()
	r := b.get(h.app.URL + "/api/context?" + query)
	if r.StatusCode != http.StatusOK {
		h.t.Fatalf("/api/context: status %d: %s", r.StatusCode, r.body)
	}
	var c contextJSON
	if err := jsonDecode(r.body, &c); err != nil {
		h.t.Fatalf("/api/context: %v: %s", err, r.body)
	}
	return c
}

// setCookies returns the Set-Cookie lines of r by cookie name.
func setCookies(r *response) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, line := range r.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil {
			out[ck.Name] = ck
		}
	}
	return out
}

// sessionCookieWritten reports whether r creates or updates the session
// (under its plain or its __Host- name).
func (h *harness) sessionCookieWritten(r *response) bool {
	for name, ck := range setCookies(r) {
		name = strings.TrimPrefix(name, "__Host-")
		if (name == "logto_"+h.appID || strings.HasPrefix(name, "logto_"+h.appID+".")) && ck.MaxAge >= 0 && ck.Value != "" {
			return true
		}
	}
	return false
}

// assertNoLeak checks that no secret, code or token appears in the logs, the
// body, the headers or the Location of r.
func (h *harness) assertNoLeak(r *response, extra ...string) {
	h.t.Helper()
	var hdr strings.Builder
	for k, v := range r.Header {
		if k == "Set-Cookie" {
			continue // sealed values
		}
		hdr.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	for where, text := range map[string]string{"logs": h.logs.String(), "body": r.body, "headers": hdr.String()} {
		for _, s := range append([]string{"CANARY", "eyJ"}, extra...) {
			if s != "" && strings.Contains(text, s) {
				h.t.Errorf("%s contain %q:\n%s", where, s, text)
			}
		}
	}
}

// tokenCalls counts the provider's token endpoint requests.
func (h *harness) tokenCalls() int { return h.op.CountRequests("/oidc/token") }
