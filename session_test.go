package logto_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// sessionCookies returns the browser's session cookies for the app.
func (h *harness) sessionCookies(b *browser) []*http.Cookie {
	u, _ := url.Parse(h.app.URL)
	var out []*http.Cookie
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "logto_"+h.appID || strings.HasPrefix(ck.Name, "logto_"+h.appID+".") {
			out = append(out, ck)
		}
	}
	return out
}

// rawGet sends a GET with exactly the given Cookie header.
func rawGet(t *testing.T, u, cookieHeader, accept string) *response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Cookie", cookieHeader)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return &response{resp, sb.String()}
}

func cookieHeader(cks []*http.Cookie) string {
	var parts []string
	for _, ck := range cks {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSES01CookieAttributes: Secure, HttpOnly, SameSite=Lax, Path=/, no
// Domain, opaque value.
func TestSES01CookieAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *logto.Config) { c.CookieSecure = true }))
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	// Go's jar would not send Secure cookies over http: replay the
	// transaction cookie by hand.
	u, _ := url.Parse(h.app.URL)
	r := rawGet(t, cb.String(), cookieHeader(b.c.Jar.Cookies(u)), "")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", r.StatusCode, r.body)
	}
	ck := setCookies(r)["__Host-logto_"+h.appID] // Secure cookies carry the __Host- prefix
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != 14*24*3600 {
		t.Fatalf("session cookie attributes: %+v", ck)
	}
	raw, _ := base64.URLEncoding.DecodeString(ck.Value)
	for _, s := range []string{logtotest.DefaultUserID, "eyJ", "idToken", "refresh"} { // plaintext markers (random bytes could hold a single "@")
		if strings.Contains(ck.Value, s) || strings.Contains(string(raw), s) {
			t.Fatalf("session cookie shows %q", s)
		}
	}
	for name, c := range setCookies(r) {
		if strings.Contains(name, "_tx_") && (c.MaxAge >= 0 || !c.Secure) {
			t.Fatalf("transaction cookie not deleted securely: %+v", c)
		}
	}
}

