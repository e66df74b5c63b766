package logto

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Store keeps small values with a time to live, shared by every instance of
// an app: server-side sessions ([Config.SessionStore]) and back-channel
// logouts ([NewStoreRevocationList]). Session values are sealed (encrypted and
// authenticated) by this package, so a store never sees a token in clear;
// revocation entries are plain timestamps, so whoever can write to the store
// can end sessions (not forge them): protect it like any session database.
// While the store is unreachable, reading a session fails with
// ErrSessionStoreUnavailable (503) rather than looking signed out.
// Implementations must be safe for concurrent use; run storetest.Run on
// yours. Implement [AtomicAdder] too when several instances share the store,
// so that they redeem each sign-in's code once. The Redis implementation
// lives in package redisstore.
type Store interface {
	// Get returns the value for key, or an error matching ErrStoreNotFound
	// when it is absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (> 0), replacing any earlier value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrStoreNotFound: the key is absent or expired.
var ErrStoreNotFound = errors.New("logto: not found in store")

// AtomicAdder is implemented by a [Store] that can add a key only if it is
// absent, as one atomic step for every instance sharing the store (Redis
// SET NX, memcached add, SQL INSERT with a unique key).
//
// When [Config.SessionStore] implements it, [Client.HandleSignIn] claims
// each sign-in's state there (under a key starting with "logto:state:")
// before it redeems the authorization code, so that of several instances
// receiving the same callback only one redeems the code. A store without it
// still works: each instance redeems a code at most once, but two instances
// that receive the same callback at once (a browser retrying through a load
// balancer) can both redeem it, and Logto then revokes the grant, so the
// user is signed out at the next token refresh. Use a store that implements
// AtomicAdder, or sticky sessions, when running several instances.
type AtomicAdder interface {
	// AddIfAbsent stores value under key for ttl (> 0) and reports true when
	// key is absent or expired; when key holds a live value it changes
	// nothing and reports false.
	AddIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (added bool, err error)
}

// memoryStore is the in-process Store.
type memoryStore struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]memoryEntry
	writes  int
}

type memoryEntry struct {
	value   []byte
	expires time.Time
}

var _ AtomicAdder = (*memoryStore)(nil)

// NewMemoryStore returns an in-process Store, for tests and single-instance
// apps; it implements [AtomicAdder] too. Its entries expire by the clock of
// [WithClock].
func NewMemoryStore(opts ...StateOption) Store {
	return &memoryStore{now: stateClock(opts), entries: map[string]memoryEntry{}}
}

func (m *memoryStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.expires) {
		return nil, ErrStoreNotFound
	}
	return append([]byte(nil), e.value...), nil
}

func (m *memoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("logto: store TTL must be positive")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(key, value, ttl, m.now())
	return nil
}

func (m *memoryStore) AddIfAbsent(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("logto: store TTL must be positive")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.entries[key]; ok && now.Before(e.expires) {
		return false, nil
	}
	m.setLocked(key, value, ttl, now)
	return true, nil
}

func (m *memoryStore) setLocked(key string, value []byte, ttl time.Duration, now time.Time) {
	if m.writes++; m.writes%1024 == 0 { // sweep now and then: bounded by live entries
		for k, e := range m.entries {
			if !now.Before(e.expires) {
				delete(m.entries, k)
			}
		}
	}
	m.entries[key] = memoryEntry{value: append([]byte(nil), value...), expires: now.Add(ttl)}
}

func (m *memoryStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}
