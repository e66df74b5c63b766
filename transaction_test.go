package logto_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// jarCookies returns the browser's cookies for the app whose names start
// with prefix.
func (h *harness) jarCookies(b *browser, prefix string) []*http.Cookie {
	u, _ := url.Parse(h.app.URL)
	var out []*http.Cookie
	for _, ck := range b.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, prefix) {
			out = append(out, ck)
		}
	}
	return out
}

// plant puts cookies into b's jar for the app, as a sibling subdomain or a
// network attacker on plain http could in a real browser.
func (h *harness) plant(b *browser, cks ...*http.Cookie) {
	u, _ := url.Parse(h.app.URL)
	b.c.Jar.SetCookies(u, cks)
}

// wantCallbackRefused checks that r, a callback, was refused with 400 and
// reason, with no token request since tokensBefore and no session written.
func (h *harness) wantCallbackRefused(r *response, reason logto.Reason, tokensBefore int) {
	h.t.Helper()
	if r.StatusCode != http.StatusBadRequest {
		h.t.Fatalf("callback: status %d, want 400: %s", r.StatusCode, r.body)
	}
	var ce *logto.CallbackError
	if err := h.lastError(); !errors.Is(err, logto.ErrInvalidCallback) || !errors.As(err, &ce) || ce.Reason != reason {
		h.t.Errorf("error = %v, want a CallbackError with reason %q", err, reason)
	}
	if n := h.tokenCalls() - tokensBefore; n != 0 {
		h.t.Errorf("%d token requests, want 0", n)
	}
	if h.sessionCookieWritten(r) {
		h.t.Error("session cookie written")
	}
}

// TestPlantedTransactionCookie: login CSRF. The attacker starts a sign-in in
// their own browser, signs in at Logto and stops at the callback URL; then
// plants their transaction cookie in the victim's browser and sends the
// victim to that URL. The transaction is bound to the attacker's browser:
// 400, no code exchange, the victim is not signed in. (Before the binding,
// this signed the victim in as the attacker.)
func TestPlantedTransactionCookie(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// victimStarts: the victim has started a sign-in of their own
		// (so holds a binding cookie) before the attack.
		victimStarts bool
		// plantBinding: the attacker also plants their binding cookie, with
		// a longer path so that it comes first in the Cookie header.
		plantBinding bool
	}{
		{name: "victim without binding cookie"},
		{name: "victim with own binding cookie", victimStarts: true},
		{name: "attacker's binding cookie planted beside the victim's", victimStarts: true, plantBinding: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			victim := h.browser()
			var victimAuth *url.URL
			if tc.victimStarts {
				victimAuth = h.startSignIn(victim, "/mine")
			}

			attacker := h.browser()
			cb := h.authorize(attacker, h.startSignIn(attacker, "/"))
			txs := h.jarCookies(attacker, "logto_"+h.appID+"_tx_")
			if len(txs) != 1 {
				t.Fatalf("attacker holds %d transaction cookies, want 1", len(txs))
			}
			planted := []*http.Cookie{{Name: txs[0].Name, Value: txs[0].Value, Path: "/"}}
			if tc.plantBinding {
				bs := h.jarCookies(attacker, "logto_"+h.appID+"_browser")
				if len(bs) != 1 {
					t.Fatalf("attacker holds %d binding cookies, want 1", len(bs))
				}
				planted = append(planted, &http.Cookie{Name: bs[0].Name, Value: bs[0].Value, Path: "/callback"})
			}
			h.plant(victim, planted...)

			before := h.tokenCalls()
			r := victim.get(cb.String())
			h.wantCallbackRefused(r, logto.ReasonBrowserMismatch, before)
			if h.context(victim).IsAuthenticated {
				t.Fatal("victim signed in as the attacker")
			}
			if len(h.jarCookies(victim, txs[0].Name)) != 0 {
				t.Error("planted transaction cookie not deleted")
			}

			// The victim's own sign-in, started before, still completes
			// (unless the planted binding cookie stays beside theirs).
			if tc.victimStarts && !tc.plantBinding {
				if r := victim.get(h.authorize(victim, victimAuth).String()); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/mine" {
					t.Fatalf("victim's own sign-in: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
				}
			}
			// The attacker's callback still would have worked in their own
			// browser: the refusal is about the browser, not the transaction.
		})
	}
}

// TestPlantedTransactionCookieDuringExchange: the victim reaches the
// attacker's callback URL, with the planted transaction cookie, while the
// attacker's own callback is redeeming the code. The binding is checked
// before a callback may join the exchange in flight (redeem.go): the victim
// gets 400 at once and never the attacker's session.
func TestPlantedTransactionCookieDuringExchange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attacker, victim := h.browser(), h.browser()
	cb := h.authorize(attacker, h.startSignIn(attacker, "/"))
	h.plant(victim, h.jarCookies(attacker, "logto_"+h.appID+"_tx_")...)

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.op.SetHooks(logtotest.Hooks{TokenResponseFor: func(grant string, _ *int, _ map[string]any) {
		if grant == "authorization_code" {
			once.Do(func() { close(entered) })
			select {
			case <-release:
			case <-time.After(5 * time.Second): // the old code: the victim waits for this exchange
			}
		}
	}})
	done := make(chan *response, 1)
	go func() { done <- attacker.get(cb.String()) }()
	<-entered

	r := victim.get(cb.String())
	close(release)
	h.wantCallbackRefused(r, logto.ReasonBrowserMismatch, h.tokenCalls())
	if own := <-done; own.StatusCode != http.StatusSeeOther || !h.sessionCookieWritten(own) {
		t.Fatalf("attacker's own callback: %d %s", own.StatusCode, own.body)
	}
	if n := h.tokenCalls(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if h.context(victim).IsAuthenticated {
		t.Fatal("victim signed in as the attacker")
	}
}

