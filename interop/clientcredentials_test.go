package interop_test

// Machine-to-machine tokens (OAuth 2.0 client credentials) from
// oidc-provider, which Logto's client_credentials grant extends: server.mjs
// registers a client_credentials-only client when M2M_CLIENT_ID is set.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// m2mProvider starts server.mjs with a machine-to-machine client and
// returns it with the client's credentials.
func m2mProvider(t *testing.T) (op *oidcProvider, id, secret string) {
	t.Helper()
	d := requireNode(t)
	id, secret = randomString(21), randomString(32) // Logto's shapes
	// The web client is required by server.mjs; this test never signs in.
	op = startOIDCProvider(t, d, randomString(21), randomString(32), "http://127.0.0.1:1/callback", "http://127.0.0.1:1/",
		"M2M_CLIENT_ID="+id, "M2M_CLIENT_SECRET="+secret)
	return op, id, secret
}

// TestOIDCProviderClientCredentials: an M2M token for the API resource
// (scopes narrowed to what the client may have), verified by a
// ResourceServer and sent by M2M.Client; reused from the cache; 100
// concurrent callers make one token request; a wrong secret and an unknown
// resource are typed errors without the secret.
func TestOIDCProviderClientCredentials(t *testing.T) {
	t.Parallel()
	op, id, secret := m2mProvider(t)
	logs := &syncBuffer{}
	newM2M := func(edit func(*logto.M2MConfig)) *logto.M2M {
		cfg := logto.M2MConfig{
			Endpoint: op.URL, AppID: id, AppSecret: secret,
			Resource: interopResource, Scopes: []string{interopScope, "write:interop"},
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		}
		if edit != nil {
			edit(&cfg)
		}
		m, err := logto.NewM2M(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SDK log:\n%s", logs)
		}
	})

	m := newM2M(nil)
	tok, err := m.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Scopes, []string{interopScope}) || tok.TokenType != "Bearer" ||
		tok.Expiry.Before(time.Now().Add(59*time.Minute)) || tok.Expiry.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("token %v", tok)
	}
	if h := jwtHeader(t, tok.AccessToken); h["typ"] != "at+jwt" || h["alg"] != "ES384" || h["kid"] == nil {
		t.Errorf("access token header = %v, want typ at+jwt, alg ES384 and a kid", h)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := rs.Verify(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("ResourceServer.Verify: %v", err)
	}
	if !slices.Equal(claims.Aud, logto.Audience{interopResource}) || claims.Iss != op.Issuer || claims.Sub != id ||
		claims.ClientID != id || claims.Scope != interopScope || claims.Kind(interopResource) != logto.UserToken {
		t.Errorf("access token claims = %+v", claims)
	}
	if !strings.Contains(logs.String(), "write:interop") {
		t.Errorf("no warning about the scope that was not granted:\n%s", logs)
	}

	// The API gets the cached token through M2M.Client.
	api := httptest.NewServer(rs.Middleware(interopScope)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := logto.AccessTokenFromContext(r.Context())
		fmt.Fprint(w, c.Sub)
	})))
	defer api.Close()
	resp, err := m.Client(nil).Get(api.URL + "/items")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != id {
		t.Errorf("API: %d %s", resp.StatusCode, body)
	}
	if n := op.stats(t).Token["client_credentials"]; n != 1 {
		t.Errorf("%d client_credentials requests after Token and a call, want 1", n)
	}

	// 100 callers of a fresh M2M while the token endpoint is slow.
	op.setTokenDelay(t, 300*time.Millisecond)
	cold := newM2M(nil)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	tokens := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			tok, err := cold.Token(t.Context())
			if err != nil {
				errs <- err
				return
			}
			tokens <- tok.AccessToken
		})
	}
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		t.Fatalf("concurrent caller: %v", err)
	}
	var first string
	for tok := range tokens {
		if first == "" {
			first = tok
		}
		if tok != first {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	op.setTokenDelay(t, 0)
	if n := op.stats(t).Token["client_credentials"]; n != 2 {
		t.Errorf("%d client_credentials requests after 100 concurrent callers, want 2", n)
	}

	for _, tc := range []struct {
		name   string
		edit   func(*logto.M2MConfig)
		status int
		code   string
	}{
		{"wrong secret", func(c *logto.M2MConfig) { c.AppSecret = "wrong-" + secret }, http.StatusUnauthorized, "invalid_client"},
		{"unknown resource", func(c *logto.M2MConfig) { c.Resource = "https://unknown.interop.test" }, http.StatusBadRequest, "invalid_target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newM2M(tc.edit).Token(t.Context())
			var pe *logto.ProviderError
			if !errors.As(err, &pe) || pe.Stage != "token" || pe.StatusCode != tc.status || pe.Code != tc.code || !errors.Is(err, logto.ErrProviderResponse) {
				t.Fatalf("%v, want a token-stage ProviderError %d %s", err, tc.status, tc.code)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("the secret leaked: %v", err)
			}
		})
	}
	if s := op.stats(t); s.TokenErrors["client_credentials invalid_client"] != 1 || s.TokenErrors["client_credentials invalid_target"] != 1 {
		t.Errorf("token errors seen by the provider: %v", s.TokenErrors)
	}
}
