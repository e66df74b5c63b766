package logto_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// cookieSet is a browser's cookies for the app, updated from responses in
// the order they are applied (as a browser does).
type cookieSet map[string]string

func cookiesOf(cks []*http.Cookie) cookieSet {
	s := cookieSet{}
	for _, ck := range cks {
		s[ck.Name] = ck.Value
	}
	return s
}

func (s cookieSet) apply(r *response) {
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if ck.MaxAge < 0 {
			delete(s, ck.Name)
		} else {
			s[ck.Name] = ck.Value
		}
	}
}

func (s cookieSet) header() string {
	var parts []string
	for k, v := range s {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func (s cookieSet) clone() cookieSet {
	out := cookieSet{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

func (h *harness) sessionChunks(r *response) int {
	n := 0
	for name, ck := range setCookies(r) {
		if strings.HasPrefix(name, "logto_"+h.appID) && !strings.Contains(name, "_tx_") && ck.MaxAge >= 0 && ck.Value != "" {
			n++
		}
	}
	return n
}

// TestChunkRaceKeepsSession: two requests of one page carry the same chunked
// session after its ID token expired. A gets an API token (the refresh
// renews the ID token and adds the access token: one chunk more); B renews
// the ID token alone and rewrites the session with the old number of chunks. When B's response
// lands last, the browser holds B's chunks plus A's extra one: the session
// must still open (B's), with its refresh token, rather than failing the
// MAC and signing the user out.
func TestChunkRaceKeepsSession(t *testing.T) {
	t.Parallel()
	demonstrated := false
	// Role counts put the session near a chunk boundary, so that one more
	// access token needs one more cookie.
	for roles := 80; roles <= 400 && !demonstrated; roles += 10 {
		user := logtotest.DefaultUser()
		for len(user.Roles) < roles {
			user.Roles = append(user.Roles, randomRole())
		}
		clock := newFakeClock()
		h := newHarness(t, withAPI(), withClock(clock.Now), withProvider(logtotest.WithUsers(user)),
			withConfig(func(c *logto.Config) { c.Scopes = append(c.Scopes, logto.UserScopeRoles) }))
		b := h.browser()
		if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", r.StatusCode)
		}
		initial := cookiesOf(h.sessionCookies(b))
		clock.Advance(61 * time.Minute) // the ID token expired
		a := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), initial.header(), "")
		bb := rawGet(t, h.app.URL+"/api/context?renew=1", initial.header(), "")
		if a.StatusCode != http.StatusOK || bb.StatusCode != http.StatusOK {
			t.Fatalf("A %d, B %d", a.StatusCode, bb.StatusCode)
		}
		if h.sessionChunks(a) <= h.sessionChunks(bb) || h.sessionChunks(bb) < 2 {
			continue // not at a boundary: try a larger identity
		}
		demonstrated = true
		browser := initial.clone()
		browser.apply(a)
		browser.apply(bb) // B lands last
		r := rawGet(t, h.app.URL+"/api/context", browser.header(), "")
		if !h.contextFromBody(r).IsAuthenticated {
			t.Fatalf("%d roles: A wrote %d chunks, B %d; with B last the user is signed out", roles, h.sessionChunks(a), h.sessionChunks(bb))
		}
		browser.apply(r)
		// The refresh token survived: a new access token can be obtained.
		if r := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), browser.header(), ""); r.StatusCode != http.StatusOK {
			t.Fatalf("token after the race: %d", r.StatusCode)
		}
		t.Logf("%d roles: A wrote %d chunks, B %d; B last: still signed in", roles, h.sessionChunks(a), h.sessionChunks(bb))
	}
	if !demonstrated {
		t.Fatal("no identity size put A and B on different chunk counts")
	}
}

