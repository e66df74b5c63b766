package logto

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sessions here are sealed cookies (or store entries) the server does not
// look up by user, so ending one after a back-channel logout means
// remembering "sessions of this sid (or, without sid, this user) that began
// before now are over" in a [RevocationList] until they would have expired
// anyway ([Config.SessionMaxAge]); every request checks its session against
// it. The same list remembers the logout tokens already accepted, so that
// none is replayed. The default list lives in memory, which suits one
// instance; several instances need a shared list ([NewStoreRevocationList])
// so each sees every logout.

// RevocationList remembers sessions ended by back-channel logout and the
// logout tokens already accepted. The [Client] builds the keys, scoped by
// issuer and App ID so that apps sharing one store end only their own
// sessions:
//
//	sid:<issuer>|<app ID>|<sid>   sessions of the Logto session sid
//	sub:<issuer>|<app ID>|<sub>   sessions of the user sub (a logout token without sid)
//	jti:<issuer>|<app ID>|<jti>   a logout token already accepted (replay protection)
//
// A session created at or before the time recorded under its sid or sub key
// is over.
type RevocationList interface {
	// Revoke records that sessions for key created up to at are over; the
	// entry may be forgotten after expires, and must not be before.
	Revoke(ctx context.Context, key string, at, expires time.Time) error
	// RevokedAt returns the time recorded for key, if any.
	RevokedAt(ctx context.Context, key string) (time.Time, bool, error)
}

// revocationKey is the RevocationList key of kind ("sid", "sub" or "jti")
// for id, scoped to this client's issuer and App ID.
func (c *Client) revocationKey(kind, id string) string {
	return kind + ":" + c.cfg.issuer + "|" + c.cfg.AppID + "|" + id
}

// isReplayKey reports whether key records a logout token's jti rather than a
// revocation.
func isReplayKey(key string) bool { return strings.HasPrefix(key, "jti:") }

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
	revokedBy := func(kind, id string) bool {
		at, ok, err := c.cfg.RevocationList.RevokedAt(ctx, c.revocationKey(kind, id))
		if err != nil {
			c.cfg.Logger.Error("logto: revocation list unavailable; treating the session as valid", "err", err.Error())
			return false
		}
		return ok && !created.After(at)
	}
	return (claims.Sid != "" && revokedBy("sid", claims.Sid)) || revokedBy("sub", claims.Sub)
}

const (
	// maxRevocations bounds the in-memory list. At the bound the replay
	// (jti) entries soonest to expire go first; sid and sub revocations are
	// never dropped, so past the bound the list grows (and warns).
	maxRevocations = 100_000
	// sweepSteps is how many expired entries of each kind an insert
	// removes at most: expired entries go in amortized steps, never in a
	// scan of the whole list under the lock every request takes.
	sweepSteps = 4
	// overflowWarnEvery spaces the warnings about a list past its bound.
	overflowWarnEvery = 10 * time.Minute
)

// memoryRevocations is the default RevocationList: in-process, expiring,
// bounded for replay entries only.
type memoryRevocations struct {
	now func() time.Time
	max int // maxRevocations; lowered by tests

	mu      sync.RWMutex
	entries map[string]revocation
	// queues hold each entry by expiry, replay entries and revocations
	// apart; an item whose entry was since extended or removed is skipped
	// when it comes out.
	queues [2]expiryQueue // [0] jti, [1] sid and sub
	pushed uint64         // items ever queued: the order among equal expiries
	warned time.Time      // the last warning about growing past max
	steps  int            // queue items taken out (tests: the work per insert)

	// revoked counts sid and sub entries, and revokedUntil (unix seconds)
	// is when the last of them expires: together the lock-free fast path
	// of a request when no revocation is live.
	revoked      atomic.Int64
	revokedUntil atomic.Int64

	// logger receives the warnings; New sets it to Config.Logger.
	logger atomic.Pointer[slog.Logger]
}

type revocation struct{ at, expires time.Time }

var _ RevocationList = (*memoryRevocations)(nil)

// NewMemoryRevocationList returns the default, in-process RevocationList.
// [WithClock] sets the clock that expires its entries.
//
// It keeps every sid and sub revocation until it expires. Beyond 100,000
// entries it forgets the logout tokens already accepted (replay protection)
// that expire first; when only revocations are left it grows past that bound
// and the Client logs a warning now and then. Apps that see more back-channel
// logouts than that per [Config.SessionMaxAge] (or that run several
// instances) should use [NewStoreRevocationList].
func NewMemoryRevocationList(opts ...StateOption) RevocationList {
	now := stateClock(opts)
	return &memoryRevocations{now: now, max: maxRevocations, entries: map[string]revocation{}}
}

