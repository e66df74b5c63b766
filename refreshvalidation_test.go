package logto_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestRefreshedIDTokenRules: a refreshed ID token that breaks OpenID Connect
// Core 12.2 (or any ID token rule) has one outcome, whatever the rule: the
// session ends (cookies cleared, 401, ErrNotAuthenticated with the precise
// reason), and no token from that response is returned or stored. The
// control case shows the same refresh succeeds untouched.
func TestRefreshedIDTokenRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		claims func(map[string]any)
		header func(map[string]any)
		reason logto.Reason // "" = accepted
	}{
		{name: "control", reason: ""},
		{name: "nonce repeated", claims: func(c map[string]any) {}, reason: ""},
		{name: "nonce absent", claims: func(c map[string]any) { delete(c, "nonce") }, reason: ""},
		{name: "sub", claims: func(c map[string]any) { c["sub"] = "someone-else" }, reason: logto.ReasonIdentityChange},
		{name: "iss", claims: func(c map[string]any) { c["iss"] = "https://evil.example/oidc" }, reason: logto.ReasonIssuer},
		{name: "aud other", claims: func(c map[string]any) { c["aud"] = "other-app" }, reason: logto.ReasonAudience},
		{name: "aud extra", claims: func(c map[string]any) { c["aud"] = []any{c["aud"], "other"}; c["azp"] = c["aud"].([]any)[0] }, reason: logto.ReasonAudience},
		{name: "azp gained", claims: func(c map[string]any) { c["azp"] = c["aud"] }, reason: logto.ReasonIdentityChange},
		{name: "azp other", claims: func(c map[string]any) { c["azp"] = "other-app" }, reason: logto.ReasonAuthorizedParty},
		{name: "auth_time gained", claims: func(c map[string]any) { c["auth_time"] = num(c["iat"]) }, reason: logto.ReasonIdentityChange},
		{name: "nonce other", claims: func(c map[string]any) { c["nonce"] = "another-nonce" }, reason: logto.ReasonNonce},
		{name: "expired", claims: func(c map[string]any) { c["exp"] = num(c["iat"]) - 120 }, reason: logto.ReasonExpired},
		{name: "exp missing", claims: func(c map[string]any) { delete(c, "exp") }, reason: logto.ReasonExpired},
		{name: "iat future", claims: func(c map[string]any) { c["iat"] = num(c["iat"]) + 3600 }, reason: logto.ReasonIssuedAt},
		{name: "nbf future", claims: func(c map[string]any) { c["nbf"] = num(c["iat"]) + 3600 }, reason: logto.ReasonNotBefore},
		{name: "sub missing", claims: func(c map[string]any) { delete(c, "sub") }, reason: logto.ReasonSubject},
		{name: "bad signature (unknown kid)", header: func(h map[string]any) { h["kid"] = "not-a-published-kid" }, reason: logto.ReasonSignature},
		{name: "typ at+jwt", header: func(h map[string]any) { h["typ"] = "at+jwt" }, reason: logto.ReasonTokenType},
		{name: "at_hash mismatch", claims: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, reason: logto.ReasonAccessTokenHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withAPI(), withProvider(logtotest.WithAccessTokenHash()))
			b := h.browser()
			h.signIn(b, "")
			var mu sync.Mutex
			var issued []string // access and refresh tokens of the refresh response
			h.op.SetHooks(logtotest.Hooks{
				IDTokenClaims: tc.claims,
				IDTokenHeader: tc.header,
				TokenResponseFor: func(grant string, _ *int, body map[string]any) {
					mu.Lock()
					defer mu.Unlock()
					for _, k := range []string{"access_token", "refresh_token"} {
						if s, ok := body[k].(string); ok {
							issued = append(issued, s)
						}
					}
				},
			})
			r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
			if n := len(h.refreshRequests()); n != 1 {
				t.Fatalf("refresh requests = %d, want 1", n)
			}
			if tc.reason == "" {
				if r.StatusCode != http.StatusOK || !h.context(b).IsAuthenticated {
					t.Fatalf("control: status %d %s", r.StatusCode, r.body)
				}
				return
			}
			err := h.lastError()
			if r.StatusCode != http.StatusUnauthorized || !errors.Is(err, logto.ErrNotAuthenticated) || reasonOf(err) != tc.reason {
				t.Fatalf("status %d, err %v; want 401, ErrNotAuthenticated, reason %q", r.StatusCode, err, tc.reason)
			}
			if h.sessionCookieWritten(r) {
				t.Fatal("a session was written from a response that broke the rules")
			}
			cleared := false
			for name, ck := range setCookies(r) {
				if name == "logto_"+h.appID && ck.MaxAge < 0 {
					cleared = true
				}
			}
			if !cleared {
				t.Fatal("session cookie not cleared")
			}
			mu.Lock()
			for _, tok := range issued {
				if strings.Contains(r.body, tok) {
					t.Fatal("a token from the refused response was returned")
				}
				h.assertNoLeak(r, tok)
			}
			mu.Unlock()
			if h.context(b).IsAuthenticated {
				t.Fatal("session kept after a bad refreshed ID token")
			}
		})
	}
}

// TestAccessTokenHash: an ID token carrying at_hash is checked against the
// access token that came with it: a match signs in, a mismatch is 502
// ReasonAccessTokenHash with no session (the refresh side is in
// TestRefreshedIDTokenRules).
func TestAccessTokenHash(t *testing.T) {
	t.Parallel()
	t.Run("match", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withProvider(logtotest.WithAccessTokenHash()))
		var sawHash bool
		h.op.SetHooks(logtotest.Hooks{IDTokenClaims: func(c map[string]any) { _, sawHash = c["at_hash"] }})
		b := h.browser()
		if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d %s", r.StatusCode, r.body)
		}
		if !sawHash || !h.context(b).IsAuthenticated {
			t.Fatalf("at_hash sent %v; want a signed-in session", sawHash)
		}
	})
	for name, edit := range map[string]func(map[string]any){
		"mismatch":  func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		"not a str": func(c map[string]any) { c["at_hash"] = 42 },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withProvider(logtotest.WithAccessTokenHash()))
			h.op.SetHooks(logtotest.Hooks{IDTokenClaims: edit})
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			h.rejected(r, http.StatusBadGateway, logto.ErrProviderResponse, 1)
			if got := reasonOf(h.lastError()); got != logto.ReasonAccessTokenHash && !(name == "not a str" && got == logto.ReasonInvalidJSON) {
				t.Fatalf("reason = %q (err %v)", got, h.lastError())
			}
			if h.context(b).IsAuthenticated {
				t.Fatal("signed in with a mismatching at_hash")
			}
		})
	}
}
