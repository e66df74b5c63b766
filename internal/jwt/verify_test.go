package jwt_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/internal/jwt"
	"github.com/logto-go/logto/internal/testkit"
)

const issuer = "https://tenant.example.com/oidc"

// signer signs tokens with one key and remembers every token it signed.
type signer struct {
	t   testing.TB
	alg jose.SignatureAlgorithm
	key any
	kid string
}

func (s signer) sign(header map[string]any, claims map[string]any) string {
	s.t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", s.kid)
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		s.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := sg.Sign(payload)
	if err != nil {
		s.t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// verifierFixture is a verifier over a JWKS with an ES384 key "k1" and an
// RS256 key "r1".
func verifierFixture(t testing.TB, now time.Time) (*jwt.Verifier, signer, signer) {
	t.Helper()
	ecPriv, ecPub := ecKey(t, "k1")
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub := jose.JSONWebKey{Key: &rsaPriv.PublicKey, KeyID: "r1", Algorithm: "RS256", Use: "sig"}
	f := newFixture(t, ecPub, rsaPub)
	v := &jwt.Verifier{
		Issuer: issuer, Algorithms: []string{"ES384", "RS256"}, Skew: time.Minute,
		Now:  func() time.Time { return now },
		Keys: keySet(f, func() time.Time { return now }),
	}
	return v, signer{t, jose.ES384, ecPriv, "k1"}, signer{t, jose.RS256, rsaPriv, "r1"}
}

func atHash(accessToken string) string {
	sum := sha512.Sum384([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

func TestVerifyRules(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	v, es, rs := verifierFixture(t, now)
	base := func() map[string]any {
		return map[string]any{"iss": issuer, "aud": "app", "sub": "u", "iat": now.Unix(), "exp": now.Unix() + 3600}
	}
	with := func(edit func(map[string]any)) map[string]any { c := base(); edit(c); return c }
	idRules := jwt.Rules{Audience: "app", SingleAudience: true, AuthorizedParty: "app", RequireSubject: true,
		RequireExpiry: true, RequireIssued: true, IssuedJustNow: true, AccessToken: "opaque-at", Trusted: true}
	atRules := jwt.Rules{Types: []string{"at+jwt"}, TypeRequired: true, Audience: "app", RequireSubject: true, RequireExpiry: true}
	good := es.sign(nil, base())
	parts := strings.Split(good, ".")

	for _, tc := range []struct {
		name   string
		token  string
		rules  jwt.Rules
		reason string // "" = accepted
	}{
		{"ID token", good, idRules, ""},
		{"RS256", rs.sign(nil, base()), idRules, ""},
		{"typ JWT", es.sign(map[string]any{"typ": "JWT"}, base()), idRules, ""},
		{"at_hash matches", es.sign(nil, with(func(c map[string]any) { c["at_hash"] = atHash("opaque-at") })), idRules, ""},
		{"at_hash mismatch", es.sign(nil, with(func(c map[string]any) { c["at_hash"] = atHash("other") })), idRules, jwt.ReasonAccessTokenHash},
		{"at_hash unchecked without access token", es.sign(nil, with(func(c map[string]any) { c["at_hash"] = "x" })), jwt.Rules{Audience: "app"}, ""},
		{"access token as ID token", es.sign(map[string]any{"typ": "at+jwt"}, base()), idRules, jwt.ReasonTokenType},
		{"logout token as ID token", es.sign(map[string]any{"typ": "logout+jwt"}, base()), idRules, jwt.ReasonTokenType},
		{"access token", es.sign(map[string]any{"typ": "at+jwt"}, base()), atRules, ""},
		{"access token media type", es.sign(map[string]any{"typ": "application/at+jwt"}, base()), atRules, ""},
		{"access token without typ", good, atRules, jwt.ReasonTokenType},
		{"iss", es.sign(nil, with(func(c map[string]any) { c["iss"] = "https://evil/oidc" })), idRules, jwt.ReasonIssuer},
		{"aud", es.sign(nil, with(func(c map[string]any) { c["aud"] = "other" })), idRules, jwt.ReasonAudience},
		{"aud extra with azp", es.sign(nil, with(func(c map[string]any) { c["aud"] = []string{"app", "other"}; c["azp"] = "app" })), idRules, jwt.ReasonAudience},
		{"aud extra without azp", es.sign(nil, with(func(c map[string]any) { c["aud"] = []string{"app", "other"} })), idRules, jwt.ReasonAuthorizedParty},
		{"azp other", es.sign(nil, with(func(c map[string]any) { c["azp"] = "other" })), idRules, jwt.ReasonAuthorizedParty},
		{"sub missing", es.sign(nil, with(func(c map[string]any) { delete(c, "sub") })), idRules, jwt.ReasonSubject},
		{"expired", es.sign(nil, with(func(c map[string]any) { c["exp"] = now.Unix() - 61 })), idRules, jwt.ReasonExpired},
		{"expired within skew", es.sign(nil, with(func(c map[string]any) { c["exp"] = now.Unix() - 30 })), idRules, ""},
		{"exp missing", es.sign(nil, with(func(c map[string]any) { delete(c, "exp") })), idRules, jwt.ReasonExpired},
		{"exp string", es.sign(nil, with(func(c map[string]any) { c["exp"] = "soon" })), idRules, jwt.ReasonInvalidJSON},
		{"iat future", es.sign(nil, with(func(c map[string]any) { c["iat"] = now.Unix() + 120 })), idRules, jwt.ReasonIssuedAt},
		{"iat old at the callback", es.sign(nil, with(func(c map[string]any) { c["iat"] = now.Unix() - 600 })), idRules, jwt.ReasonIssuedAt},
		{"iat old on refresh", es.sign(nil, with(func(c map[string]any) { c["iat"] = now.Unix() - 600 })), jwt.Rules{Audience: "app", RequireIssued: true}, ""},
		{"iat beyond MaxAge", es.sign(nil, with(func(c map[string]any) { c["iat"] = now.Unix() - 600 })), jwt.Rules{Audience: "app", MaxAge: time.Minute}, jwt.ReasonIssuedAt},
		{"nbf future", es.sign(nil, with(func(c map[string]any) { c["nbf"] = now.Unix() + 120 })), idRules, jwt.ReasonNotBefore},
		{"unknown kid", signer{t, jose.ES384, es.key, "k9"}.sign(nil, base()), idRules, jwt.ReasonSignature},
		{"payload swapped", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+issuer+`","aud":"app","sub":"admin"}`)) + "." + parts[2], idRules, jwt.ReasonSignature},
		{"alg none", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", idRules, jwt.ReasonSignature},
		{"padded", good + "=", idRules, jwt.ReasonSignature},
		{"crit header", es.sign(map[string]any{"crit": []string{"exp"}, "exp": 1}, base()), idRules, jwt.ReasonSignature},
		{"embedded jwk", es.sign(map[string]any{"jwk": map[string]any{"kty": "EC"}}, base()), idRules, jwt.ReasonSignature},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, idRules, jwt.ReasonSignature},
		{"too long", good + "." + strings.Repeat("A", jwt.MaxTokenLength), idRules, jwt.ReasonSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token, tc.rules)
			var je *jwt.Error
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.reason != "" && !errors.As(err, &je):
				t.Fatalf("err = %v, want a *jwt.Error with reason %q", err, tc.reason)
			case tc.reason != "" && je.Reason != tc.reason:
				t.Fatalf("reason = %q (%v), want %q", je.Reason, err, tc.reason)
			}
		})
	}
}

