package logto_test

// More cases of ../shared/reference/conformance.md: the authorization
// request, client authentication, code injection, signature algorithms and
// keys, and session keys.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestREQ01AuthorizationRequest: the request and its transaction cookie.
func TestREQ01AuthorizationRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *logto.Config) { c.CookieSecure = true }))
	b := h.browser()
	r := b.get(h.app.URL + "/sign-in")
	auth := location(t, r)
	q := auth.Query()
	if q.Get("response_type") != "code" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") || q.Get("redirect_uri") != h.app.URL+"/callback" {
		t.Fatalf("authorization request %s", auth)
	}
	if st, _ := base64.RawURLEncoding.DecodeString(q.Get("state")); len(st) < 16 {
		t.Fatalf("state has %d bytes, want at least 16 (128 bits)", len(st))
	}
	if q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Fatalf("nonce/PKCE missing: %s", auth)
	}
	for _, s := range []string{"CANARY", "verifier", "secret"} {
		if strings.Contains(auth.String(), s) {
			t.Fatalf("authorization URL contains %q", s)
		}
	}
	var tx *http.Cookie
	for name, ck := range setCookies(r) {
		if strings.HasPrefix(name, "__Host-logto_"+h.appID+"_tx_") { // Secure: __Host- prefix
			tx = ck
		}
	}
	if tx == nil || !tx.HttpOnly || !tx.Secure || tx.SameSite != http.SameSiteLaxMode || tx.MaxAge <= 0 || tx.MaxAge > 600 {
		t.Fatalf("transaction cookie = %+v", tx)
	}
	if strings.Contains(tx.Value, q.Get("state")) || strings.Contains(tx.Value, q.Get("nonce")) {
		t.Fatal("transaction cookie is not sealed")
	}
}

// TestTOK04ClientSecretBasic: a secret with reserved characters is
// form-encoded before base64 (RFC 6749 2.3.1) and never sent elsewhere.
func TestTOK04ClientSecretBasic(t *testing.T) {
	t.Parallel()
	const secret = "s3:cr%t+ /CANARY&="
	h := newHarness(t, withConfig(func(c *logto.Config) { c.AppSecret = secret }))
	h.op.AddApp(logtotest.App{ID: h.appID, Secret: secret, RedirectURIs: []string{h.app.URL + "/callback"}, PostLogoutRedirectURIs: []string{h.app.URL + "/"}})
	b := h.browser()
	if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
	}
	tok := lastRequest(h.op.Requests(), "/oidc/token")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(h.appID)+":"+url.QueryEscape(secret)))
	if got := tok.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization = %q, want %q", got, want)
	}
	if tok.Form.Has("client_secret") || tok.Query.Has("client_secret") || strings.Contains(h.logs.String(), "CANARY") {
		t.Fatal("client secret sent in the body or query, or logged")
	}
	if code := tok.Form.Get("code_verifier"); len(code) != 43 {
		t.Fatalf("code_verifier = %q", code)
	}
}

// TestTOK02CodeInjection: an attacker's code (bound to the attacker's PKCE
// challenge) in the victim's callback with the victim's state.
func TestTOK02CodeInjection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attacker, victim := h.browser(), h.browser()
	attackerCode := h.authorize(attacker, h.startSignIn(attacker, "")).Query().Get("code")
	cb := h.authorize(victim, h.startSignIn(victim, ""))
	r := victim.get(withQuery(cb, func(q url.Values) { q.Set("code", attackerCode) }))
	h.rejected(r, http.StatusBadGateway, logto.ErrProviderResponse, 1)
	var pe *logto.ProviderError
	if !errorsAs(h.lastError(), &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("err = %v", h.lastError())
	}
	if h.context(victim).IsAuthenticated {
		t.Fatal("victim signed in with the attacker's code")
	}
}

// idTokenFor mints an ID token for the harness's last authorization request.
func (h *harness) idTokenClaims() map[string]any {
	auth := lastRequest(h.op.Requests(), "/oidc/auth")
	now := time.Now().Unix()
	return map[string]any{
		"iss": h.op.Issuer(), "aud": h.appID, "sub": logtotest.DefaultUserID, "iat": now, "exp": now + 3600,
		"nonce": auth.Query.Get("nonce"),
	}
}

// serveTokens answers the code exchange with idToken.
func serveTokens(idToken string) func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "opaque-access-token-0123456789012345678901", "token_type": "Bearer", "expires_in": 3600,
			"id_token": idToken, "scope": "openid profile",
		})
		return true
	}
}

