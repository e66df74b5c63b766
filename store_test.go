package logto_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// countingStore wraps a Store and counts its entries' writes.
type countingStore struct {
	logto.Store
	keys map[string]bool
}

func (c *countingStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.keys[key] = true
	return c.Store.Set(ctx, key, value, ttl)
}

func TestServerSideSessions(t *testing.T) {
	t.Parallel()
	store := &countingStore{Store: logto.NewMemoryStore(), keys: map[string]bool{}}
	user := logtotest.DefaultUser()
	for i := 0; i < 300; i++ {
		user.Organizations = append(user.Organizations, "organization-with-a-long-identifier-"+strings.Repeat("x", i%10)+string(rune('a'+i%26))+time.Duration(i).String())
	}
	h := newHarness(t, withAPI(), withProvider(logtotest.WithUsers(user)), withConfig(func(c *logto.Config) {
		c.Shared = &logto.SharedState{Store: store, RefreshCoalescer: logto.NewLocalRefreshCoalescer()}
	}))
	b := h.browser()
	r := h.signIn(b, "")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
	}
	cks := h.sessionCookies(b)
	if len(cks) != 1 || len(cks[0].Value) > 300 {
		t.Fatalf("session cookies: %d, first %d bytes", len(cks), len(cks[0].Value))
	}
	for k, v := range store.keys {
		raw, _ := store.Store.Get(context.Background(), k)
		if strings.Contains(string(raw), "eyJ") || strings.Contains(string(raw), logtotest.DefaultUserID) || !v {
			t.Fatalf("store entry %s holds plaintext", k)
		}
	}
	c := h.context(b)
	if !c.IsAuthenticated || len(c.Claims["organizations"].([]any)) != 300 {
		t.Fatal("300-organization server-side session not authenticated")
	}
	// A token refresh updates the store, not the cookie.
	tok := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	if tok.StatusCode != http.StatusOK || len(tok.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("token: %d, Set-Cookie %v", tok.StatusCode, tok.Header.Values("Set-Cookie"))
	}
	if h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body != tok.body || len(h.refreshRequests()) != 1 {
		t.Fatal("cached token not kept in the store")
	}
	// A back-channel logout through the store-backed list ends it.
	if r := h.postLogout(t, h.logoutToken(t, nil, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("session survived the back-channel logout")
	}
}

func TestServerSideSessionSignOutDeletesEntry(t *testing.T) {
	t.Parallel()
	store := logto.NewMemoryStore()
	h := newHarness(t, withConfig(func(c *logto.Config) { c.SessionStore = store }))
	b := h.browser()
	h.signIn(b, "")
	cookie := cookieHeader(h.sessionCookies(b))
	b.post(h.app.URL+"/sign-out", h.app.URL)
	// Replaying the old cookie finds nothing: the entry was deleted.
	if r := rawGet(t, h.app.URL+"/api/context", cookie, ""); !strings.Contains(r.body, `"isAuthenticated":false`) {
		t.Fatalf("old cookie after sign-out: %s", r.body)
	}
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := logto.NewMemoryStore(logto.WithClock(clock.Now))
	ctx := context.Background()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, logto.ErrStoreNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	clock.Advance(time.Minute)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, logto.ErrStoreNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if err := s.Set(ctx, "k", nil, 0); err == nil {
		t.Fatal("zero TTL accepted")
	}
}

// brokenStore fails every call, like an unreachable Redis.
type brokenStore struct{}

func (brokenStore) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("dial tcp: connection refused")
}
func (brokenStore) Set(context.Context, string, []byte, time.Duration) error {
	return errors.New("dial tcp: connection refused")
}
func (brokenStore) Delete(context.Context, string) error {
	return errors.New("dial tcp: connection refused")
}

// TestSessionStoreOutage: while the store is down, requests get 503, not
// "signed out".
func TestSessionStoreOutage(t *testing.T) {
	t.Parallel()
	var broken atomic.Bool
	store := &switchStore{Store: logto.NewMemoryStore(), broken: &broken}
	h := newHarness(t, withConfig(func(c *logto.Config) {
		c.SessionStore = store
		c.InsecureProcessLocalState = true // one instance
	}))
	b := h.browser()
	h.signIn(b, "")
	broken.Store(true)
	r := b.get(h.app.URL + "/api/context")
	if r.StatusCode != http.StatusServiceUnavailable || !errors.Is(h.lastError(), logto.ErrSessionStoreUnavailable) {
		t.Fatalf("store down: %d, err %v", r.StatusCode, h.lastError())
	}
	if page := b.get(h.app.URL + "/private"); page.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("protected page with the store down: %d", page.StatusCode)
	}
	broken.Store(false)
	if !h.context(b).IsAuthenticated {
		t.Fatal("session lost during the outage")
	}
}

type switchStore struct {
	logto.Store
	broken *atomic.Bool
}

func (s *switchStore) Get(ctx context.Context, key string) ([]byte, error) {
	if s.broken.Load() {
		return brokenStore{}.Get(ctx, key)
	}
	return s.Store.Get(ctx, key)
}
