package logto_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

// TestRoundTrip walks sign-in -> provider -> callback -> context -> sign-out
// -> provider end session -> back to the app, signed out.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()

	if c := h.context(b); c.IsAuthenticated || c.Claims != nil {
		t.Fatalf("before sign-in: %+v", c)
	}
	if r := b.get(h.app.URL + "/private"); r.StatusCode != http.StatusSeeOther || !strings.HasSuffix(location(t, r).String(), "/sign-in?returnTo=%2Fprivate") {
		t.Fatalf("/private signed out: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}

	authURL := h.startSignIn(b, "/private")
	q := authURL.Query()
	for k, want := range map[string]string{
		"client_id": h.appID, "redirect_uri": h.app.URL + "/callback", "response_type": "code",
		"code_challenge_method": "S256", "prompt": "consent", "scope": "openid offline_access profile email phone",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorization %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) != 43 {
			t.Errorf("authorization %s = %q, want 43 base64url characters", k, q.Get(k))
		}
	}

	cbURL := h.authorize(b, authURL)
	code := cbURL.Query().Get("code")
	cb := b.get(cbURL.String())
	if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/private" {
		t.Fatalf("callback: status %d, Location %q, body %s", cb.StatusCode, cb.Header.Get("Location"), cb.body)
	}
	if cc := cb.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("callback Cache-Control = %q", cc)
	}
	ck := setCookies(cb)["logto_"+h.appID]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("session cookie = %+v", ck)
	}

	c := h.context(b)
	if !c.IsAuthenticated || c.Claims["sub"] != logtotest.DefaultUserID {
		t.Fatalf("after sign-in: %+v", c)
	}
	if !slices.Contains(c.Scopes, "openid") {
		t.Errorf("scopes = %q, want openid among them", c.Scopes)
	}
	if _, ok := c.Claims["email"]; !ok {
		t.Errorf("claims lack email: %v", c.Claims)
	}
	if r := b.get(h.app.URL + "/private"); r.StatusCode != http.StatusOK || r.body != "private for "+logtotest.DefaultUserID {
		t.Fatalf("/private: %d %q", r.StatusCode, r.body)
	}
	if n := h.tokenCalls(); n != 1 {
		t.Errorf("token calls = %d, want 1", n)
	}

	// Sign out (LO-01).
	out := b.post(h.app.URL+"/sign-out", h.app.URL)
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d, body %s", out.StatusCode, out.body)
	}
	if c := setCookies(out)["logto_"+h.appID]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out did not clear the session cookie: %+v", c)
	}
	end := location(t, out)
	eq := end.Query()
	if end.Path != "/oidc/session/end" || eq.Get("client_id") != h.appID || eq.Get("post_logout_redirect_uri") != h.app.URL+"/" || eq.Get("id_token_hint") == "" || eq.Has("state") {
		t.Fatalf("end-session URL = %s", end)
	}
	if n := h.op.CountRequests("/oidc/token/revocation"); n != 1 {
		t.Errorf("revocation calls = %d, want 1", n)
	}
	if c := h.context(b); c.IsAuthenticated {
		t.Fatal("still authenticated after sign-out")
	}

	// Logto's end-session page posts a form to confirm, then 303s back.
	page := b.get(end.String())
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "op.logoutForm") {
		t.Fatalf("end-session page: %d %s", page.StatusCode, page.body)
	}
	xsrf := between(page.body, `name="xsrf" value="`, `"`)
	form := url.Values{"xsrf": {xsrf}, "logout": {"yes"}}
	req, _ := http.NewRequest(http.MethodPost, h.op.URL()+"/oidc/session/end/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	confirm := b.do(req)
	// The browser lands on the post-logout URI exactly: no stray ?state=.
	if confirm.StatusCode != http.StatusSeeOther || confirm.Header.Get("Location") != h.app.URL+"/" {
		t.Fatalf("confirm: %d, Location %q, want the post-logout URI with no query", confirm.StatusCode, confirm.Header.Get("Location"))
	}

	// Signing in again works.
	if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("second sign-in: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	h.assertNoLeak(cb, code)
	// id_token_hint is the one token allowed in a Location (RP-Initiated Logout 1.0).
	out.Header.Set("Location", withQuery(end, func(q url.Values) { q.Del("id_token_hint") }))
	h.assertNoLeak(out, code)
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return ""
}

// TestTwoTabs: two sign-ins in flight in one browser both complete (CON-01).
func TestTwoTabs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	auth1 := h.startSignIn(b, "/one")
	auth2 := h.startSignIn(b, "/two")
	cb2 := h.authorize(b, auth2)
	cb1 := h.authorize(b, auth1)
	if r := b.get(cb2.String()); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/two" {
		t.Fatalf("tab 2: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if r := b.get(cb1.String()); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/one" {
		t.Fatalf("tab 1: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("not authenticated")
	}
}

// TestManyBrowsersConcurrently signs several browsers in at once (race detector).
func TestManyBrowsersConcurrently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := h.browser()
			a1, a2 := h.startSignIn(b, "/a"), h.startSignIn(b, "/b")
			for _, a := range []*url.URL{a2, a1} {
				cb := h.authorize(b, a)
				if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
					t.Errorf("callback: %d %s", r.StatusCode, r.body)
				}
			}
			if !h.context(b).IsAuthenticated {
				t.Error("not authenticated")
			}
		}()
	}
	wg.Wait()
}

// TestPendingSignInsAreCapped: the oldest transaction is dropped beyond the cap.
func TestPendingSignInsAreCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	var auths []*url.URL
	for i := 0; i < 6; i++ {
		auths = append(auths, h.startSignIn(b, ""))
	}
	txCookies := 0
	u, _ := url.Parse(h.app.URL)
	for _, ck := range b.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "logto_"+h.appID+"_tx_") {
			txCookies++
		}
	}
	if txCookies != 5 {
		t.Fatalf("pending transaction cookies = %d, want 5", txCookies)
	}
	if r := b.get(h.authorize(b, auths[len(auths)-1]).String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("newest transaction failed: %d", r.StatusCode)
	}
}
