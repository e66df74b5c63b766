package logto

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// Sessions here are sealed cookies the server does not keep, so ending one
// means remembering "sessions of this sid (or, without sid, this user) that
// began before now are over" in a [RevocationList] until they would have
// expired anyway ([Config.SessionMaxAge]); every request checks its session
// against it. The default list lives in memory, which suits one instance;
// several instances need a shared list (e.g. in Redis) so each sees every
// logout. Entries are small (a key and a time) and expire, so the list holds
// at most the logouts of one SessionMaxAge.

// RevocationList remembers ended sessions. Keys are "sid:<sid>" or
// "sub:<sub>"; a session created at or before the recorded time is over.
type RevocationList interface {
	// Revoke records that sessions for key created up to at are over; the
	// entry may be forgotten after expires.
	Revoke(ctx context.Context, key string, at, expires time.Time) error
	// RevokedAt returns the time recorded for key, if any.
	RevokedAt(ctx context.Context, key string) (time.Time, bool, error)
}

// maxRevocations bounds the in-memory list: beyond it the oldest entries go.
const maxRevocations = 100_000

// memoryRevocations is the default RevocationList: in-process, bounded,
// expiring. It also remembers logout token jti values (replay protection).
type memoryRevocations struct {
	mu      sync.Mutex
	entries map[string]revocation
	now     func() time.Time
}

type revocation struct{ at, expires time.Time }

// NewMemoryRevocationList returns the default, in-process RevocationList.
// now may be nil (time.Now).
func NewMemoryRevocationList(now func() time.Time) RevocationList {
	if now == nil {
		now = time.Now
	}
	return &memoryRevocations{entries: map[string]revocation{}, now: now}
}

func (m *memoryRevocations) Revoke(_ context.Context, key string, at, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.entries) >= maxRevocations {
		for k, e := range m.entries {
			if !now.Before(e.expires) {
				delete(m.entries, k)
			}
		}
	}
	for k := range m.entries { // still full of live entries: drop arbitrary ones
		if len(m.entries) < maxRevocations {
			break
		}
		delete(m.entries, k)
	}
	if old, ok := m.entries[key]; ok && old.at.After(at) {
		at = old.at
	}
	m.entries[key] = revocation{at: at, expires: expires}
	return nil
}

func (m *memoryRevocations) empty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries) == 0
}

func (m *memoryRevocations) RevokedAt(_ context.Context, key string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || !m.now().Before(e.expires) {
		return time.Time{}, false, nil
	}
	return e.at, true, nil
}

// sessionRevoked reports whether a back-channel logout ended sess.
func (c *Client) sessionRevoked(ctx context.Context, sess *session) bool {
	if m, ok := c.cfg.RevocationList.(*memoryRevocations); ok && m.empty() {
		return false // the common case, without building keys
	}
	claims := sess.identity()
	if claims.Sub == "" {
		return true
	}
	created := time.UnixMilli(sess.CreatedAt)
	for _, key := range []string{"sid:" + claims.Sid, "sub:" + claims.Sub} {
		if key == "sid:" {
			continue
		}
		at, ok, err := c.cfg.RevocationList.RevokedAt(ctx, key)
		if err != nil {
			c.cfg.Logger.Error("logto: revocation list unavailable; treating the session as valid", "err", err.Error())
			continue
		}
		if ok && !created.After(at) {
			return true
		}
	}
	return false
}

// storeRevocations is a RevocationList kept in a Store.
type storeRevocations struct {
	store Store
	now   func() time.Time
}

// NewStoreRevocationList keeps back-channel logouts in store, so every
// instance sharing it sees them. now may be nil (time.Now).
func NewStoreRevocationList(store Store, now func() time.Time) RevocationList {
	if now == nil {
		now = time.Now
	}
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
