package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/logto-go/logto"
)

// Store is a [logto.Store] in Redis: GET, SET key value PX ttl, and DEL.
// It is also a [logto.AtomicAdder] (SET key value PX ttl NX), so that app
// instances sharing it redeem each sign-in's code once. It is safe for
// concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var (
	_ logto.Store       = (*Store)(nil)
	_ logto.AtomicAdder = (*Store)(nil)
)

// Option configures [New].
type Option func(*Store)

// WithKeyPrefix puts prefix before every key, e.g. "myapp:" to keep the
// SDK's keys apart from other data. Default: none. Apps with different App
// IDs need none to share a database: the SDK's keys start with "logto:" and
// are scoped by App ID (see the package documentation).
func WithKeyPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// New returns a Store using client, which the caller keeps and closes.
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("redisstore: New with a nil client")
	}
	s := &Store{client: client}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Get returns the value of key, or an error matching [logto.ErrStoreNotFound]
// when it is absent or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, logto.ErrStoreNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: GET: %w", err)
	}
	return v, nil
}

// Set stores value under key for ttl, which must be positive. Redis keeps
// TTLs in milliseconds: a TTL that is not a whole number of milliseconds is
// rounded up.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redisstore: SET: TTL must be positive, got %v", ttl)
	}
	if value == nil {
		value = []byte{} // go-redis would send nil as the string ""; be explicit
	}
	if err := s.client.Set(ctx, s.prefix+key, value, roundUpMs(ttl)).Err(); err != nil {
		return fmt.Errorf("redisstore: SET: %w", err)
	}
	return nil
}

// AddIfAbsent stores value under key for ttl, which must be positive, only
// if key is absent (SET NX), and reports whether it did. TTLs are rounded up
// to milliseconds as in [Store.Set].
func (s *Store) AddIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redisstore: SET NX: TTL must be positive, got %v", ttl)
	}
	if value == nil {
		value = []byte{}
	}
	added, err := s.client.SetNX(ctx, s.prefix+key, value, roundUpMs(ttl)).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: SET NX: %w", err)
	}
	return added, nil
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: DEL: %w", err)
	}
	return nil
}

// roundUpMs rounds d up to a whole number of milliseconds, the unit of PX.
func roundUpMs(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}