// useLogger makes l log through logger, unless l is not the memory list or
// already has a logger (a list shared by several Clients).
func useLogger(l RevocationList, logger *slog.Logger) {
	if m, ok := l.(*memoryRevocations); ok {
		m.logger.CompareAndSwap(nil, logger)
	}
}

func (m *memoryRevocations) Revoke(_ context.Context, key string, at, expires time.Time) error {
	now := m.now()
	if !now.Before(expires) {
		return nil // nothing left to remember
	}
	replay := isReplayKey(key)
	m.mu.Lock()
	m.sweep(now)
	old, exists := m.entries[key]
	switch {
	case exists && now.Before(old.expires):
		if old.at.After(at) {
			at = old.at
		}
		if old.expires.After(expires) {
			expires = old.expires
		}
	case !exists && len(m.entries) >= m.max:
		m.dropReplay()
	}
	m.entries[key] = revocation{at: at, expires: expires}
	if !exists || !expires.Equal(old.expires) {
		m.pushed++
		heap.Push(m.queue(replay), expiring{key: key, expires: expires, seq: m.pushed})
	}
	if !replay {
		if !exists {
			m.revoked.Add(1)
		}
		if until := expires.Unix() + 1; until > m.revokedUntil.Load() {
			m.revokedUntil.Store(until)
		}
	}
	n, warn := len(m.entries), false
	if n > m.max && now.Sub(m.warned) >= overflowWarnEvery {
		m.warned, warn = now, true
	}
	m.mu.Unlock()
	if logger := m.logger.Load(); warn && logger != nil {
		logger.Warn("logto: in-memory revocation list past its bound, keeping every back-channel logout until it expires; use NewStoreRevocationList for this many logouts",
			"entries", n, "bound", m.max)
	}
	return nil
}

func (m *memoryRevocations) RevokedAt(_ context.Context, key string) (time.Time, bool, error) {
	now := m.now()
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return time.Time{}, false, nil
	}
	return e.at, true, nil
}

// empty reports, without the lock, that no sid or sub revocation is live.
func (m *memoryRevocations) empty() bool {
	return m.revoked.Load() == 0 || m.now().Unix() >= m.revokedUntil.Load()
}

func (m *memoryRevocations) queue(replay bool) *expiryQueue {
	if replay {
		return &m.queues[0]
	}
	return &m.queues[1]
}

// sweep removes up to sweepSteps expired entries of each kind. m.mu is held.
func (m *memoryRevocations) sweep(now time.Time) {
	for i := range m.queues {
		q := &m.queues[i]
		for n := 0; n < sweepSteps && q.Len() > 0 && !now.Before((*q)[0].expires); n++ {
			m.forget(q.pop())
		}
	}
}

// dropReplay forgets the replay entry that expires first. m.mu is held.
func (m *memoryRevocations) dropReplay() {
	for q := &m.queues[0]; q.Len() > 0; {
		if m.forget(q.pop()) {
			return
		}
	}
}

// forget removes the entry it stands for, unless the entry was since
// extended or removed, and reports whether it did. m.mu is held.
func (m *memoryRevocations) forget(it expiring) bool {
	m.steps++
	e, ok := m.entries[it.key]
	if !ok || !e.expires.Equal(it.expires) {
		return false
	}
	delete(m.entries, it.key)
	if !isReplayKey(it.key) {
		m.revoked.Add(-1)
	}
	return true
}

// expiryQueue is a min-heap ([container/heap]) of keys by expiry, then by
// age.
type expiryQueue []expiring

type expiring struct {
	key     string
	expires time.Time
	seq     uint64
}

func (q expiryQueue) Len() int { return len(q) }
func (q expiryQueue) Less(i, j int) bool {
	if !q[i].expires.Equal(q[j].expires) {
		return q[i].expires.Before(q[j].expires)
	}
	return q[i].seq < q[j].seq
}
func (q expiryQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)   { *q = append(*q, x.(expiring)) }
func (q *expiryQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = expiring{}
	*q = old[:len(old)-1]
	return it
}

func (q *expiryQueue) pop() expiring { return heap.Pop(q).(expiring) }

// storeRevocations is a RevocationList kept in a Store.
type storeRevocations struct {
	store Store
	now   func() time.Time
}

// NewStoreRevocationList keeps back-channel logouts in store, under keys
// starting with "logto:revoked:" and scoped by issuer and App ID (see
// [RevocationList]), so every instance sharing it sees them and apps can
// share one store. It has no bound of its own: each entry expires with the
// store's TTL, so use it too when one instance sees more logouts than the
// in-memory list holds ([NewMemoryRevocationList]). [WithClock] sets the
// clock of their TTLs.
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