// TestCookiesClearedMidSignIn: a browser that loses its cookies between
// the redirect to Logto and the callback gets a clean 400 and no code
// exchange, and the next sign-in works.
func TestCookiesClearedMidSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		clear  string // what to delete: the cookies named "logto_<AppID>" + clear...
		reason logto.Reason
	}{
		{"all cookies", "", logto.ReasonStateMismatch},
		{"binding cookie only", "_browser", logto.ReasonBrowserMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			b := h.browser()
			cb := h.authorize(b, h.startSignIn(b, ""))
			for _, ck := range h.jarCookies(b, "logto_"+h.appID+tc.clear) {
				h.plant(b, &http.Cookie{Name: ck.Name, Path: "/", MaxAge: -1})
			}
			h.wantCallbackRefused(b.get(cb.String()), tc.reason, 0)
			if r := h.signIn(b, "/again"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/again" {
				t.Fatalf("next sign-in: %d %s", r.StatusCode, r.body)
			}
			if !h.context(b).IsAuthenticated {
				t.Fatal("not signed in after the second sign-in")
			}
		})
	}
}

// TestBindingCookieSharedByTabs: one binding cookie per browser, kept by
// later sign-ins, so every tab's transaction stays valid; each sign-in
// extends its lifetime.
func TestBindingCookieSharedByTabs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	var auths []*url.URL
	var values []string
	for i := 0; i < 5; i++ {
		r := b.get(h.app.URL + "/sign-in?returnTo=/tab" + strconv.Itoa(i))
		auths = append(auths, location(t, r))
		ck := setCookies(r)["logto_"+h.appID+"_browser"]
		if ck == nil || ck.Value == "" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge < 3600 {
			t.Fatalf("sign-in %d: binding cookie %+v", i, ck)
		}
		values = append(values, ck.Value)
	}
	for i, v := range values {
		if v != values[0] {
			t.Fatalf("sign-in %d wrote binding %q, want the first one kept", i, v)
		}
	}
	for i := len(auths) - 1; i >= 0; i-- {
		want := "/tab" + strconv.Itoa(i)
		if r := b.get(h.authorize(b, auths[i]).String()); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Fatalf("tab %d: %d %q %s", i, r.StatusCode, r.Header.Get("Location"), r.body)
		}
	}
}

// TestHostPrefixedCookieNames: with Secure cookies (an https BaseURL, or
// CookieSecure) every cookie the SDK writes during sign-in, callback and
// sign-out is named __Host-... and meets the prefix's rules (Secure, Path=/,
// no Domain), so browsers refuse the same names from a sibling subdomain or
// plain http. On http the names stay plain.
func TestHostPrefixedCookieNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opt    harnessOption
		scheme string
		host   bool
	}{
		{"https BaseURL", withTLS(), "https", true},
		{"CookieSecure on http", withConfig(func(c *logto.Config) { c.CookieSecure = true }), "http", true},
		{"http", withConfig(func(*logto.Config) {}), "http", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opt)
			if !strings.HasPrefix(h.app.URL, tc.scheme+"://") {
				t.Fatalf("app at %s, want %s", h.app.URL, tc.scheme)
			}
			b := h.browser()
			seen := map[string]bool{}
			check := func(step string, r *response) {
				t.Helper()
				lines := r.Header.Values("Set-Cookie")
				if len(lines) == 0 {
					t.Errorf("%s: no Set-Cookie", step)
				}
				for _, line := range lines {
					ck, err := http.ParseSetCookie(line)
					if err != nil {
						t.Fatalf("%s: %q: %v", step, line, err)
					}
					base, prefixed := strings.CutPrefix(ck.Name, "__Host-")
					if prefixed != tc.host {
						t.Errorf("%s: cookie %q, want __Host- prefix %v", step, ck.Name, tc.host)
					}
					if ck.Secure != tc.host || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
						t.Errorf("%s: %q", step, line)
					}
					switch {
					case base == "logto_"+h.appID, base == "logto_"+h.appID+"_browser":
						seen[base] = true
					case strings.HasPrefix(base, "logto_"+h.appID+"."): // a session chunk (or its expiry)
						seen["logto_"+h.appID] = true
					case strings.HasPrefix(base, "logto_"+h.appID+"_tx_"):
						seen["tx"] = true
					default:
						t.Errorf("%s: unexpected cookie %q", step, ck.Name)
					}
				}
			}

			start := b.get(h.app.URL + "/sign-in")
			check("sign-in", start)
			cb := b.get(h.authorize(b, location(t, start)).String())
			if cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: %d %s", cb.StatusCode, cb.body)
			}
			check("callback", cb)
			if !h.context(b).IsAuthenticated {
				t.Fatal("not signed in")
			}
			out := b.post(h.app.URL+"/sign-out", h.app.URL)
			if out.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", out.StatusCode, out.body)
			}
			check("sign-out", out)
			if len(seen) != 3 {
				t.Errorf("cookies written: %v, want the session, binding and transaction cookies", seen)
			}
		})
	}
}