// TestNonCanonicalSignatureRefused: an RS256 signature is 342 base64url
// characters whose last one carries 4 unused bits, so 16 strings decode to
// the same signature. Only the one the issuer produced is accepted.
func TestNonCanonicalSignatureRefused(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	v, _, rs := verifierFixture(t, now)
	good := rs.sign(nil, map[string]any{"iss": issuer, "aud": "app", "sub": "u", "exp": now.Unix() + 60})
	if _, err := v.Verify(context.Background(), good, jwt.Rules{Audience: "app"}); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, good[len(good)-1])
	for low := 1; low < 16; low++ {
		variant := good[:len(good)-1] + string(alphabet[last&^0x0f|low])
		if variant == good {
			continue
		}
		if _, err := v.Verify(context.Background(), variant, jwt.Rules{Audience: "app"}); err == nil {
			t.Fatalf("non-canonical signature encoding accepted: %q", variant[len(variant)-4:])
		}
	}
}

// FuzzVerify: no input panics the verifier, and no error implies the token
// is one the test signed: a canonical JWS whose signature the standard
// library verifies with one of the test's keys (testkit.SignedBy). The keys
// and the clock are fixed so that seeds verify in every fuzz process.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	ecPriv, rsaPriv := testkit.FuzzKeyP384(), testkit.FuzzKeyRSA()
	fx := newFixture(f,
		jose.JSONWebKey{Key: &ecPriv.PublicKey, KeyID: "k1", Algorithm: "ES384", Use: "sig"},
		jose.JSONWebKey{Key: &rsaPriv.PublicKey, KeyID: "r1", Algorithm: "RS256", Use: "sig"})
	clock := func() time.Time { return now }
	v := &jwt.Verifier{Issuer: issuer, Algorithms: []string{"ES384", "RS256"}, Skew: time.Minute, Now: clock, Keys: keySet(fx, clock)}
	claims := map[string]any{"iss": issuer, "aud": "app", "sub": "u", "iat": now.Unix(), "exp": now.Unix() + 7200}
	for _, s := range []signer{{f, jose.ES384, ecPriv, "k1"}, {f, jose.RS256, rsaPriv, "r1"}} {
		for _, typ := range []string{"", "at+jwt"} {
			hdr := map[string]any{}
			if typ != "" {
				hdr["typ"] = typ
			}
			tok := s.sign(hdr, claims)
			f.Add(tok)
			f.Add(otherLastChar(tok))
		}
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		_, err := v.Verify(context.Background(), token, jwt.Rules{Audience: "app"})
		if err == nil && !testkit.SignedBy(token, &ecPriv.PublicKey) && !testkit.SignedBy(token, &rsaPriv.PublicKey) {
			t.Fatalf("a token the test did not sign verified: %q", token)
		}
	})
}

// otherLastChar changes the last character of token, in its signature:
// the same claims with another signature (or another encoding of it).
func otherLastChar(token string) string {
	if token[len(token)-1] == 'A' {
		return token[:len(token)-1] + "B"
	}
	return token[:len(token)-1] + "A"
}
