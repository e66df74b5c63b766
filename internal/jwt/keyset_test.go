package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/internal/jwt"
)

type fixture struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	failing bool
	gate    chan struct{} // when set, fetches wait for it to close
	blocked chan struct{}
	fetches atomic.Int32
	srv     *httptest.Server
}

func newFixture(t testing.TB, keys ...jose.JSONWebKey) *fixture {
	f := &fixture{keys: keys}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		f.mu.Lock()
		gate, blocked := f.gate, f.blocked
		f.mu.Unlock()
		if gate != nil {
			close(blocked)
			<-gate
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failing {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: f.keys})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) fail(on bool) { f.mu.Lock(); f.failing = on; f.mu.Unlock() }

// block makes the next fetch wait until unblock.
func (f *fixture) block() {
	f.mu.Lock()
	f.gate, f.blocked = make(chan struct{}), make(chan struct{})
	f.mu.Unlock()
}

func (f *fixture) waitBlocked() { f.mu.Lock(); b := f.blocked; f.mu.Unlock(); <-b }

func (f *fixture) unblock() {
	f.mu.Lock()
	close(f.gate)
	f.gate = nil
	f.mu.Unlock()
}

func (f *fixture) set(keys ...jose.JSONWebKey) {
	f.mu.Lock()
	f.keys = keys
	f.mu.Unlock()
}

func ecKey(t testing.TB, kid string) (*ecdsa.PrivateKey, jose.JSONWebKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES384", Use: "sig"}
}

func keySet(f *fixture, now func() time.Time) *jwt.KeySet {
	return &jwt.KeySet{URL: f.srv.URL, Client: f.srv.Client(), Now: now}
}

// newKeySet is a key set over a fixture serving keys, on a fake clock.
func newKeySet(t testing.TB, keys ...jose.JSONWebKey) (*fixture, *settable, *jwt.KeySet) {
	f, clock := newFixture(t, keys...), newSettable()
	return f, clock, keySet(f, clock.Now)
}

// settable is a fake clock.
type settable struct {
	mu  sync.Mutex
	now time.Time
}

func newSettable() *settable { return &settable{now: time.Unix(1_800_000_000, 0)} }

func (s *settable) Now() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }

func (s *settable) Add(d time.Duration) { s.mu.Lock(); s.now = s.now.Add(d); s.mu.Unlock() }

// TestRotationRightAfterFetch: Logto signs with a new key the moment it is
// rotated; a token with the new kid a moment after a fetch must refetch at
// once, for trusted and untrusted tokens alike.
func TestRotationRightAfterFetch(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{true, false} {
		_, pub1 := ecKey(t, "k1")
		_, pub2 := ecKey(t, "k2")
		f, clock, ks := newKeySet(t, pub1)
		ctx := context.Background()
		if _, err := ks.Keys(ctx, "k1", "ES384", trusted); err != nil {
			t.Fatalf("k1: %v", err)
		}
		f.set(pub2, pub1)
		clock.Add(time.Millisecond)
		keys, err := ks.Keys(ctx, "k2", "ES384", trusted)
		if err != nil || len(keys) != 1 || keys[0].KeyID != "k2" {
			t.Fatalf("trusted=%v: k2 a moment after the fetch: keys %v, err %v", trusted, keys, err)
		}
		if _, err := ks.Keys(ctx, "k1", "ES384", trusted); err != nil {
			t.Fatalf("trusted=%v: previous key k1 after rotation: %v", trusted, err)
		}
		if got := f.fetches.Load(); got != 2 {
			t.Fatalf("trusted=%v: fetches = %d, want 2", trusted, got)
		}
	}
}

// TestConcurrentMissesShareOneFetch: many requests with the new kid at once
// make one refetch.
func TestConcurrentMissesShareOneFetch(t *testing.T) {
	t.Parallel()
	_, pub1 := ecKey(t, "k1")
	_, pub2 := ecKey(t, "k2")
	f := newFixture(t, pub1)
	ks := keySet(f, newSettable().Now)
	if _, err := ks.Keys(context.Background(), "k1", "ES384", false); err != nil {
		t.Fatal(err)
	}
	f.set(pub2, pub1)
	f.block()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ks.Keys(context.Background(), "k2", "ES384", i%2 == 0); err != nil {
				t.Errorf("k2: %v", err)
			}
		}()
	}
	f.waitBlocked()
	time.Sleep(20 * time.Millisecond) // let the others join the fetch in flight
	f.unblock()
	wg.Wait()
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (the first and one shared refetch)", got)
	}
}

