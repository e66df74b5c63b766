package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/logto-go/logto"
)

// Defaults of [NewRefreshCoalescer].
const (
	// DefaultResultTTL is how long a refresh result is handed to callers that
	// ask for the same refresh afterwards, like the SDK's in-process coalescer.
	DefaultResultTTL = 10 * time.Second
	// DefaultLockTTL bounds how long a crashed lock owner blocks the others.
	// It exceeds the SDK's default 10 s HTTP timeout, so a live owner's token
	// request ends before its lock expires.
	DefaultLockTTL = 15 * time.Second
	// DefaultPollInterval is how often waiters look for the owner's result.
	DefaultPollInterval = 25 * time.Millisecond
	// DefaultKeyPrefix starts the coalescer's keys.
	DefaultKeyPrefix = "logto:refresh:"
)

// maxOwnerFailures bounds how many lock owners a waiter watches fail (their
// lock vanishes without a result) before it gives up.
const maxOwnerFailures = 3

// CoalescerOption configures [NewRefreshCoalescer].
type CoalescerOption func(*coalescer)

// WithResultTTL sets how long a refresh result stays in Redis for later
// callers. Default [DefaultResultTTL]. Keep it short: the result carries
// the (sealed) tokens of the refresh, and a session's next request already
// carries the new refresh token.
func WithResultTTL(d time.Duration) CoalescerOption {
	return func(c *coalescer) { c.resultTTL = d }
}

// WithLockTTL sets the lifetime of the lock a refreshing instance holds:
// how long the others wait when that instance dies mid-refresh. Default
// [DefaultLockTTL]; keep it above the SDK's HTTP timeout
// ([logto.Config.HTTPClient]), or a slow refresh may lose its lock and
// another instance refresh too.
func WithLockTTL(d time.Duration) CoalescerOption {
	return func(c *coalescer) { c.lockTTL = d }
}

// WithPollInterval sets how often a waiting instance checks for the owner's
// result. Default [DefaultPollInterval].
func WithPollInterval(d time.Duration) CoalescerOption {
	return func(c *coalescer) { c.poll = d }
}

// WithCoalescerKeyPrefix replaces [DefaultKeyPrefix]; the keys are
// prefix+"lock:"+key and prefix+"result:"+key.
func WithCoalescerKeyPrefix(prefix string) CoalescerOption {
	return func(c *coalescer) { c.prefix = prefix }
}

// WithClock sets the clock that, besides Redis's own TTL, bounds the reuse of
// a result: a result is reused only while now() is within the result TTL of
// the time the refreshing instance stored it. Give it the SDK's
// [logto.Config.Now]. Default (or nil) time.Now.
func WithClock(now func() time.Time) CoalescerOption {
	return func(c *coalescer) { c.now = now }
}

// WithLogger receives Redis failures (the coalescer then refreshes without
// coordination, see [NewRefreshCoalescer]). It never receives a key, token or
// result. nil discards.
func WithLogger(l *slog.Logger) CoalescerOption {
	return func(c *coalescer) { c.logger = l }
}

type coalescer struct {
	client    redis.UniversalClient
	group     singleflight.Group
	resultTTL time.Duration
	lockTTL   time.Duration
	poll      time.Duration
	prefix    string
	logger    *slog.Logger
	now       func() time.Time
}

var _ logto.RefreshCoalescer = (*coalescer)(nil)

