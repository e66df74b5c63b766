// Package jwks is a cached, rate-limited JSON Web Key Set fetched from a
// provider's jwks_uri. It implements go-oidc's KeySet.
package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

var (
	// ErrUnknownKey: no published key matches the token's kid (after at most
	// one rate-limited refetch).
	ErrUnknownKey = errors.New("jwks: no matching key")
	// ErrSignature: a matching key exists but the signature does not verify, or
	// the token is malformed or uses a disallowed algorithm.
	ErrSignature = errors.New("jwks: invalid signature")
)

// FetchError is a failure to download or parse the key set.
type FetchError struct {
	StatusCode int
	Err        error
}

func (e *FetchError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("jwks: fetch: HTTP %d", e.StatusCode)
	}
	return "jwks: fetch: " + e.Err.Error()
}

func (e *FetchError) Unwrap() error { return e.Err }

// maxBody caps the JWKS document.
const maxBody = 256 << 10

// KeySet caches the keys at URL and refetches them when a token names an
// unknown kid, at most once per MinRefetchInterval.
type KeySet struct {
	URL                string
	Client             *http.Client
	Now                func() time.Time
	MinRefetchInterval time.Duration
	Algorithms         []string // allowed JWS algorithms

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time
	fetched   bool
	group     singleflight.Group
}

// VerifySignature verifies jwt with a published key and returns its payload.
func (k *KeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	algs := make([]jose.SignatureAlgorithm, 0, len(k.Algorithms))
	for _, a := range k.Algorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	jws, err := jose.ParseSignedCompact(jwt, algs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want exactly one signature", ErrSignature)
	}
	hdr := jws.Signatures[0].Header
	if hdr.JSONWebKey != nil {
		return nil, fmt.Errorf("%w: embedded jwk header not accepted", ErrSignature)
	}

	keys, err := k.cached(ctx, false)
	if err != nil {
		return nil, err
	}
	cands := candidates(keys, hdr.KeyID, hdr.Algorithm)
	if len(cands) == 0 {
		if keys, err = k.cached(ctx, true); err != nil {
			return nil, err
		}
		cands = candidates(keys, hdr.KeyID, hdr.Algorithm)
	}
	if len(cands) == 0 {
		return nil, ErrUnknownKey
	}
	for _, key := range cands {
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	return nil, ErrSignature
}

// cached returns the keys, fetching them when none are cached or, with
// unknownKid, when the last fetch is older than MinRefetchInterval.
func (k *KeySet) cached(ctx context.Context, unknownKid bool) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	fresh := k.fetched && (!unknownKid || k.now().Sub(k.fetchedAt) < k.MinRefetchInterval)
	keys := k.keys
	k.mu.Unlock()
	if fresh {
		return keys, nil
	}
	ch := k.group.DoChan("fetch", func() (any, error) {
		// Detached from the caller: one cancelled request must not fail the others.
		return k.fetch(context.WithoutCancel(ctx))
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]jose.JSONWebKey), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (k *KeySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	// Record the attempt first: a failing endpoint is also rate limited.
	k.mu.Lock()
	if k.fetched && k.now().Sub(k.fetchedAt) < k.MinRefetchInterval && len(k.keys) > 0 {
		keys := k.keys
		k.mu.Unlock()
		return keys, nil
	}
	k.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.URL, nil)
	if err != nil {
		return nil, &FetchError{Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.Client.Do(req)
	if err != nil {
		return nil, &FetchError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{StatusCode: resp.StatusCode, Err: errors.New(resp.Status)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &FetchError{Err: err}
	}
	if len(body) > maxBody {
		return nil, &FetchError{Err: errors.New("document too large")}
	}
	keys, err := Parse(body)
	if err != nil {
		return nil, &FetchError{Err: err}
	}
	k.mu.Lock()
	k.keys, k.fetchedAt, k.fetched = keys, k.now(), true
	k.mu.Unlock()
	return keys, nil
}

// Parse decodes a JWKS document, keeping only public asymmetric signing keys.
// Keys it cannot use are skipped rather than failing the whole set.
func Parse(body []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if !key.IsPublic() {
			key = key.Public()
		}
		switch key.Key.(type) {
		case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
			keys = append(keys, key)
		}
	}
	return keys, nil
}

func (k *KeySet) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// candidates returns the keys that may have signed a token with kid and alg.
func candidates(keys []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		if !typeFits(key, alg) {
			continue
		}
		out = append(out, key)
	}
	return out
}

func typeFits(key jose.JSONWebKey, alg string) bool {
	switch key.Key.(type) {
	case *ecdsa.PublicKey:
		return len(alg) == 5 && alg[:2] == "ES"
	case *rsa.PublicKey:
		return len(alg) == 5 && (alg[:2] == "RS" || alg[:2] == "PS")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