// TestIdleActivityRecordedByPlainReads: with a 30-minute idle timeout, a
// user who loads a page every 5 minutes and never causes a token refresh
// stays signed in, through Middleware and through a bare GetContext.
func TestIdleActivityRecordedByPlainReads(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"middleware", "bare GetContext"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, withClock(clock.Now), withConfig(func(c *logto.Config) {
				c.SessionIdleTimeout = 30 * time.Minute
			}))
			page := h.app.URL + "/api/context"
			if via == "bare GetContext" {
				bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					lc, err := h.client.GetContext(w, r)
					if err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
					_ = jsonEncode(w, lc)
				}))
				t.Cleanup(bare.Close)
				page = bare.URL // same host: the cookie jar sends the session there too
			}
			b := h.browser()
			h.signIn(b, "")
			for minute := 5; minute <= 60; minute += 5 {
				clock.Advance(5 * time.Minute)
				if !h.contextFromBody(b.get(page)).IsAuthenticated {
					t.Fatalf("an active user was signed out at +%d min", minute)
				}
			}
			if n := len(h.refreshRequests()); n != 0 {
				t.Fatalf("%d refreshes: the test must show plain reads alone keep the session", n)
			}
			clock.Advance(31 * time.Minute)
			if h.contextFromBody(b.get(page)).IsAuthenticated {
				t.Fatal("an idle session survived its timeout")
			}
		})
	}
}

// TestSecretRotationReseals: sessions opened with a previous cookie secret
// are re-sealed with the current one on the fly, on both backends, so the
// old secret can then be removed without signing anyone out.
func TestSecretRotationReseals(t *testing.T) {
	t.Parallel()
	for name, store := range map[string]func() logto.Store{
		"cookie": func() logto.Store { return nil },
		"store":  func() logto.Store { return logto.NewMemoryStore() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			shared := store()
			h := newHarness(t, withConfig(func(c *logto.Config) { c.SessionStore = shared }))
			b := h.browser()
			h.signIn(b, "")
			cookies := cookiesOf(h.sessionCookies(b))

			app := func(secret string, previous ...string) http.Handler {
				c, err := logto.New(logto.Config{
					AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: h.op.URL(), BaseURL: h.app.URL,
					CookieSecret: secret, PreviousCookieSecrets: previous, SessionStore: shared,
				})
				if err != nil {
					t.Fatal(err)
				}
				return c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprint(w, logto.FromContext(r.Context()).IsAuthenticated)
				}))
			}
			visit := func(h http.Handler) string {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.Header.Set("Cookie", cookies.header())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				cookies.apply(&response{Response: rec.Result(), body: rec.Body.String()})
				return rec.Body.String()
			}
			const next = "next-secret-0123456789abcdef-0123456789"
			if got := visit(app(next, canaryCookieSecret)); got != "true" {
				t.Fatalf("during the rotation: authenticated %s", got)
			}
			if got := visit(app(next)); got != "true" {
				t.Fatalf("after removing the old secret: authenticated %s; the session was not re-sealed", got)
			}
		})
	}
}

// TestMiddlewareCommitsOnce: several operations of one request that each
// change the session (refreshes, userinfo) end in one write of each session
// cookie, made before the handler's first byte; an operation after the
// response started cannot set cookies any more and says so in the log.
func TestMiddlewareCommitsOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withAPI(), withClock(clock.Now))
	var late error
	page := httptest.NewServer(h.client.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("late") == "1" {
			fmt.Fprintln(w, "started")
			_, late = h.client.GetAccessToken(w, r, apiResource)
			return
		}
		if _, err := h.client.GetAccessToken(w, r, apiResource); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if _, err := h.client.FetchUserInfo(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})))
	t.Cleanup(page.Close)
	b := h.browser()
	h.signIn(b, "")
	clock.Advance(2 * time.Hour) // every cached token expired: each operation refreshes
	r := b.get(page.URL + "/")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	seen := map[string]int{}
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, _ := http.ParseSetCookie(line)
		seen[ck.Name]++
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("cookie %s set %d times in one response: %v", name, n, r.Header.Values("Set-Cookie"))
		}
	}
	if !h.sessionCookieWritten(r) || len(h.refreshRequests()) != 2 {
		t.Fatalf("session written %v, refreshes %d", h.sessionCookieWritten(r), len(h.refreshRequests()))
	}
	// The new session holds both refreshed tokens: no refresh on the next page.
	if r := b.get(page.URL + "/"); r.StatusCode != http.StatusOK || len(h.refreshRequests()) != 2 {
		t.Fatalf("second page: %d, refreshes %d", r.StatusCode, len(h.refreshRequests()))
	}

	clock.Advance(2 * time.Hour)
	r = b.get(page.URL + "/?late=1")
	if r.StatusCode != http.StatusOK || late != nil {
		t.Fatalf("late operation: %d %v", r.StatusCode, late)
	}
	if !strings.Contains(h.logs.String(), "after the response's headers were written") {
		t.Fatal("a session change after the headers was not logged")
	}
}