// TestSES02Tampered: a flipped bit, truncation or garbage means signed out,
// the cookie cleared, never a 500.
func TestSES02Tampered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	cks := h.sessionCookies(b)
	if len(cks) != 1 {
		t.Fatalf("session cookies = %d", len(cks))
	}
	v := cks[0].Value
	flip := []byte(v)
	flip[len(flip)/2] ^= 0x01
	for name, value := range map[string]string{
		"bit flipped": string(flip),
		"truncated":   v[:len(v)/2],
		"garbage":     "not-a-cookie",
		"raw json":    `{"idToken":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			hdr := "logto_" + h.appID + "=" + value
			ctx := rawGet(t, h.app.URL+"/api/context", hdr, "")
			if ctx.StatusCode != http.StatusOK || !strings.Contains(ctx.body, `"isAuthenticated":false`) {
				t.Fatalf("/api/context: %d %s", ctx.StatusCode, ctx.body)
			}
			if c := setCookies(ctx)["logto_"+h.appID]; value != `{"idToken":"x"}` && (c == nil || c.MaxAge >= 0) {
				t.Fatalf("bad cookie not cleared: %+v", c)
			}
			if page := rawGet(t, h.app.URL+"/private", hdr, "text/html"); page.StatusCode != http.StatusSeeOther {
				t.Fatalf("page: %d", page.StatusCode)
			}
			if api := rawGet(t, h.app.URL+"/private", hdr, "application/json"); api.StatusCode != http.StatusUnauthorized {
				t.Fatalf("api: %d", api.StatusCode)
			}
		})
	}
}

// TestSES05OtherApp: same secret, other AppID: its session and transaction
// cookies are worthless here.
func TestSES05OtherApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o2 := newHarness(t, withAppID("otherapp0123456789abc"))
	ob := o2.browser()
	o2.signIn(ob, "")
	cks := o2.sessionCookies(ob)
	if len(cks) != 1 {
		t.Fatalf("other app session cookies: %d", len(cks))
	}
	hdr := "logto_" + h.appID + "=" + cks[0].Value
	if ctx := rawGet(t, h.app.URL+"/api/context", hdr, ""); !strings.Contains(ctx.body, `"isAuthenticated":false`) {
		t.Fatalf("foreign session accepted: %s", ctx.body)
	}

	// The other app's transaction cookie, renamed, fails at our callback.
	auth := o2.startSignIn(ob, "")
	state := auth.Query().Get("state")
	u, _ := url.Parse(o2.app.URL)
	var txValue, txName string
	for _, ck := range ob.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "logto_"+o2.appID+"_tx_") {
			txName, txValue = ck.Name, ck.Value
		}
	}
	ourName := "logto_" + h.appID + "_tx_" + strings.TrimPrefix(txName, "logto_"+o2.appID+"_tx_")
	r := rawGet(t, h.app.URL+"/callback?code=x&state="+url.QueryEscape(state)+"&iss="+url.QueryEscape(h.client.Issuer()), ourName+"="+txValue, "")
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("foreign transaction: %d %s", r.StatusCode, r.body)
	}
}

// TestSES09LargeSessions: big ID tokens are split into chunks, each
// Set-Cookie within 4096 bytes, the next request is authenticated, and
// sign-out clears every chunk.
func TestSES09LargeSessions(t *testing.T) {
	t.Parallel()
	// 4 KB of roles make a ~6 KB ID token (SES-09); 16 KB of roles seal to a
	// session of more than 20 KB. Role names are random: sessions are
	// compressed, and real-world sizes are what matters here.
	for _, kb := range []int{4, 16} {
		t.Run(fmt.Sprintf("%dKB", kb), func(t *testing.T) {
			t.Parallel()
			user := logtotest.DefaultUser()
			for len(strings.Join(user.Roles, `","`)) < kb<<10 {
				user.Roles = append(user.Roles, randomRole())
			}
			h := newHarness(t,
				withProvider(logtotest.WithUsers(user)),
				withConfig(func(c *logto.Config) { c.Scopes = append(c.Scopes, logto.UserScopeRoles) }))
			b := h.browser()
			r := h.signIn(b, "")
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: %d %s", r.StatusCode, r.body)
			}
			chunks, sealed := 0, 0
			for _, line := range r.Header.Values("Set-Cookie") {
				if len(line) > 4096 {
					t.Fatalf("Set-Cookie of %d bytes", len(line))
				}
				if ck, _ := http.ParseSetCookie(line); ck != nil && strings.HasPrefix(ck.Name, "logto_"+h.appID+".") {
					chunks++
					sealed += len(ck.Value)
				}
			}
			if kb == 16 && sealed < 20<<10 {
				t.Fatalf("sealed session is %d bytes, want 20 KB+", sealed)
			}
			t.Logf("%d KB of roles: %d chunks, %d bytes sealed", kb, chunks, sealed)
			if chunks < 2 {
				t.Fatalf("chunks = %d, want 2+", chunks)
			}
			c := h.context(b)
			if !c.IsAuthenticated || len(c.Claims["roles"].([]any)) != len(user.Roles) {
				t.Fatalf("large session not authenticated after round trip")
			}
			out := b.post(h.app.URL+"/sign-out", h.app.URL)
			cleared := 0
			for name, ck := range setCookies(out) {
				if strings.HasPrefix(name, "logto_"+h.appID) && ck.MaxAge < 0 {
					cleared++
				}
			}
			if cleared < chunks || len(h.sessionCookies(b)) != 0 {
				t.Fatalf("sign-out cleared %d of %d chunks; left %d", cleared, chunks, len(h.sessionCookies(b)))
			}
		})
	}
}

// TestSessionTooLarge: beyond the cookie budget the callback fails clearly
// (500, ErrSessionTooLarge) instead of writing a session the browser drops.
func TestSessionTooLarge(t *testing.T) {
	t.Parallel()
	user := logtotest.DefaultUser()
	for len(user.Roles) < 1500 {
		user.Roles = append(user.Roles, randomRole())
	}
	h := newHarness(t, withProvider(logtotest.WithUsers(user)),
		withConfig(func(c *logto.Config) { c.Scopes = append(c.Scopes, logto.UserScopeRoles) }))
	b := h.browser()
	r := h.signIn(b, "")
	if r.StatusCode != http.StatusInternalServerError || !errors.Is(h.lastError(), logto.ErrSessionTooLarge) {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if h.sessionCookieWritten(r) {
		t.Fatal("partial session written")
	}
}

// TestMissingChunkMeansSignedOut drops one chunk of a chunked session.
func TestMissingChunkMeansSignedOut(t *testing.T) {
	t.Parallel()
	user := logtotest.DefaultUser()
	for i := 0; i < 400; i++ {
		user.Roles = append(user.Roles, randomRole())
	}
	h := newHarness(t, withProvider(logtotest.WithUsers(user)),
		withConfig(func(c *logto.Config) { c.Scopes = append(c.Scopes, logto.UserScopeRoles) }))
	b := h.browser()
	h.signIn(b, "")
	cks := h.sessionCookies(b)
	if len(cks) < 2 {
		t.Fatalf("chunks = %d", len(cks))
	}
	r := rawGet(t, h.app.URL+"/api/context", cookieHeader(cks[1:]), "")
	if !strings.Contains(r.body, `"isAuthenticated":false`) {
		t.Fatalf("partial session accepted: %s", r.body)
	}
}

// TestForeignRawJSONCookies: Logto's raw-JSON cookies reach the app on
// localhost and must not disturb it.
func TestForeignRawJSONCookies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	hdr := `_logto={"appId":"x","organizationId":null}; _interaction={"a":1}; ` + cookieHeader(h.sessionCookies(b)) + `; other="quoted"`
	r := rawGet(t, h.app.URL+"/api/context", hdr, "")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `"isAuthenticated":true`) {
		t.Fatalf("raw JSON cookies disturbed the app: %d %s", r.StatusCode, r.body)
	}
}

// TestExpiredIDTokenMeansSignedOut: IsAuthenticated follows exp with skew.
func TestExpiredIDTokenMeansSignedOut(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withClock(clock.Now))
	b := h.browser()
	h.signIn(b, "")
	if !h.context(b).IsAuthenticated {
		t.Fatal("not authenticated")
	}
	clock.Advance(time.Hour + 30*time.Second) // inside the 60 s skew
	if !h.context(b).IsAuthenticated {
		t.Fatal("not authenticated within the clock skew")
	}
	clock.Advance(time.Minute)
	if h.context(b).IsAuthenticated {
		t.Fatal("authenticated with an expired ID token")
	}
}

// TestExpiredTransaction: a callback after the transaction TTL is rejected.
func TestExpiredTransaction(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withClock(clock.Now))
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	clock.Advance(11 * time.Minute)
	h.rejected(b.get(cb.String()), http.StatusBadRequest, logto.ErrInvalidCallback, 0)
}

// randomRole is an incompressible role name.
func randomRole() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
