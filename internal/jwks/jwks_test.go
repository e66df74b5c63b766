package jwks_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/internal/jwks"
)

type fixture struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int32
	srv     *httptest.Server
}

func newFixture(t *testing.T, keys ...jose.JSONWebKey) *fixture {
	f := &fixture{keys: keys}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: f.keys})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) set(keys ...jose.JSONWebKey) {
	f.mu.Lock()
	f.keys = keys
	f.mu.Unlock()
}

func ecKey(t *testing.T, kid string) (*ecdsa.PrivateKey, jose.JSONWebKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES384", Use: "sig"}
}

func sign(t *testing.T, key any, kid string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(`{"sub":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func keySet(f *fixture, now func() time.Time) *jwks.KeySet {
	return &jwks.KeySet{URL: f.srv.URL, Client: f.srv.Client(), Now: now, MinRefetchInterval: 10 * time.Second, Algorithms: []string{"ES384"}}
}

func TestVerifyAndRotation(t *testing.T) {
	t.Parallel()
	k1, pub1 := ecKey(t, "k1")
	k2, pub2 := ecKey(t, "k2")
	f := newFixture(t, pub1)
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ks := keySet(f, clock)
	ctx := context.Background()

	if _, err := ks.VerifySignature(ctx, sign(t, k1, "k1")); err != nil {
		t.Fatalf("k1: %v", err)
	}
	// Rotation right after the first fetch: the refetch waits for the interval.
	f.set(pub2, pub1)
	if _, err := ks.VerifySignature(ctx, sign(t, k2, "k2")); !errors.Is(err, jwks.ErrUnknownKey) {
		t.Fatalf("k2 inside interval: err = %v, want ErrUnknownKey", err)
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if _, err := ks.VerifySignature(ctx, sign(t, k2, "k2")); err != nil {
		t.Fatalf("k2 after interval: %v", err)
	}
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2", got)
	}
}

func TestUnknownKidsAreRateLimited(t *testing.T) {
	t.Parallel()
	_, pub1 := ecKey(t, "k1")
	f := newFixture(t, pub1)
	ks := keySet(f, time.Now)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, _ := ecKey(t, "")
			_, err := ks.VerifySignature(context.Background(), sign(t, k, "unknown-"+strings.Repeat("x", i)))
			if !errors.Is(err, jwks.ErrUnknownKey) {
				t.Errorf("err = %v, want ErrUnknownKey", err)
			}
		}()
	}
	wg.Wait()
	if got := f.fetches.Load(); got > 2 {
		t.Fatalf("fetches = %d, want at most 2 (first fetch + one refetch)", got)
	}
}

func TestRejects(t *testing.T) {
	t.Parallel()
	k1, pub1 := ecKey(t, "k1")
	other, _ := ecKey(t, "k1")
	f := newFixture(t, pub1)
	ks := keySet(f, time.Now)
	good := sign(t, k1, "k1")
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	hs := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		o, _ := s.Sign([]byte(`{}`))
		c, _ := o.CompactSerialize()
		return c
	}()
	for name, tok := range map[string]string{
		"alg none":        none,
		"HS256":           hs,
		"wrong key":       sign(t, other, "k1"),
		"garbage":         "a.b.c",
		"empty":           "",
		"payload swapped": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2],
	} {
		if _, err := ks.VerifySignature(context.Background(), tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestKidAbsentSingleKey(t *testing.T) {
	t.Parallel()
	k, pub := ecKey(t, "")
	pub.Algorithm = ""
	f := newFixture(t, pub)
	if _, err := keySet(f, time.Now).VerifySignature(context.Background(), sign(t, k, "")); err != nil {
		t.Fatalf("kid-less token with single kid-less key: %v", err)
	}
}

func TestParseSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	_, pub := ecKey(t, "ok")
	b, _ := json.Marshal(pub)
	doc := `{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"XYZ"},{"kty":"EC","use":"enc","crv":"P-256","x":"x","y":"y"},` + string(b) + `]}`
	keys, err := jwks.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KeyID != "ok" {
		t.Fatalf("keys = %+v, want only the EC signing key", keys)
	}
	if _, err := jwks.Parse([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

// FuzzVerify: no token verifies without the key; no JWKS document panics Parse.
func FuzzVerify(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES384", Use: "sig"}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
	defer srv.Close()
	ks := &jwks.KeySet{URL: srv.URL, Client: srv.Client(), MinRefetchInterval: time.Hour, Algorithms: []string{"ES384", "RS256"}}
	f.Add("eyJhbGciOiJFUzM4NCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1In0.AAAA", string(doc))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", `{"keys":[{"kty":"oct","k":"AA"}]}`)
	f.Add("....", `{"keys":null}`)
	f.Fuzz(func(t *testing.T, token, jwksDoc string) {
		_, _ = jwks.Parse([]byte(jwksDoc))
		if _, err := ks.VerifySignature(context.Background(), token); err == nil {
			t.Fatalf("forged token verified: %q", token)
		}
	})
}