// TestUnknownKidFloodIsBounded: forged kids from untrusted tokens refetch
// at most the burst plus one per refill interval, and a kid found unknown is
// not fetched for again while remembered.
func TestUnknownKidFloodIsBounded(t *testing.T) {
	t.Parallel()
	_, pub1 := ecKey(t, "k1")
	f, clock, ks := newKeySet(t, pub1)
	ctx := context.Background()
	// One minute of a flood: 1000 random kids per second.
	for sec := 0; sec < 60; sec++ {
		for i := 0; i < 1000; i++ {
			if _, err := ks.Keys(ctx, fmt.Sprintf("forged-%d-%d", sec, i), "ES384", false); !errors.Is(err, jwt.ErrUnknownKey) {
				t.Fatalf("forged kid: err = %v, want ErrUnknownKey", err)
			}
		}
		clock.Add(time.Second)
	}
	// 1 initial fetch + the burst + one refill per 10 s over 60 s.
	if got, max := f.fetches.Load(), int32(1+jwt.DefaultUnknownKidBurst+60/10); got > max {
		t.Fatalf("fetches = %d, want at most %d", got, max)
	}
	// The same forged kid again and again: remembered, no fetch.
	clock.Add(time.Minute) // the budget is full again
	before := f.fetches.Load()
	for i := 0; i < 100; i++ {
		_, _ = ks.Keys(ctx, "same-forged", "ES384", false)
	}
	if got := f.fetches.Load() - before; got != 1 {
		t.Fatalf("one repeated forged kid: %d fetches, want 1", got)
	}
	// A kid longer than any real one never refetches for an untrusted token.
	before = f.fetches.Load()
	_, _ = ks.Keys(ctx, strings.Repeat("x", 1000), "ES384", false)
	if got := f.fetches.Load() - before; got != 0 {
		t.Fatalf("oversized kid: %d fetches, want 0", got)
	}
}

// TestUntrustedFloodDoesNotStarveTrusted: forged bearer or logout tokens
// use up only the untrusted budget; a sign-in after a rotation still
// refetches.
func TestUntrustedFloodDoesNotStarveTrusted(t *testing.T) {
	t.Parallel()
	_, pub1 := ecKey(t, "k1")
	_, pub2 := ecKey(t, "k2")
	f, _, ks := newKeySet(t, pub1)
	ctx := context.Background()
	for i := 0; i < 50; i++ { // exhaust the untrusted budget
		_, _ = ks.Keys(ctx, fmt.Sprint("forged-", i), "ES384", false)
	}
	f.set(pub2, pub1)
	if _, err := ks.Keys(ctx, "k2", "ES384", false); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Fatalf("untrusted k2 with the budget spent: err = %v, want ErrUnknownKey", err)
	}
	if _, err := ks.Keys(ctx, "k2", "ES384", true); err != nil {
		t.Fatalf("trusted k2 after the flood: %v", err)
	}
	if _, err := ks.Keys(ctx, "k2", "ES384", false); err != nil {
		t.Fatalf("untrusted k2 once fetched: %v", err)
	}
}

// TestRotationsDoNotUseTheBudget: a refetch that finds its kid is free, so
// rotation after rotation keeps working within one refill interval.
func TestRotationsDoNotUseTheBudget(t *testing.T) {
	t.Parallel()
	_, pub := ecKey(t, "k0")
	f, clock, ks := newKeySet(t, pub)
	ctx := context.Background()
	if _, err := ks.Keys(ctx, "k0", "ES384", false); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		_, next := ecKey(t, fmt.Sprint("k", i))
		f.set(next, pub)
		pub = next
		clock.Add(100 * time.Millisecond)
		if _, err := ks.Keys(ctx, next.KeyID, "ES384", false); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
}

// TestStaleKeysRefetched: a key withdrawn by the provider stops verifying
// after MaxAge; a failing refresh keeps the cached keys.
func TestStaleKeysRefetched(t *testing.T) {
	t.Parallel()
	_, pub1 := ecKey(t, "k1")
	_, pub2 := ecKey(t, "k2")
	f, clock, ks := newKeySet(t, pub1)
	ctx := context.Background()
	if _, err := ks.Keys(ctx, "k1", "ES384", true); err != nil {
		t.Fatal(err)
	}
	f.fail(true)
	clock.Add(jwt.DefaultMaxAge + time.Second)
	if _, err := ks.Keys(ctx, "k1", "ES384", true); err != nil {
		t.Fatalf("stale keys while the provider fails: %v", err)
	}
	before := f.fetches.Load()
	_, _ = ks.Keys(ctx, "k1", "ES384", true)
	if got := f.fetches.Load() - before; got != 0 {
		t.Fatalf("failing refresh retried at once: %d fetches", got)
	}
	f.fail(false)
	f.set(pub2)
	clock.Add(time.Minute)
	if _, err := ks.Keys(ctx, "k1", "ES384", false); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Fatalf("withdrawn k1 after MaxAge: err = %v, want ErrUnknownKey", err)
	}
}

func TestKidAbsentSingleKey(t *testing.T) {
	t.Parallel()
	_, pub := ecKey(t, "")
	pub.Algorithm = ""
	f := newFixture(t, pub)
	if _, err := keySet(f, time.Now).Keys(context.Background(), "", "ES384", true); err != nil {
		t.Fatalf("kid-less token with single kid-less key: %v", err)
	}
}

func TestParseSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	_, pub := ecKey(t, "ok")
	b, _ := json.Marshal(pub)
	doc := `{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"XYZ"},{"kty":"EC","use":"enc","crv":"P-256","x":"x","y":"y"},` + string(b) + `]}`
	keys, err := jwt.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KeyID != "ok" {
		t.Fatalf("keys = %+v, want only the EC signing key", keys)
	}
	if _, err := jwt.Parse([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}
