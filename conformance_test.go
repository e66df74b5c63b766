package logto_test

// Cases from ../shared/reference/conformance.md that the foundation must pass.
// Each rejection checks the status, the typed error, that no session cookie
// is written (I1), that the provider is not called after the failure (I3) and
// that nothing secret leaks (I4).

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// rejected asserts the common invariants of a rejected callback.
func (h *harness) rejected(r *response, status int, sentinel error, tokenCallsBefore int) {
	h.t.Helper()
	if r.StatusCode != status {
		h.t.Fatalf("status = %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	if err := h.lastError(); !errors.Is(err, sentinel) {
		h.t.Fatalf("error = %v, want %v", err, sentinel)
	}
	if h.sessionCookieWritten(r) {
		h.t.Fatal("a session cookie was written on a rejected callback")
	}
	if r.Header.Get("Location") != "" {
		h.t.Fatalf("rejection redirects to %q", r.Header.Get("Location"))
	}
	if got := h.tokenCalls(); got != tokenCallsBefore {
		h.t.Fatalf("token calls = %d, want %d", got, tokenCallsBefore)
	}
	h.assertNoLeak(r)
}

func reasonOf(err error) logto.Reason {
	var ce *logto.CallbackError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	var pe *logto.ProviderError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ""
}

func withQuery(u *url.URL, edit func(url.Values)) string {
	c := *u
	q := c.Query()
	edit(q)
	c.RawQuery = q.Encode()
	return c.String()
}

func TestCB01StateMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	r := b.get(withQuery(cb, func(q url.Values) { q.Del("state") }))
	h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 0)
	if got := reasonOf(h.lastError()); got != logto.ReasonStateMissing {
		t.Fatalf("reason = %q", got)
	}
}

func TestCB02StateAltered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	r := b.get(withQuery(cb, func(q url.Values) {
		s := []byte(q.Get("state"))
		s[5] ^= 1
		q.Set("state", string(s))
	}))
	h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 0)
	if got := reasonOf(h.lastError()); got != logto.ReasonStateMismatch {
		t.Fatalf("reason = %q", got)
	}
}

func TestDuplicateCallbackParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	r := b.get(cb.String() + "&code=attacker")
	h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 0)
	// The transaction was consumed: the clean URL no longer works either.
	h.rejected(b.get(cb.String()), http.StatusBadRequest, logto.ErrInvalidCallback, 0)
}

// TestCB03LoginCSRF: an attacker's callback URL delivered to a victim.
func TestCB03LoginCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attacker, victim := h.browser(), h.browser()
	attackerCB := h.authorize(attacker, h.startSignIn(attacker, ""))
	victimAuth := h.startSignIn(victim, "/mine")

	r := victim.get(attackerCB.String())
	h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 0)
	if h.context(victim).IsAuthenticated {
		t.Fatal("victim signed in as the attacker")
	}
	// The victim's own transaction is untouched.
	if r := victim.get(h.authorize(victim, victimAuth).String()); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/mine" {
		t.Fatalf("victim's own sign-in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestCB04Replay: the same callback URL a second time.
func TestCB04Replay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %d %s", r.StatusCode, r.body)
	}
	before := h.context(b)
	r := b.get(cb.String())
	h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 1)
	if after := h.context(b); !after.IsAuthenticated || after.Claims["sub"] != before.Claims["sub"] {
		t.Fatalf("session changed by the replay: %+v", after)
	}
}

// TestCB07ErrorResponse: Logto reports an error with a valid state.
func TestCB07ErrorResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const desc = `User cancelled <script>alert("x")</script>`
	h.op.SetHooks(logtotest.Hooks{AuthResponse: func(q url.Values) {
		q.Del("code")
		q.Set("error", "access_denied")
		q.Set("error_description", desc)
	}})
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	r := b.get(cb.String())
	h.rejected(r, http.StatusUnauthorized, logto.ErrAuthorization, 0)
	var ae *logto.AuthorizationError
	if !errors.As(h.lastError(), &ae) || ae.Code != "access_denied" || ae.Description != desc {
		t.Fatalf("error = %#v", h.lastError())
	}
	if strings.Contains(r.body, "<script>") || !strings.Contains(r.body, html.EscapeString("<script>")) {
		t.Fatalf("description not escaped in body: %s", r.body)
	}
	// Consumed: the same URL is now an unknown transaction.
	h.rejected(b.get(cb.String()), http.StatusBadRequest, logto.ErrInvalidCallback, 0)
}

