package logto_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// TestSessionStoresBehaveAlike runs the same session properties on cookie
// sessions and on server-side sessions (redisstore runs them on Redis in
// TestTwoInstancesOneRefresh): sign-in, a cached access token, tampering,
// idle and absolute lifetimes, sign-out.
func TestSessionStoresBehaveAlike(t *testing.T) {
	t.Parallel()
	for name, store := range map[string]func() logto.Store{
		"cookie": func() logto.Store { return nil },
		"store":  func() logto.Store { return logto.NewMemoryStore() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, withAPI(), withClock(clock.Now), withConfig(func(c *logto.Config) {
				c.SessionStore = store()
				c.SessionIdleTimeout = 2 * time.Hour
				c.SessionMaxAge = 6 * time.Hour
			}))
			b := h.browser()
			if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", r.StatusCode)
			}
			if !h.context(b).IsAuthenticated {
				t.Fatal("not authenticated after sign-in")
			}
			tok := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body
			if h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body != tok || len(h.refreshRequests()) != 1 {
				t.Fatal("access token not cached in the session")
			}
			// Tampering means signed out, never an error.
			cks := h.sessionCookies(b)
			v := []byte(cks[0].Value)
			v[len(v)/2] ^= 1
			if r := rawGet(t, h.app.URL+"/api/context", cks[0].Name+"="+string(v), ""); r.StatusCode != http.StatusOK || h.contextFromBody(r).IsAuthenticated {
				t.Fatalf("tampered: %d %s", r.StatusCode, r.body)
			}
			// Activity within the idle timeout keeps it; the absolute lifetime ends it.
			for i := 0; i < 3; i++ { // 4.5 h of activity
				clock.Advance(90 * time.Minute)
				if !h.contextQuery(b, "renew=1").IsAuthenticated {
					t.Fatalf("active session ended after %d min", (i+1)*90)
				}
			}
			clock.Advance(90 * time.Minute) // 6 h: the absolute lifetime is over
			if h.contextQuery(b, "renew=1").IsAuthenticated {
				t.Fatal("session outlived its absolute lifetime")
			}
			// A fresh session ends after the idle timeout...
			h.signIn(b, "")
			clock.Advance(3 * time.Hour)
			if h.contextQuery(b, "renew=1").IsAuthenticated {
				t.Fatal("idle session survived")
			}
			// ... and at sign-out.
			h.signIn(b, "")
			b.post(h.app.URL+"/sign-out", h.app.URL)
			if h.context(b).IsAuthenticated {
				t.Fatal("signed in after sign-out")
			}
		})
	}
}

func (h *harness) contextFromBody(r *response) contextJSON {
	var c contextJSON
	_ = jsonDecode(r.body, &c)
	return c
}
