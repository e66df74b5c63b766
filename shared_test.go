package logto_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// remoteStore stands for a store shared by several instances (Redis, SQL):
// any Store that New cannot tell is in-process. It records the keys written.
type remoteStore struct {
	logto.Store
	mu   sync.Mutex
	keys []string
}

func newRemoteStore() *remoteStore { return &remoteStore{Store: logto.NewMemoryStore()} }

func (s *remoteStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.Store.Set(ctx, key, value, ttl)
}

func (s *remoteStore) wrote(prefix string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// countingCoalescer counts the refreshes it is asked to coalesce.
type countingCoalescer struct {
	logto.RefreshCoalescer
	calls atomic.Int32
}

func (c *countingCoalescer) Do(ctx context.Context, key string, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	c.calls.Add(1)
	return c.RefreshCoalescer.Do(ctx, key, refresh)
}

// TestNewRefusesHalfSharedState: a store shared by several instances left
// with the in-process revocation list or refresh coalescer is refused, with
// the field to set; Shared, explicit shared parts, an in-process store or
// InsecureProcessLocalState are accepted.
func TestNewRefusesHalfSharedState(t *testing.T) {
	t.Parallel()
	remote := newRemoteStore()
	for _, tc := range []struct {
		name  string
		edit  func(*logto.Config)
		field string // "" = accepted
	}{
		{"store alone", func(c *logto.Config) { c.SessionStore = remote }, "RevocationList"},
		{"store and revocation list", func(c *logto.Config) {
			c.SessionStore, c.RevocationList = remote, logto.NewStoreRevocationList(remote)
		}, "RefreshCoalescer"},
		{"store and coalescer", func(c *logto.Config) {
			c.SessionStore, c.RefreshCoalescer = remote, logto.NewLocalRefreshCoalescer()
		}, "RevocationList"},
		{"Shared without coalescer", func(c *logto.Config) { c.Shared = &logto.SharedState{Store: remote} }, "Shared.RefreshCoalescer"},
		{"Shared without store", func(c *logto.Config) { c.Shared = &logto.SharedState{} }, "Shared.Store"},
		{"Shared and SessionStore", func(c *logto.Config) {
			c.Shared = &logto.SharedState{Store: remote, RefreshCoalescer: logto.NewLocalRefreshCoalescer()}
			c.SessionStore = remote
		}, "Shared"},

		{"all three", func(c *logto.Config) {
			c.SessionStore, c.RevocationList, c.RefreshCoalescer = remote, logto.NewStoreRevocationList(remote), logto.NewLocalRefreshCoalescer()
		}, ""},
		{"Shared", func(c *logto.Config) {
			c.Shared = &logto.SharedState{Store: remote, RefreshCoalescer: logto.NewLocalRefreshCoalescer()}
		}, ""},
		{"memory store", func(c *logto.Config) { c.SessionStore = logto.NewMemoryStore() }, ""},
		{"Shared memory store", func(c *logto.Config) { c.Shared = &logto.SharedState{Store: logto.NewMemoryStore()} }, ""},
		{"InsecureProcessLocalState", func(c *logto.Config) { c.SessionStore, c.InsecureProcessLocalState = remote, true }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.edit(&cfg)
			_, err := logto.New(cfg)
			var ce *logto.ConfigError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field):
				t.Fatalf("err = %v, want a ConfigError for %s", err, tc.field)
			}
		})
	}
}

// TestSharedStateProvidesAllThree: two instances built from one SharedState
// keep sessions in its store, refresh through its coalescer, and share
// back-channel logouts: a logout delivered to one instance ends the session
// on the other.
func TestSharedStateProvidesAllThree(t *testing.T) {
	t.Parallel()
	store := newRemoteStore()
	coalescer := &countingCoalescer{RefreshCoalescer: logto.NewLocalRefreshCoalescer()}
	shared := &logto.SharedState{Store: store, RefreshCoalescer: coalescer}
	h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.Shared = shared }))
	other := h.secondInstance(t, shared, new(atomic.Int32))

	b := h.browser()
	h.signIn(b, "")
	if !store.wrote("logto:session:") {
		t.Fatal("no session written to the shared store")
	}
	if r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", r.StatusCode, r.body)
	}
	if coalescer.calls.Load() == 0 {
		t.Fatal("the refresh did not go through the shared coalescer")
	}

	req, _ := http.NewRequest(http.MethodPost, other.URL+"/backchannel-logout",
		strings.NewReader(url.Values{"logout_token": {h.logoutToken(t, nil, nil)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := (&browser{t: t, c: http.DefaultClient}).do(req); r.StatusCode != http.StatusOK {
		t.Fatalf("logout on the other instance: %d %s", r.StatusCode, r.body)
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("a logout delivered to the other instance left the session alive")
	}
}