// TestCB10IssuerMixUp: RFC 9207 iss that is not the issuer.
func TestCB10IssuerMixUp(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(url.Values){
		"attacker": func(q url.Values) { q.Set("iss", "https://attacker.example") },
		"missing":  func(q url.Values) { q.Del("iss") },
		"suffix":   func(q url.Values) { q.Set("iss", q.Get("iss")+"/") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.op.SetHooks(logtotest.Hooks{AuthResponse: edit})
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 0)
			if got := reasonOf(h.lastError()); got != logto.ReasonIssuerMismatch && got != logto.ReasonIssuerMissing {
				t.Fatalf("reason = %q", got)
			}
		})
	}
}

// TestIDTokenRejections covers rp-nonce-invalid, rp-id_token-issuer-mismatch,
// rp-id_token-aud (invalid and missing) and more claim defects: 502, no session,
// no further provider call.
func TestIDTokenRejections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		edit   func(map[string]any)
		reason logto.Reason
	}{
		{"rp-nonce-invalid", func(c map[string]any) { c["nonce"] = "012345678" }, logto.ReasonNonce},
		{"nonce-missing", func(c map[string]any) { delete(c, "nonce") }, logto.ReasonNonce},
		{"rp-id_token-issuer-mismatch", func(c map[string]any) { c["iss"] = "https://example.org/" }, logto.ReasonIssuer},
		{"rp-id_token-aud-invalid", func(c map[string]any) { c["aud"] = "https://example.com/" }, logto.ReasonAudience},
		{"rp-id_token-aud-missing", func(c map[string]any) { delete(c, "aud") }, logto.ReasonAudience},
		{"aud-extra-untrusted", func(c map[string]any) { c["aud"] = []any{c["aud"], "other"}; c["azp"] = c["aud"].([]any)[0] }, logto.ReasonAudience},
		{"azp-wrong", func(c map[string]any) { c["azp"] = "other" }, logto.ReasonAuthorizedParty},
		{"rp-id_token-sub", func(c map[string]any) { delete(c, "sub") }, logto.ReasonSubject},
		{"rp-id_token-iat", func(c map[string]any) { delete(c, "iat") }, logto.ReasonIssuedAt},
		{"iat-future", func(c map[string]any) { c["iat"] = num(c["iat"]) + 3600 }, logto.ReasonIssuedAt},
		{"expired", func(c map[string]any) { c["exp"] = num(c["iat"]) - 120 }, logto.ReasonExpired},
		{"exp-string", func(c map[string]any) { c["exp"] = "tomorrow" }, logto.ReasonInvalidJSON},
		{"email_verified-string", func(c map[string]any) { c["email_verified"] = "yes" }, logto.ReasonInvalidJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.op.SetHooks(logtotest.Hooks{IDTokenClaims: tc.edit})
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			h.rejected(r, http.StatusBadGateway, logto.ErrProviderResponse, 1)
			if got := reasonOf(h.lastError()); got != tc.reason {
				t.Fatalf("reason = %q, want %q (err %v)", got, tc.reason, h.lastError())
			}
			if n := h.op.CountRequests("/oidc/me"); n != 0 {
				t.Fatalf("userinfo called %d times after a bad ID token", n)
			}
			if h.context(b).IsAuthenticated {
				t.Fatal("authenticated with a bad ID token")
			}
		})
	}
}

func TestIDTokenSignatureRejections(t *testing.T) {
	t.Parallel()
	for name, hooks := range map[string]logtotest.Hooks{
		"alg-none":    {IDTokenHeader: func(h map[string]any) { h["alg"] = "none" }},
		"alg-HS256":   {IDTokenHeader: func(h map[string]any) { h["alg"] = "HS256" }},
		"unknown-kid": {IDTokenHeader: func(h map[string]any) { h["kid"] = "attacker-kid" }},
		"embedded-jwk": {IDTokenHeader: func(h map[string]any) {
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA"}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.op.SetHooks(hooks)
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			h.rejected(r, http.StatusBadGateway, logto.ErrProviderResponse, 1)
			if got := reasonOf(h.lastError()); got != logto.ReasonSignature {
				t.Fatalf("reason = %q (err %v)", got, h.lastError())
			}
		})
	}
}

