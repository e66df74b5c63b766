package logtodev_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// clock is a settable clock shared by the provider and the codes.
type clock = testkit.Clock

func newClock() *clock { return testkit.NewClock() }

// lockedBuffer is a log or console sink safe for concurrent use.
type lockedBuffer = testkit.Buffer

// harness is a dev provider on a real port and a browser-like client: a
// cookie jar keyed by name, no redirect following.
type harness struct {
	t      *testing.T
	srv    *logtodev.Server
	url    string // origin + prefix: the provider URL
	origin string // scheme://host:port
	prefix string // URL path prefix, "" by default
	clock  *clock
	sms    *lockedBuffer
	hc     *http.Client
	jar    map[string]*http.Cookie
	state  string
	verify string // PKCE verifier
}

func newHarness(t *testing.T, edit ...func(*logtodev.Options)) *harness {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	h := &harness{
		t: t, origin: "http://" + ts.Listener.Addr().String(), clock: newClock(), sms: &lockedBuffer{},
		jar: map[string]*http.Cookie{},
		hc:  &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	h.url = h.origin
	opts := logtodev.Options{
		Provider: logtotest.Options{URL: h.url},
		SMS:      sms.NewConsole(h.sms),
		Now:      h.clock.Now,
	}
	for _, e := range edit {
		e(&opts)
	}
	srv, err := logtodev.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.url = srv, srv.Provider.URL()
	h.prefix = strings.TrimPrefix(h.url, h.origin)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return h
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

// do sends a request with the jar's cookies and stores the cookies set.
// A target starting with / is relative to the origin.
func (h *harness) do(method, target string, form url.Values, header ...string) response {
	h.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = h.origin + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range h.jar {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(h.jar, c.Name)
		} else {
			h.jar[c.Name] = c
		}
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (h *harness) get(target string) response { h.t.Helper(); return h.do(http.MethodGet, target, nil) }

// authorize sends an app-like authorization request (PKCE S256, state,
// prompt=consent) with extra parameters.
func (h *harness) authorize(extra url.Values) response {
	h.t.Helper()
	h.state, h.verify = rand.Text(), rand.Text()+rand.Text()
	sum := sha256.Sum256([]byte(h.verify))
	q := url.Values{
		"client_id": {logtotest.DefaultAppID}, "redirect_uri": {logtotest.DefaultRedirectURI},
		"response_type": {"code"}, "scope": {"openid offline_access profile phone"}, "prompt": {"consent"},
		"state": {h.state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return h.get(h.prefix + "/oidc/auth?" + q.Encode())
}

// start authorizes and returns the experience page it lands on.
func (h *harness) start(extra url.Values) (string, response) {
	h.t.Helper()
	r := h.authorize(extra)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/") || strings.HasPrefix(r.location(), "/oidc/") {
		h.t.Fatalf("authorize: %d %q, want 303 to an experience page", r.status, r.location())
	}
	if h.jar[logtotest.InteractionCookie] == nil {
		h.t.Fatal("authorize: no _interaction cookie")
	}
	return r.location(), h.get(r.location())
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrf(t *testing.T, r response) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no csrf field in %d page:\n%s", r.status, r.body)
	}
	return html.UnescapeString(m[1])
}

// sendCode posts a phone number and, on success, follows the redirect to
// the code page (Post/Redirect/Get) as a browser would.
func (h *harness) sendCode(token, phone, mode string) response {
	h.t.Helper()
	r := h.do(http.MethodPost, h.prefix+"/experience/verification-code", url.Values{"csrf": {token}, "phone": {phone}, "mode": {mode}})
	if r.status == http.StatusSeeOther {
		loc := r.header.Get("Location")
		if !strings.Contains(loc, "/verification-code?") {
			h.t.Fatalf("send code redirected to %q", loc)
		}
		return h.get(loc)
	}
	return r
}

func (h *harness) verifyCode(token, phone, code string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.prefix+"/experience/verification-code/verify", url.Values{"csrf": {token}, "phone": {phone}, "code": {code}, "mode": {"sign-in"}})
}

func (h *harness) password(token, identifier, password string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.prefix+"/experience/password", url.Values{"csrf": {token}, "identifier": {identifier}, "password": {password}})
}

var smsRE = regexp.MustCompile(`(?m)^SMS to (\d+): .*?\b(\d{6})\b.*$`)

// lastCode reads the last code the console printed for phone.
func (h *harness) lastCode(phone string) string {
	h.t.Helper()
	code := ""
	for _, m := range smsRE.FindAllStringSubmatch(h.sms.String(), -1) {
		if m[1] == phone {
			code = m[2]
		}
	}
	if code == "" {
		h.t.Fatalf("no SMS to %s in:\n%s", phone, h.sms.String())
	}
	return code
}

func (h *harness) smsCount(phone string) int {
	n := 0
	for _, m := range smsRE.FindAllStringSubmatch(h.sms.String(), -1) {
		if m[1] == phone {
			n++
		}
	}
	return n
}

// finish follows a completed page to the app's callback and exchanges the
// code; it returns the ID token claims.
func (h *harness) finish(r response) map[string]any {
	h.t.Helper()
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), h.url+"/oidc/auth/") {
		h.t.Fatalf("got %d %q, want 303 to %s/oidc/auth/<uid>\n%s", r.status, r.location(), h.url, r.body)
	}
	cb := h.get(r.location())
	u, err := url.Parse(cb.location())
	if cb.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(cb.location(), logtotest.DefaultRedirectURI+"?") {
		h.t.Fatalf("resume: %d %q, want 303 to the redirect URI", cb.status, cb.location())
	}
	q := u.Query()
	if q.Get("code") == "" || q.Get("state") != h.state || q.Get("iss") != h.srv.Provider.Issuer() {
		h.t.Fatalf("callback query %v: want code, state %q, iss %q", q, h.state, h.srv.Provider.Issuer())
	}
	return h.exchange(q.Get("code"))
}

func (h *harness) exchange(code string) map[string]any {
	h.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {h.verify}}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	resp, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.IDToken == "" {
		h.t.Fatalf("token: %d %v %+v", resp.StatusCode, err, tok)
	}
	parts := strings.Split(tok.IDToken, ".")
	if len(parts) != 3 {
		h.t.Fatalf("id_token %q", tok.IDToken)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		h.t.Fatal(err)
	}
	claims := map[string]any{"_raw": tok.IDToken}
	if err := json.Unmarshal(b, &claims); err != nil {
		h.t.Fatal(err)
	}
	return claims
}

func mustContain(t *testing.T, r response, status int, want ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d\n%s", r.status, status, r.body)
	}
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("page lacks %q:\n%s", w, r.body)
		}
	}
}
