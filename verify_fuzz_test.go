package logto

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/internal/jwt"
	"github.com/logto-go/logto/internal/testkit"
)

// fuzzNow is the fixed time of the fuzz targets' tokens and verifiers: fuzz
// seeds must verify in every fuzz process.
var fuzzNow = time.Unix(1_800_000_000, 0)

// fuzzProvider is a Client whose discovery is pre-filled with a JWKS served
// locally, a signer for valid seeds, and the public key for the oracle. The
// key and the clock are fixed (see testkit.FuzzKeyP384).
func fuzzProvider(f *testing.F) (*Client, func(claims map[string]any, typ string) string, *ecdsa.PublicKey) {
	key := testkit.FuzzKeyP384()
	pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES384", Use: "sig"}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
	f.Cleanup(srv.Close)
	c, err := New(Config{AppID: "app", AppSecret: "s", Endpoint: "http://127.0.0.1:1", BaseURL: "http://localhost:3000", CookieSecret: strings.Repeat("k", 32), Now: func() time.Time { return fuzzNow }})
	if err != nil {
		f.Fatal(err)
	}
	algs := []string{"ES384"}
	c.disc.cached = &provider{
		issuer: c.cfg.issuer, algorithms: algs,
		verifier: &jwt.Verifier{
			Issuer: c.cfg.issuer, Algorithms: algs, Now: c.cfg.Now, Skew: time.Minute,
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
	return c, sign, &key.PublicKey
}

// FuzzVerifyIDToken: no input panics the ID token verifier, and no error
// implies the token is one the test signed (testkit.SignedBy: a canonical
// JWS the standard library verifies with the test's key), so a mutated
// signature, header or payload, or another encoding of them, is refused.
func FuzzVerifyIDToken(f *testing.F) {
	c, sign, pub := fuzzProvider(f)
	now := fuzzNow.Unix()
	good := sign(map[string]any{"iss": c.cfg.issuer, "aud": "app", "sub": "u", "iat": now, "exp": now + 3600, "nonce": "n"}, "")
	f.Add(good, "n")
	f.Add(otherLastChar(good), "n")
	f.Add(strings.Replace(good, ".", "x.", 1), "n")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", "")
	f.Fuzz(func(t *testing.T, token, nonce string) {
		p, _ := c.provider(context.Background())
		claims, err := c.verifyIDToken(context.Background(), p, token, idTokenCheck{nonce: nonce})
		if err == nil && !testkit.SignedBy(token, pub) {
			t.Fatalf("a token the test did not sign verified: %q (sub %q)", token, claims.Sub)
		}
	})
}

// FuzzLogoutToken: no input panics the logout token verifier, and no error
// implies the token is one the test signed (testkit.SignedBy).
func FuzzLogoutToken(f *testing.F) {
	c, sign, pub := fuzzProvider(f)
	now := fuzzNow.Unix()
	good := sign(map[string]any{
		"iss": c.cfg.issuer, "aud": "app", "sub": "u", "iat": now, "exp": now + 120, "jti": "j",
		"events": map[string]any{backChannelLogoutEvent: map[string]any{}},
	}, "logout+jwt")
	f.Add(good)
	f.Add(otherLastChar(good))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := c.verifyLogoutToken(context.Background(), token)
		if err == nil && !testkit.SignedBy(token, pub) {
			t.Fatalf("a token the test did not sign verified: %q (sub %q)", token, claims.Sub)
		}
	})
}

// otherLastChar changes the last character of token, in its signature:
// the same claims with another signature.
func otherLastChar(token string) string {
	if token[len(token)-1] == 'A' {
		return token[:len(token)-1] + "B"
	}
	return token[:len(token)-1] + "A"
}
