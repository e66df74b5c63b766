package logto

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/internal/jwt"
)

// fuzzProvider is a Client whose discovery is pre-filled with a JWKS served
// locally, and a signer for valid seeds.
func fuzzProvider(f *testing.F) (*Client, func(claims map[string]any, typ string) string) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES384", Use: "sig"}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
	f.Cleanup(srv.Close)
	c, err := New(Config{AppID: "app", AppSecret: "s", Endpoint: "http://127.0.0.1:1", BaseURL: "http://localhost:3000", CookieSecret: strings.Repeat("k", 32)})
	if err != nil {
		f.Fatal(err)
	}
	algs := []string{"ES384"}
	c.disc.cached = &provider{
		issuer: c.cfg.issuer, algorithms: algs,
		verifier: &jwt.Verifier{
			Issuer: c.cfg.issuer, Algorithms: algs, Now: time.Now, Skew: time.Minute,
			Keys: &jwt.KeySet{URL: srv.URL, Client: srv.Client()},
		},
	}
	sign := func(claims map[string]any, typ string) string {
		opts := (&jose.SignerOptions{}).WithHeader("kid", "k1")
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: key}, opts)
		payload, _ := json.Marshal(claims)
		obj, _ := s.Sign(payload)
		out, _ := obj.CompactSerialize()
		return out
	}
	return c, sign
}

// FuzzVerifyIDToken: no input panics the ID token verifier, and no error
// implies the token is the very one the test signed (a mutated signature,
// header or payload, or another encoding of them, is refused).
func FuzzVerifyIDToken(f *testing.F) {
	c, sign := fuzzProvider(f)
	now := time.Now().Unix()
	good := sign(map[string]any{"iss": c.cfg.issuer, "aud": "app", "sub": "u", "iat": now, "exp": now + 3600, "nonce": "n"}, "")
	f.Add(good, "n")
	f.Add(strings.Replace(good, ".", "x.", 1), "n")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", "")
	f.Fuzz(func(t *testing.T, token, nonce string) {
		p, _ := c.provider(context.Background())
		claims, err := c.verifyIDToken(context.Background(), p, token, idTokenCheck{nonce: nonce})
		if err == nil && token != good {
			t.Fatalf("a token the test did not sign verified: %q (sub %q)", token, claims.Sub)
		}
	})
}

// FuzzLogoutToken: no input panics the logout token verifier, and no error
// implies the token is the very one the test signed.
func FuzzLogoutToken(f *testing.F) {
	c, sign := fuzzProvider(f)
	now := time.Now().Unix()
	good := sign(map[string]any{
		"iss": c.cfg.issuer, "aud": "app", "sub": "u", "iat": now, "exp": now + 120, "jti": "j",
		"events": map[string]any{backChannelLogoutEvent: map[string]any{}},
	}, "logout+jwt")
	f.Add(good)
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := c.verifyLogoutToken(context.Background(), token)
		if err == nil && token != good {
			t.Fatalf("a token the test did not sign verified: %q (sub %q)", token, claims.Sub)
		}
	})
}
