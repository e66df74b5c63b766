package logto_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

type apiFixture struct {
	op    *logtotest.Server
	rs    *logto.ResourceServer
	api   http.Handler
	clock *fakeClock
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	clock := newFakeClock()
	op := logtotest.NewServer(t, logtotest.WithClock(clock.Now))
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL(), Audience: apiResource, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	api := rs.Middleware("read:items")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := logto.AccessTokenFromContext(r.Context())
		_, _ = io.WriteString(w, "hello "+c.Sub)
	}))
	return &apiFixture{op: op, rs: rs, api: api, clock: clock}
}

func (f *apiFixture) token(t *testing.T, editHeader func(map[string]any), editClaims func(map[string]any)) string {
	t.Helper()
	now := f.clock.Now().Unix()
	hdr := map[string]any{"typ": "at+jwt"}
	claims := map[string]any{
		"jti": "j1", "sub": "user1", "iat": now, "exp": now + 3600, "scope": "read:items write:items",
		"client_id": "app", "iss": f.op.Issuer(), "aud": apiResource,
	}
	if editHeader != nil {
		editHeader(hdr)
	}
	if editClaims != nil {
		editClaims(claims)
	}
	tok, err := f.op.Sign(hdr, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *apiFixture) call(token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/items", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	return w
}

func TestResourceServer(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	if w := f.call(f.token(t, nil, nil)); w.Code != http.StatusOK || w.Body.String() != "hello user1" {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	unsigned := func(tok string) string {
		parts := strings.Split(tok, ".")
		hdr, _ := json.Marshal(map[string]any{"alg": "none", "typ": "at+jwt"})
		return base64.RawURLEncoding.EncodeToString(hdr) + "." + parts[1] + "."
	}
	for _, tc := range []struct {
		name   string
		token  string
		status int
		reason logto.Reason
	}{
		{"missing", "", http.StatusUnauthorized, logto.ReasonMissingToken},
		{"wrong audience", f.token(t, nil, func(c map[string]any) { c["aud"] = "https://other.example.com" }), http.StatusUnauthorized, logto.ReasonAudience},
		{"organization token", f.token(t, nil, func(c map[string]any) { c["aud"] = logto.OrganizationURN("org1") }), http.StatusUnauthorized, logto.ReasonTokenKind},
		{"organization-scoped resource token", f.token(t, nil, func(c map[string]any) { c["organization_id"] = "org1" }), http.StatusForbidden, logto.ReasonTokenKind},
		{"missing scope", f.token(t, nil, func(c map[string]any) { c["scope"] = "write:items" }), http.StatusForbidden, logto.ReasonScope},
		{"no scope claim", f.token(t, nil, func(c map[string]any) { delete(c, "scope") }), http.StatusForbidden, logto.ReasonScope},
		{"expired", f.token(t, nil, func(c map[string]any) { c["exp"] = f.clock.Now().Add(-2 * time.Minute).Unix() }), http.StatusUnauthorized, logto.ReasonExpired},
		{"other issuer", f.token(t, nil, func(c map[string]any) { c["iss"] = "https://evil.example/oidc" }), http.StatusUnauthorized, logto.ReasonIssuer},
		{"alg none", unsigned(f.token(t, nil, nil)), http.StatusUnauthorized, logto.ReasonSignature},
		{"alg RS256 header lie", f.token(t, func(h map[string]any) { h["alg"] = "RS256" }, nil), http.StatusUnauthorized, logto.ReasonSignature},
		{"ID token instead of access token", f.token(t, func(h map[string]any) { h["typ"] = "JWT" }, nil), http.StatusUnauthorized, logto.ReasonTokenType},
		{"unknown kid", f.token(t, func(h map[string]any) { h["kid"] = "nope" }, nil), http.StatusUnauthorized, logto.ReasonSignature},
		{"future iat", f.token(t, nil, func(c map[string]any) { c["iat"] = f.clock.Now().Add(time.Hour).Unix() }), http.StatusUnauthorized, logto.ReasonIssuedAt},
		{"garbage", "not.a.jwt", http.StatusUnauthorized, logto.ReasonSignature},
		{"JSON serialization of a valid token", func() string {
			p := strings.Split(f.token(t, nil, nil), ".")
			b, _ := json.Marshal(map[string]string{"protected": p[0], "payload": p[1], "signature": p[2]})
			return string(b)
		}(), http.StatusUnauthorized, logto.ReasonSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.call(tc.token)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			chal := w.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(chal, `Bearer realm="`+apiResource+`"`) {
				t.Fatalf("WWW-Authenticate = %q", chal)
			}
			switch {
			case tc.status == http.StatusForbidden && !strings.Contains(chal, `error="insufficient_scope"`):
				t.Fatalf("WWW-Authenticate = %q", chal)
			case tc.reason == logto.ReasonMissingToken && strings.Contains(chal, "error="):
				t.Fatalf("no-credentials challenge carries an error: %q", chal)
			case tc.status == http.StatusUnauthorized && tc.reason != logto.ReasonMissingToken && !strings.Contains(chal, `error="invalid_token"`):
				t.Fatalf("WWW-Authenticate = %q", chal)
			}
			if tc.token != "" && strings.Contains(w.Body.String()+chal, tc.token) {
				t.Fatal("token echoed")
			}
			_, err := f.rs.Verify(t.Context(), tc.token)
			var te *logto.TokenError
			if tc.reason != logto.ReasonScope && (!errors.As(err, &te) || te.Reason != tc.reason) {
				t.Fatalf("Verify: %v, want reason %q", err, tc.reason)
			}
		})
	}
}

// TestResourceServerWithRealTokens: a token obtained through the SDK's
// refresh flow passes the API middleware.
func TestResourceServerWithRealTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI())
	b := h.browser()
	h.signIn(b, "")
	tok := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: h.op.URL(), Audience: apiResource})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := rs.Verify(t.Context(), tok)
	if err != nil || claims.Sub != logtotest.DefaultUserID || !claims.HasScopes("read:items") {
		t.Fatalf("Verify: %+v, %v", claims, err)
	}
	other, _ := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: h.op.URL(), Audience: "https://other.example.com"})
	if _, err := other.Verify(t.Context(), tok); !errors.Is(err, logto.ErrInvalidToken) {
		t.Fatalf("other API accepted the token: %v", err)
	}
}

func TestResourceServerJWKSUnavailable(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	tok := f.token(t, nil, nil)
	f.op.SetHooks(logtotest.Hooks{Discovery: func(doc map[string]any) { doc["jwks_uri"] = "http://127.0.0.1:1/jwks" }})
	rs, _ := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: f.op.URL(), Audience: apiResource})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rs.Middleware()(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", w.Code)
	}
}

func TestNewResourceServerValidates(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]logto.ResourceServerConfig{
		"Endpoint": {Audience: apiResource},
		"Audience": {Endpoint: "https://x.logto.app"},
		"http":     {Endpoint: "http://logto.example.com", Audience: apiResource},
	} {
		var ce *logto.ConfigError
		if _, err := logto.NewResourceServer(cfg); !errors.As(err, &ce) || (name != "http" && ce.Field != name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