// TestIDTokenSignatureAlgorithms covers rp-id_token-sig-rs256 (accepted when
// discovery lists RS256), the allowlist intersection (refused when it does
// not), rp-id_token-bad-sig and rp-id_token-kid-absent-single-jwks.
func TestIDTokenSignatureAlgorithms(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK := func() map[string]any {
		b, _ := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"})
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	signRS256 := func(claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, (&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(claims)
		obj, _ := s.Sign(payload)
		out, _ := obj.CompactSerialize()
		return out
	}
	for _, tc := range []struct {
		name   string
		setup  func(h *harness) logtotest.Hooks
		status int
	}{
		{"rs256 accepted when discovered", func(h *harness) logtotest.Hooks {
			return logtotest.Hooks{
				Discovery: func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"ES384", "RS256"} },
				JWKS:      func(k []map[string]any) []map[string]any { return append(k, rsaJWK()) },
				RawTokenResponse: func(w http.ResponseWriter) bool {
					return serveTokens(signRS256(h.idTokenClaims()))(w)
				},
			}
		}, http.StatusSeeOther},
		{"rs256 refused when discovery lists only ES384", func(h *harness) logtotest.Hooks {
			return logtotest.Hooks{
				JWKS: func(k []map[string]any) []map[string]any { return append(k, rsaJWK()) },
				RawTokenResponse: func(w http.ResponseWriter) bool {
					return serveTokens(signRS256(h.idTokenClaims()))(w)
				},
			}
		}, http.StatusBadGateway},
		{"bad signature", func(h *harness) logtotest.Hooks {
			return logtotest.Hooks{RawTokenResponse: func(w http.ResponseWriter) bool {
				tok, _ := h.op.Sign(nil, h.idTokenClaims())
				parts := strings.Split(tok, ".")
				sig := []byte(parts[2])
				sort.Slice(sig, func(i, j int) bool { return sig[i] < sig[j] })
				return serveTokens(parts[0] + "." + parts[1] + "." + string(sig))(w)
			}}
		}, http.StatusBadGateway},
		{"kid absent, single key without kid", func(h *harness) logtotest.Hooks {
			return logtotest.Hooks{
				JWKS: func(k []map[string]any) []map[string]any {
					delete(k[0], "kid")
					return k[:1]
				},
				IDTokenHeader: func(hd map[string]any) { delete(hd, "kid") },
			}
		}, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.op.SetHooks(tc.setup(h))
			b := h.browser()
			r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (err %v)", r.StatusCode, tc.status, h.lastError())
			}
			if tc.status != http.StatusSeeOther {
				h.rejected(r, tc.status, logto.ErrProviderResponse, 1)
				if reasonOf(h.lastError()) != logto.ReasonSignature {
					t.Fatalf("reason = %q", reasonOf(h.lastError()))
				}
			}
		})
	}
}

// TestKEY04UnknownKidsRateLimited: 50 concurrent callbacks whose ID tokens
// name 50 unknown kids: all 502, at most one JWKS fetch.
func TestKEY04UnknownKidsRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 50
	type flow struct {
		b  *browser
		cb *url.URL
	}
	flows := make([]flow, n)
	for i := range flows {
		b := h.browser()
		flows[i] = flow{b, h.authorize(b, h.startSignIn(b, ""))}
	}
	var mu sync.Mutex
	next := 0
	h.op.SetHooks(logtotest.Hooks{IDTokenHeader: func(hd map[string]any) {
		mu.Lock()
		next++
		hd["kid"] = fmt.Sprintf("unknown-kid-%d", next)
		mu.Unlock()
	}})
	jwksBefore := h.op.CountRequests("/oidc/jwks")
	var wg sync.WaitGroup
	for _, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := f.b.get(f.cb.String()); r.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	if got := h.op.CountRequests("/oidc/jwks") - jwksBefore; got > 1 {
		t.Fatalf("JWKS fetches = %d, want at most 1", got)
	}
}

// TestSES03RemovedKey: a cookie sealed with a secret since removed is
// anonymous; with the old secret in PreviousCookieSecrets it still opens.
func TestSES03RemovedKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	cookies := h.sessionCookies(b)
	newClient := func(previous ...string) *logto.Client {
		c, err := logto.New(logto.Config{
			AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: h.op.URL(), BaseURL: h.app.URL,
			CookieSecret: "rotated-secret-0123456789abcdefghijkl", PreviousCookieSecrets: previous,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	req := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	if lc, _ := newClient().GetContext(httptest.NewRecorder(), req); lc.IsAuthenticated {
		t.Fatal("cookie sealed with a removed secret accepted")
	}
	if lc, _ := newClient(canaryCookieSecret).GetContext(nil, req); !lc.IsAuthenticated {
		t.Fatal("rotation: cookie sealed with the previous secret refused")
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