// TestTokenEndpointFailures: the code exchange fails in different ways.
func TestTokenEndpointFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		hooks  logtotest.Hooks
		status int
		reason logto.Reason
	}{
		{"invalid_grant", logtotest.Hooks{TokenResponse: func(s *int, b map[string]any) {
			*s = 400
			clear(b)
			b["error"], b["error_description"] = "invalid_grant", "grant request is invalid"
		}}, http.StatusBadGateway, logto.ReasonOAuthError},
		{"missing id_token", logtotest.Hooks{TokenResponse: func(_ *int, b map[string]any) { delete(b, "id_token") }}, http.StatusBadGateway, logto.ReasonMissingIDToken},
		{"token_type mac", logtotest.Hooks{TokenResponse: func(_ *int, b map[string]any) { b["token_type"] = "mac" }}, http.StatusBadGateway, logto.ReasonTokenType},
		{"html 500", logtotest.Hooks{RawTokenResponse: func(w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<html>CANARY-upstream-body</html>"))
			return true
		}}, http.StatusBadGateway, logto.ReasonHTTPStatus},
		{"truncated json", logtotest.Hooks{RawTokenResponse: func(w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"abc","token_ty`))
			return true
		}}, http.StatusBadGateway, logto.ReasonInvalidJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.op.SetHooks(tc.hooks)
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			h.rejected(r, tc.status, logto.ErrProviderResponse, 1)
			if got := reasonOf(h.lastError()); got != tc.reason {
				t.Fatalf("reason = %q (err %v)", got, h.lastError())
			}
		})
	}
}

// TestRED01RED02ReturnTo: only same-origin relative paths survive.
func TestRED01RED02ReturnTo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for returnTo, want := range map[string]string{
		"https://evil.example/x": "/",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"/%0d%0aSet-Cookie:x=y":  "/%0d%0aSet-Cookie:x=y",
		"/ok\r\nLocation: x":     "/",
		"javascript:alert(1)":    "/",
		"/dashboard?tab=1#frag":  "/dashboard?tab=1#frag",
		"":                       "/",
		"relative":               "/",
	} {
		b := h.browser()
		r := h.signIn(b, returnTo)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("returnTo %q: status %d, Location %q, want %q", returnTo, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
}

// TestLO02SignOutCSRF: GET and cross-site POST never sign out.
func TestLO02SignOutCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")

	get := b.get(h.app.URL + "/sign-out")
	if get.StatusCode != http.StatusMethodNotAllowed || !errors.Is(h.lastError(), logto.ErrMethodNotAllowed) {
		t.Fatalf("GET /sign-out: %d, err %v", get.StatusCode, h.lastError())
	}
	cross := b.post(h.app.URL+"/sign-out", "https://evil.example")
	if cross.StatusCode != http.StatusForbidden || !errors.Is(h.lastError(), logto.ErrCSRF) {
		t.Fatalf("cross-origin POST: %d, err %v", cross.StatusCode, h.lastError())
	}
	req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/sign-out", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	fetchCross := b.do(req)
	if fetchCross.StatusCode != http.StatusForbidden {
		t.Fatalf("Sec-Fetch-Site cross-site: %d", fetchCross.StatusCode)
	}
	for _, r := range []*response{get, cross, fetchCross} {
		if len(r.Header.Values("Set-Cookie")) != 0 || r.Header.Get("Location") != "" {
			t.Fatalf("rejected sign-out touched cookies or redirected: %v", r.Header)
		}
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("signed out by a CSRF request")
	}
	if n := h.op.CountRequests("/oidc/token/revocation"); n != 0 {
		t.Fatalf("revocation called %d times", n)
	}
}

// num reads a numeric claim whatever Go type the provider used.
func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	panic(fmt.Sprintf("not a number: %T", v))
}
