package jwt

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
	// ErrUnknownKey: no published key matches the token's kid and alg, even
	// after the refetch the policy allowed.
	ErrUnknownKey = errors.New("jwks: no matching key")
	// ErrSignature: the token is malformed, uses a disallowed algorithm, or
	// its signature does not verify with the matching key.
	ErrSignature = errors.New("jwks: invalid signature")
)

// FetchError is a failure to download or parse the key set.
type FetchError struct {
	StatusCode int
	Err        error
}

// Error names the status or the cause.
func (e *FetchError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("jwks: fetch: HTTP %d", e.StatusCode)
	}
	return "jwks: fetch: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

const (
	// maxBody caps the JWKS document.
	maxBody = 256 << 10
	// maxKidLength: a longer kid is never remembered as unknown (the memory
	// bound) and never triggers a refetch for an untrusted token.
	maxKidLength = 256
	// maxUnknownKids bounds the memory of kids found unknown.
	maxUnknownKids = 1024
	// staleRetry spaces the refreshes of stale keys while they fail.
	staleRetry = 30 * time.Second
)

// Refetch policy defaults (see KeySet).
const (
	DefaultMaxAge          = time.Hour
	DefaultUnknownKidBurst = 1
	DefaultUnknownKidEvery = 10 * time.Second
	DefaultUnknownKidTTL   = time.Minute
)

// KeySet is the provider's published signing keys (RFC 7517), fetched from
// URL and cached. Its refetch policy:
//
//   - A token whose kid (with its alg) is not in the cached set makes the set
//     fetch again at once, however recently it was fetched: Logto signs with a
//     new key the moment it is rotated. Concurrent fetches share one request,
//     and joining a fetch already in flight is always allowed.
//   - A refetch that does not find the kid it was made for is wasted: those
//     are capped to UnknownKidBurst, refilled one per UnknownKidEvery (one per
//     10 s by default), and the kid is remembered as unknown for
//     UnknownKidTTL. So a flood of forged kids costs at most that rate, while
//     a real rotation (whose refetch finds the kid) costs nothing.
//   - Trusted tokens (from the token endpoint, over TLS from the issuer) and
//     untrusted ones (bearer and logout tokens: anyone can send them) have
//     budgets of their own, so forged logout tokens cannot use up the
//     refetch a sign-in after a rotation needs.
//   - Keys fetched longer than MaxAge ago are fetched again on next use, so a
//     key the provider withdrew stops verifying; if that fetch fails the
//     cached keys are kept (an outage must not sign everybody out).
type KeySet struct {
	URL    string
	Client *http.Client
	Now    func() time.Time

	MaxAge          time.Duration // 0: DefaultMaxAge
	UnknownKidBurst int           // 0: DefaultUnknownKidBurst
	UnknownKidEvery time.Duration // 0: DefaultUnknownKidEvery
	UnknownKidTTL   time.Duration // 0: DefaultUnknownKidTTL

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	fetchedAt   time.Time
	fetched     bool
	fetching    bool      // a fetch is in flight: joining it is free
	gen         uint64    // completed fetches
	budgets     [2]bucket // wasted refetches: [0] untrusted, [1] trusted
	unknownKids map[string]time.Time
	group       singleflight.Group
}

// bucket is a token bucket of refetches.
type bucket struct {
	tokens float64
	at     time.Time
	init   bool
}

// Keys returns the published keys that may have verified a token signed
// with alg under kid ("" when the token names none), following the refetch
// policy; trusted says whether the token came from the token endpoint. The
// error is ErrUnknownKey, a *FetchError, or the context's error.
func (k *KeySet) Keys(ctx context.Context, kid, alg string, trusted bool) ([]jose.JSONWebKey, error) {
	now := k.now()
	k.mu.Lock()
	keys, fetched, gen := k.keys, k.fetched, k.gen
	stale := fetched && now.Sub(k.fetchedAt) >= k.maxAge()
	k.mu.Unlock()

	justFetched, charged := false, false
	if !fetched || stale {
		charged = k.startFetch(trusted, now)
		fresh, err := k.fetchShared(ctx, gen)
		switch {
		case err == nil:
			keys, justFetched = fresh, true
		case !fetched || ctx.Err() != nil:
			return nil, err
		default:
			// A failed refresh of stale keys keeps them (see the policy)
			// and is tried again after staleRetry, not on every request.
			k.mu.Lock()
			k.fetchedAt = now.Add(staleRetry - k.maxAge())
			k.mu.Unlock()
		}
	}
	if c := candidates(keys, kid, alg); len(c) > 0 {
		if charged {
			k.refund(trusted)
		}
		return c, nil
	}
	if justFetched {
		// The set is as fresh as it gets: this fetch was wasted.
		k.wasted(kid, trusted, now, charged)
		return nil, ErrUnknownKey
	}
	found, starter, ok := k.mayRefetch(kid, alg, trusted, now)
	if len(found) > 0 {
		return found, nil // fetched meanwhile by another request
	}
	if !ok {
		return nil, ErrUnknownKey
	}
	keys, err := k.fetchShared(ctx, gen)
	if err != nil {
		return nil, err
	}
	if c := candidates(keys, kid, alg); len(c) > 0 {
		if starter {
			k.refund(trusted)
		}
		return c, nil
	}
	k.wasted(kid, trusted, now, true) // paid by the starter
	return nil, ErrUnknownKey
}

