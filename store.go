package logto

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/logto-go/logto/internal/seal"
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

// storeRevocations is a RevocationList kept in a Store.
type storeRevocations struct {
	store Store
	now   func() time.Time
}

// NewStoreRevocationList keeps back-channel logouts in store, so every
// instance sharing it sees them. [WithClock] sets the clock of their TTLs.
func NewStoreRevocationList(store Store, opts ...StateOption) RevocationList {
	now := stateClock(opts)
	return &storeRevocations{store: store, now: now}
}

func (s *storeRevocations) Revoke(ctx context.Context, key string, at, expires time.Time) error {
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	if old, ok, err := s.RevokedAt(ctx, key); err == nil && ok && old.After(at) {
		at = old
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(at.UnixNano()))
	return s.store.Set(ctx, "logto:revoked:"+key, b[:], ttl)
}

func (s *storeRevocations) RevokedAt(ctx context.Context, key string) (time.Time, bool, error) {
	v, err := s.store.Get(ctx, "logto:revoked:"+key)
	if errors.Is(err, ErrStoreNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	if len(v) != 8 {
		return time.Time{}, false, errors.New("logto: corrupt revocation entry")
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), true, nil
}

// serverStore keeps sessions in a Store; the cookie holds only a sealed,
// random session ID. The stored value is sealed too, with the session key
// and the store key under the MAC, so a store leak reveals no token.
type serverStore struct {
	store    Store
	codec    *seal.Codec  // seals session records in the store
	pointers *seal.Codec  // seals the session ID cookie
	cookie   *cookieStore // the cookie it lives in
	prefix   string
	now      func() time.Time
}

type sessionPointer struct {
	ID string `json:"id"`
}

func newServerStore(cfg *settings, cookies *cookieStore) (*serverStore, error) {
	codec, err := seal.NewBinary(cfg.cookieSecrets, "stored-session|"+cfg.AppID, cfg.SessionMaxAge)
	if err != nil {
		return nil, err
	}
	pointers, err := seal.New(cfg.cookieSecrets, "session-pointer|"+cfg.AppID, cfg.SessionMaxAge)
	if err != nil {
		return nil, err
	}
	return &serverStore{store: cfg.SessionStore, codec: codec, pointers: pointers, cookie: cookies, prefix: "logto:session:" + cfg.AppID + ":", now: cfg.Now}, nil
}

// key hashes the session ID: the store never learns a cookie's ID.
func (s *serverStore) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.prefix + hex.EncodeToString(sum[:])
}

func (s *serverStore) pointer(r *http.Request) (string, error) {
	raw := s.cookie.cookie.Read(r)
	if raw == "" {
		if s.cookie.cookie.Present(r) {
			return "", errBadSession
		}
		return "", errNoSession
	}
	var p sessionPointer
	if err := s.pointers.Open(s.cookie.cookie.Base.Name, raw, &p); err != nil || p.ID == "" {
		return "", errBadSession
	}
	return p.ID, nil
}

func (s *serverStore) Load(r *http.Request) (*session, error) {
	id, err := s.pointer(r)
	if err != nil {
		return nil, err
	}
	key := s.key(id)
	v, err := s.store.Get(r.Context(), key)
	if errors.Is(err, ErrStoreNotFound) {
		return nil, errBadSession
	}
	if err != nil {
		return nil, err
	}
	var record []byte
	if err := s.codec.Open(key, string(v), &record); err != nil {
		return nil, errBadSession
	}
	sess, err := decodeSession(record)
	if err != nil || !s.cookie.alive(sess) {
		return nil, errBadSession
	}
	sess.storeID = id
	return sess, nil
}

func (s *serverStore) Save(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.storeID == "" {
		// A new session (sign-in): never reuse an ID from the request.
		sealed, err := s.sealNew(r.Context(), sess)
		if err != nil {
			return err
		}
		if err := s.writeNew(w, r, sealed); err != nil {
			return err
		}
		sess.storeID = sealed.id
		return nil
	}
	return s.put(r.Context(), sess.storeID, sess)
}

// put stores sess under the session ID id.
func (s *serverStore) put(ctx context.Context, id string, sess *session) error {
	sess.Version = sessionVersion
	sess.SeenAt = s.now().Unix()
	ttl := time.Unix(sess.ExpiresAt, 0).Sub(s.now())
	if ttl <= 0 {
		return errors.New("logto: session already expired")
	}
	key := s.key(id)
	record, err := encodeSession(sess)
	if err != nil {
		return err
	}
	v, err := s.codec.Seal(key, record)
	if err != nil {
		return tooLarge(err)
	}
	return s.store.Set(ctx, key, []byte(v), ttl)
}

// sealNew stores sess under a new random ID and seals the pointer to it.
func (s *serverStore) sealNew(ctx context.Context, sess *session) (*sealedSession, error) {
	id := randomToken()
	if err := s.put(ctx, id, sess); err != nil {
		return nil, err
	}
	ptr, err := s.pointers.Seal(s.cookie.cookie.Base.Name, sessionPointer{ID: id})
	if err != nil {
		return nil, err
	}
	return &sealedSession{value: ptr, id: id}, nil
}

// writeNew points the browser at the new session and forgets the one it
// replaces.
func (s *serverStore) writeNew(w http.ResponseWriter, r *http.Request, sealed *sealedSession) error {
	if old, err := s.pointer(r); err == nil && old != sealed.id {
		_ = s.store.Delete(r.Context(), s.key(old))
	}
	return tooLarge(s.cookie.cookie.Write(w, r, sealed.value))
}

func (s *serverStore) Delete(w http.ResponseWriter, r *http.Request) {
	if id, err := s.pointer(r); err == nil {
		// On failure the cookie is cleared anyway and the entry expires.
		_ = s.store.Delete(r.Context(), s.key(id))
	}
	s.cookie.Delete(w, r)
}
