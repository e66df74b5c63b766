package logto_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/logtotest"
)

// logoutToken mints a logout token with the provider's key.
func (h *harness) logoutToken(t *testing.T, editHeader, editClaims func(map[string]any)) string {
	t.Helper()
	now := time.Now().Unix()
	hdr := map[string]any{"typ": "logout+jwt"}
	claims := map[string]any{
		"iss": h.op.Issuer(), "aud": h.appID, "iat": now, "exp": now + 120, "jti": randomJTI(),
		"sub":    logtotest.DefaultUserID,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if editHeader != nil {
		editHeader(hdr)
	}
	if editClaims != nil {
		editClaims(claims)
	}
	tok, err := h.op.Sign(hdr, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var jtiCounter = make(chan int, 1)

func init() { jtiCounter <- 0 }

func randomJTI() string {
	n := <-jtiCounter
	jtiCounter <- n + 1
	return "jti-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+n%26)) + strings.Repeat("x", n%7)
}

func (h *harness) postLogout(t *testing.T, token string) *response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/backchannel-logout", strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return (&browser{t: t, c: http.DefaultClient}).do(req)
}

// TestBCL01ValidLogoutToken: 200, no-store, and the session is over.
func TestBCL01ValidLogoutToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b, other := h.browser(), h.browser()
	h.signIn(b, "")
	r := h.postLogout(t, h.logoutToken(t, nil, nil))
	if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("logout: %d %q %s", r.StatusCode, r.Header.Get("Cache-Control"), r.body)
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("session survived the back-channel logout")
	}
	// A new sign-in afterwards is a new session.
	h.signIn(other, "")
	if !h.context(other).IsAuthenticated {
		t.Fatal("sign-in after the logout not authenticated")
	}
}

// TestBCLBySid: with sid, only that session ends.
func TestBCLBySid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.op.SetHooks(logtotest.Hooks{IDTokenClaims: func(c map[string]any) { c["sid"] = "sid-1" }})
	b := h.browser()
	h.signIn(b, "")
	if r := h.postLogout(t, h.logoutToken(t, nil, func(c map[string]any) { c["sid"] = "sid-other"; delete(c, "sub") })); r.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("another sid ended this session")
	}
	if r := h.postLogout(t, h.logoutToken(t, nil, func(c map[string]any) { c["sid"] = "sid-1" })); r.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("session with the logged-out sid survived")
	}
}

// TestBCL02DefectiveLogoutTokens: each defect gives 400 and keeps the session.
func TestBCL02DefectiveLogoutTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	replayed := h.logoutToken(t, nil, func(c map[string]any) { c["sub"] = "someone-else" })
	if r := h.postLogout(t, replayed); r.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d", r.StatusCode)
	}
	unsigned := func(tok string) string {
		parts := strings.Split(tok, ".")
		hdr, _ := json.Marshal(map[string]any{"alg": "none", "typ": "logout+jwt"})
		return base64.RawURLEncoding.EncodeToString(hdr) + "." + parts[1] + "."
	}
	for name, tok := range map[string]string{
		"alg-none":  unsigned(h.logoutToken(t, nil, nil)),
		"wrong-alg": h.logoutToken(t, func(hd map[string]any) { hd["alg"] = "RS256" }, nil),
		"wrong-iss": h.logoutToken(t, nil, func(c map[string]any) { c["iss"] = "https://evil.example/oidc" }),
		"wrong-aud": h.logoutToken(t, nil, func(c map[string]any) { c["aud"] = "another-app" }),
		"no-event":  h.logoutToken(t, nil, func(c map[string]any) { delete(c, "events") }),
		"wrong-event": h.logoutToken(t, nil, func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		}),
		"event-not-object": h.logoutToken(t, nil, func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": "yes"}
		}),
		"with-nonce": h.logoutToken(t, nil, func(c map[string]any) { c["nonce"] = "n" }),
		"no-jti":     h.logoutToken(t, nil, func(c map[string]any) { delete(c, "jti") }),
		"no-sub-sid": h.logoutToken(t, nil, func(c map[string]any) { delete(c, "sub") }),
		"typ-JWT":    h.logoutToken(t, func(hd map[string]any) { hd["typ"] = "JWT" }, nil),
		"old-iat":    h.logoutToken(t, nil, func(c map[string]any) { c["iat"] = time.Now().Add(-time.Hour).Unix() }),
		"expired":    h.logoutToken(t, nil, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"replayed":   replayed,
		"garbage":    "a.b.c",
	} {
		if r := h.postLogout(t, tok); r.StatusCode != http.StatusBadRequest || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d", name, r.StatusCode)
		}
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("a defective logout token ended the session")
	}
	get := b.get(h.app.URL + "/backchannel-logout")
	if get.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", get.StatusCode)
	}
}