// startFetch marks the first or a scheduled fetch as started by this
// request, charging it to the budget (refunded when the request's kid is
// found) so that requests arriving after a wasted first fetch do not fetch
// again; a request that joins a fetch in flight is not charged.
func (k *KeySet) startFetch(trusted bool, now time.Time) (charged bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fetching {
		return false
	}
	k.fetching = true
	if b := k.bucket(trusted, now); b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// mayRefetch reports whether a token with an unknown kid may refetch the
// set: by joining a fetch in flight, or by taking one refetch from its
// budget (starter). found are the kid's keys when a fetch that completed
// meanwhile brought them.
func (k *KeySet) mayRefetch(kid, alg string, trusted bool, now time.Time) (found []jose.JSONWebKey, starter, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c := candidates(k.keys, kid, alg); len(c) > 0 {
		return c, false, true
	}
	if len(kid) > maxKidLength {
		return nil, false, false
	}
	if until, ok := k.unknownKids[kid]; ok && now.Before(until) {
		return nil, false, false
	}
	if k.fetching {
		return nil, false, true
	}
	b := k.bucket(trusted, now)
	if b.tokens < 1 {
		return nil, false, false
	}
	b.tokens--
	k.fetching = true // others join from now on, before the fetch starts
	return nil, true, true
}

// bucket returns the refilled budget for trusted or untrusted tokens; k.mu
// is held.
func (k *KeySet) bucket(trusted bool, now time.Time) *bucket {
	burst := k.burst()
	every := k.UnknownKidEvery
	if every <= 0 {
		every = DefaultUnknownKidEvery
	}
	b := &k.budgets[0]
	if trusted {
		b = &k.budgets[1]
	}
	if !b.init {
		b.tokens, b.at, b.init = burst, now, true
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(burst, b.tokens+float64(d)/float64(every))
		b.at = now
	}
	return b
}

// refund gives back the refetch a real rotation used.
func (k *KeySet) refund(trusted bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(trusted, k.now())
	b.tokens = min(k.burst(), b.tokens+1)
}

func (k *KeySet) burst() float64 {
	if k.UnknownKidBurst > 0 {
		return float64(k.UnknownKidBurst)
	}
	return DefaultUnknownKidBurst
}

// wasted records a fetch that did not find kid: the kid is remembered as
// unknown, and a fetch not already paid for (charged false) costs the
// budget.
func (k *KeySet) wasted(kid string, trusted bool, now time.Time, charged bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !charged {
		b := k.bucket(trusted, now)
		b.tokens = max(0, b.tokens-1)
	}
	if len(kid) > maxKidLength {
		return
	}
	ttl := k.UnknownKidTTL
	if ttl <= 0 {
		ttl = DefaultUnknownKidTTL
	}
	if k.unknownKids == nil {
		k.unknownKids = map[string]time.Time{}
	}
	if len(k.unknownKids) >= maxUnknownKids {
		for id, until := range k.unknownKids {
			if !now.Before(until) {
				delete(k.unknownKids, id)
			}
		}
		if len(k.unknownKids) >= maxUnknownKids {
			// Only forged kids fill it, and the refetch budget still holds.
			clear(k.unknownKids)
		}
	}
	k.unknownKids[kid] = now.Add(ttl)
}

// fetchShared fetches the set once for all concurrent callers, unless a
// fetch completed since the caller read generation gen: its keys are as
// fresh as a new fetch's.
func (k *KeySet) fetchShared(ctx context.Context, gen uint64) ([]jose.JSONWebKey, error) {
	ch := k.group.DoChan("fetch", func() (any, error) {
		k.mu.Lock()
		if k.gen != gen && k.fetched {
			keys := k.keys
			k.fetching = false
			k.mu.Unlock()
			return keys, nil
		}
		k.mu.Unlock()
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
	k.mu.Lock()
	k.fetching = true
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.fetching = false
		k.mu.Unlock()
	}()
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
	k.gen++
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

func (k *KeySet) maxAge() time.Duration {
	if k.MaxAge > 0 {
		return k.MaxAge
	}
	return DefaultMaxAge
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
