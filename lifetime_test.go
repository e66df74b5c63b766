package logto_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// TestIdleAndAbsoluteLifetimes: activity keeps a session alive up to its
// absolute lifetime; inactivity longer than the idle timeout ends it.
func TestIdleAndAbsoluteLifetimes(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withClock(clock.Now), withConfig(func(c *logto.Config) {
		c.SessionIdleTimeout = 24 * time.Hour
		c.SessionMaxAge = 3 * 24 * time.Hour
	}))
	active, idle := h.browser(), h.browser()
	h.signIn(active, "")
	h.signIn(idle, "")
	for i := 0; i < 5; i++ { // 5 x 12 h = 60 h of activity
		clock.Advance(12 * time.Hour)
		if c := h.contextQuery(active, "renew=1"); !c.IsAuthenticated {
			t.Fatalf("active session ended after %d h", (i+1)*12)
		}
	}
	if c := h.contextQuery(idle, "renew=1"); c.IsAuthenticated {
		t.Fatal("idle session survived 60 h with a 24 h idle timeout")
	}
	clock.Advance(13 * time.Hour) // 73 h: past the 3-day absolute lifetime
	if c := h.contextQuery(active, "renew=1"); c.IsAuthenticated {
		t.Fatal("session survived its absolute lifetime")
	}
}

// TestRotatedSecretReseals: a cookie sealed with a previous secret opens and
// is sealed again with the current secret on the same response.
func TestRotatedSecretReseals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	rotated, err := logto.New(logto.Config{
		AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: h.op.URL(), BaseURL: h.app.URL,
		CookieSecret: "new-secret-0123456789abcdefghijklmnop", PreviousCookieSecrets: []string{canaryCookieSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	for _, ck := range h.sessionCookies(b) {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	if lc, _ := rotated.GetContext(w, req); !lc.IsAuthenticated {
		t.Fatal("old-secret cookie refused during rotation")
	}
	resealed := w.Result().Cookies()
	if len(resealed) == 0 {
		t.Fatal("not re-sealed")
	}
	onlyNew, _ := logto.New(logto.Config{
		AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: h.op.URL(), BaseURL: h.app.URL,
		CookieSecret: "new-secret-0123456789abcdefghijklmnop",
	})
	again := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	for _, ck := range resealed {
		again.AddCookie(ck)
	}
	if lc, _ := onlyNew.GetContext(httptest.NewRecorder(), again); !lc.IsAuthenticated {
		t.Fatal("re-sealed cookie does not open with the current secret alone")
	}
}