// NewRefreshCoalescer returns a [logto.RefreshCoalescer] that makes every
// instance sharing the Redis behind client agree on one token request per
// refresh, for [logto.Config.RefreshCoalescer]:
//
//  1. Within a process, concurrent callers with one key share one attempt
//     (singleflight), as with [logto.NewLocalRefreshCoalescer].
//  2. A result stored by any instance within the last 10 seconds
//     ([WithResultTTL], measured by Redis and by [WithClock]) is returned as
//     is.
//  3. Otherwise the instance tries to take a lock (SET NX PX, 15 s,
//     [WithLockTTL], with a random owner token). The owner runs the refresh,
//     stores its result (SET PX), then releases the lock if it still owns it
//     (a Lua compare-and-delete).
//  4. The others poll ([WithPollInterval]) until the result appears and
//     return it. When the lock disappears without a result, its owner failed
//     or died: they try to take the lock themselves, so one of them refreshes;
//     after watching 3 owners fail they give up with an error matching
//     [logto.ErrProviderUnavailable].
//
// An owner's refresh error goes to the callers in its own process only: it is
// never stored (errors do not cross processes), and another instance's
// callers retry as in 4. A caller whose context ends stops waiting; the
// attempt it shares goes on for the others.
//
// Result values are what refresh returned: the SDK seals them, so Redis sees
// no token in clear.
//
// Redis failures are not the user's: when a Redis command fails (Redis down,
// timeout), the coalescer logs it ([WithLogger]) and runs the refresh in this
// process without coordination, rather than failing the request. The
// trade-off: while Redis is unreachable, instances no longer agree with each
// other (each still makes one request per key for its own callers), so
// concurrent refreshes on several instances may each reach Logto. That is
// usually harmless: Logto rotates a Traditional app's refresh token only late
// in its life, and accepts the replay of a rotated one within 3 seconds.
// Only a replay later than that makes Logto revoke the grant and end the
// session. Failing the refreshes instead would fail every request that needs
// a new access token for as long as Redis is down.
func NewRefreshCoalescer(client redis.UniversalClient, opts ...CoalescerOption) logto.RefreshCoalescer {
	if client == nil {
		panic("redisstore: NewRefreshCoalescer with a nil client")
	}
	c := &coalescer{
		client:    client,
		resultTTL: DefaultResultTTL,
		lockTTL:   DefaultLockTTL,
		poll:      DefaultPollInterval,
		prefix:    DefaultKeyPrefix,
	}
	for _, o := range opts {
		o(c)
	}
	if c.resultTTL <= 0 {
		c.resultTTL = DefaultResultTTL
	}
	if c.lockTTL <= 0 {
		c.lockTTL = DefaultLockTTL
	}
	if c.poll <= 0 {
		c.poll = DefaultPollInterval
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Do runs refresh at most once across every instance for concurrent callers
// with key, and hands its result to all of them.
func (c *coalescer) Do(ctx context.Context, key string, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	// Detached: the first caller going away must not fail the others.
	shared := context.WithoutCancel(ctx)
	ch := c.group.DoChan(key, func() (any, error) {
		return c.coordinate(shared, key, refresh)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// coordinate is one process's attempt, shared by its callers with key.
func (c *coalescer) coordinate(ctx context.Context, key string, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	resultKey, lockKey := c.prefix+"result:"+key, c.prefix+"lock:"+key
	failures := 0
	for {
		v, found, err := c.result(ctx, resultKey)
		if err != nil {
			return c.uncoordinated(ctx, "GET result", err, refresh)
		}
		if found {
			return v, nil
		}
		owner := randomOwner()
		ok, err := c.client.SetNX(ctx, lockKey, owner, roundUpMs(c.lockTTL)).Result()
		if err != nil {
			return c.uncoordinated(ctx, "SET NX lock", err, refresh)
		}
		if ok {
			return c.own(ctx, resultKey, lockKey, owner, refresh)
		}
		v, found, err = c.wait(ctx, resultKey, lockKey)
		if err != nil {
			return c.uncoordinated(ctx, "waiting for the lock owner", err, refresh)
		}
		if found {
			return v, nil
		}
		// The lock vanished without a result: its owner failed or died.
		if failures++; failures >= maxOwnerFailures {
			return nil, fmt.Errorf("redisstore: gave up after %d other instances' refreshes ended without a result: %w", failures, logto.ErrProviderUnavailable)
		}
	}
}

// own runs refresh while holding the lock.
func (c *coalescer) own(ctx context.Context, resultKey, lockKey, owner string, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	defer c.release(ctx, lockKey, owner)
	// An owner may have stored its result and released the lock between our
	// look at the result and our SET NX.
	if v, found, err := c.result(ctx, resultKey); err == nil && found {
		return v, nil
	}
	v, err := refresh(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.client.Set(ctx, resultKey, c.encode(v), roundUpMs(c.resultTTL)).Err(); err != nil {
		// The callers here have their result; the waiters elsewhere will see
		// the lock go without one and refresh again.
		c.logger.Warn("redisstore: could not store a refresh result for other instances", "err", err.Error())
	}
	return v, nil
}

// releaseScript deletes the lock only if it still holds this owner's token:
// a lock that expired and was taken by another instance is not ours to drop.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (c *coalescer) release(ctx context.Context, lockKey, owner string) {
	if err := releaseScript.Run(ctx, c.client, []string{lockKey}, owner).Err(); err != nil {
		c.logger.Warn("redisstore: could not release a refresh lock; it expires by itself", "err", err.Error(), "lock_ttl", c.lockTTL)
	}
}

// wait polls until the result appears (found), the lock disappears without a
// result (!found), or Redis fails. The lock's TTL bounds the wait.
func (c *coalescer) wait(ctx context.Context, resultKey, lockKey string) ([]byte, bool, error) {
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		<-t.C
		v, found, err := c.result(ctx, resultKey)
		if err != nil || found {
			return v, found, err
		}
		// The owner stores its result before it releases the lock, so once
		// the lock is gone a result, if any, is visible: look once more.
		n, err := c.client.Exists(ctx, lockKey).Result()
		if err != nil {
			return nil, false, err
		}
		if n == 0 {
			return c.result(ctx, resultKey)
		}
	}
}

// result reads a stored refresh result that is still fresh by c.now.
func (c *coalescer) result(ctx context.Context, resultKey string) ([]byte, bool, error) {
	raw, err := c.client.Get(ctx, resultKey).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, ok := c.decode(raw)
	return v, ok, nil
}

// A stored result is the time it stops being reused (Unix nanoseconds by the
// storing instance's clock, big-endian) followed by the sealed bytes.
func (c *coalescer) encode(v []byte) []byte {
	out := make([]byte, 8, 8+len(v))
	binary.BigEndian.PutUint64(out, uint64(c.now().Add(c.resultTTL).UnixNano()))
	return append(out, v...)
}

func (c *coalescer) decode(raw []byte) ([]byte, bool) {
	if len(raw) < 8 {
		return nil, false // not ours: refresh over it
	}
	until := time.Unix(0, int64(binary.BigEndian.Uint64(raw)))
	if !c.now().Before(until) {
		return nil, false
	}
	return raw[8:], true
}

// uncoordinated runs refresh locally after a Redis failure.
func (c *coalescer) uncoordinated(ctx context.Context, op string, err error, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	c.logger.Warn("redisstore: Redis failed; refreshing without coordinating with other instances", "op", op, "err", err.Error())
	return refresh(ctx)
}

func randomOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
