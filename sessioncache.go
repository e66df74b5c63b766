package logto

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sessionCache remembers the cookie sessions this Client opened and
// verified, by their exact sealed bytes, so that a repeat request (the same
// browser loading another page) skips base64, the MAC check, decryption and
// claims parsing. A hit needs the whole key to be equal, byte for byte (a
// Go map compares string keys in full): never a prefix or a hash alone.
//
// What depends on time or shared state is not cached: sessions.load checks
// the lifetimes, requestSession.load the revocation list, and the Context
// the ID token's expiry, on every request. Entries are bounded by bytes
// (CLOCK eviction per shard), dropped when their session is rewritten or
// ends, and never outlive the session's absolute lifetime. A Client with
// other secrets has its own, empty cache, so a removed secret opens nothing.
// Cached sessions are shared read-only: a request copies one before
// changing it (requestSession.own).
type sessionCache struct {
	seed        maphash.Seed
	shardBudget int64
	shards      [cacheShards]cacheShard
}

// cacheShards spreads the locks: hits take one shard's read lock.
const cacheShards = 16

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	ring    []*cacheEntry // CLOCK order
	hand    int
	bytes   int64
}

// cacheEntry is one verified session. Every field is set before the entry
// is published and never written afterwards, except the CLOCK bit.
type cacheEntry struct {
	key     string
	sess    *session // read-only
	stale   bool     // opened with a previous secret: re-seal on use
	expires int64    // unix seconds: the session's absolute lifetime
	size    int64
	pos     int // index in the shard's ring; under the shard's lock
	used    atomic.Bool
}

// entryOverhead approximates the bookkeeping and the session value around
// the byte slices an entry holds.
const entryOverhead = 768

func newSessionCache(bytes int64) *sessionCache {
	if bytes <= 0 {
		return nil
	}
	c := &sessionCache{seed: maphash.MakeSeed(), shardBudget: bytes / cacheShards}
	for i := range c.shards {
		c.shards[i].entries = map[string]*cacheEntry{}
	}
	return c
}

func (c *sessionCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// get returns the entry for exactly key, or nil. An entry past the
// session's absolute lifetime is dropped.
func (c *sessionCache) get(key string, now time.Time) *cacheEntry {
	s := c.shard(key)
	s.mu.RLock()
	e := s.entries[key]
	s.mu.RUnlock()
	if e == nil {
		return nil
	}
	if now.Unix() >= e.expires {
		c.remove(key)
		return nil
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e
}

// put remembers sess, opened from exactly key (stale: with a previous
// secret). The caller must not change sess afterwards.
func (c *sessionCache) put(key string, sess *session, stale bool) {
	// A copy: the key is a substring of the request's Cookie header, which
	// may hold much more than the session (and must not stay in memory).
	key = strings.Clone(key)
	e := &cacheEntry{
		key: key, sess: sess, stale: stale, expires: sess.ExpiresAt,
		size: int64(len(key)+2*len(sess.idPayload)+len(sess.rest)+len(sess.defaultScope)) + entryOverhead,
	}
	if e.size > c.shardBudget {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[key]; ok {
		return
	}
	for s.bytes+e.size > c.shardBudget && len(s.ring) > 0 {
		s.evictOne()
	}
	e.pos = len(s.ring)
	s.ring = append(s.ring, e)
	s.entries[key] = e
	s.bytes += e.size
}

// evictOne drops the first entry the CLOCK hand finds unused since its last
// pass; s.mu is held.
func (s *cacheShard) evictOne() {
	for {
		if s.hand >= len(s.ring) {
			s.hand = 0
		}
		e := s.ring[s.hand]
		if e.used.Load() {
			e.used.Store(false)
			s.hand++
			continue
		}
		s.removeLocked(e)
		return
	}
}

// removeLocked takes e out of the map and the ring; s.mu is held.
func (s *cacheShard) removeLocked(e *cacheEntry) {
	delete(s.entries, e.key)
	last := len(s.ring) - 1
	moved := s.ring[last]
	s.ring[e.pos], moved.pos = moved, e.pos
	s.ring[last] = nil
	s.ring = s.ring[:last]
	s.bytes -= e.size
}

// remove forgets key (a session rewritten or ended).
func (c *sessionCache) remove(key string) {
	if c == nil || key == "" {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		s.removeLocked(e)
	}
}

// len counts the entries (for tests).
func (c *sessionCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
