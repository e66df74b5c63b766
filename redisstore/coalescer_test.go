package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/redisstore"
)

// counted is a refresh function that counts its calls, takes delay and
// returns a distinct result per call, or err.
type counted struct {
	calls atomic.Int32
	delay time.Duration
	err   error
	// during, if set, runs inside the refresh.
	during func(ctx context.Context)
}

func (c *counted) refresh(ctx context.Context) ([]byte, error) {
	n := c.calls.Add(1)
	if c.during != nil {
		c.during(ctx)
	}
	time.Sleep(c.delay)
	if c.err != nil {
		return nil, c.err
	}
	return []byte(fmt.Sprintf("sealed result %d \x00\xff", n)), nil
}

// doAll calls Do on coalescers[i%len] from n goroutines at once and returns
// the results and errors in call order.
func doAll(t *testing.T, n int, key string, refresh func(context.Context) ([]byte, error), coalescers ...logto.RefreshCoalescer) ([][]byte, []error) {
	t.Helper()
	vals, errs := make([][]byte, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			vals[i], errs[i] = coalescers[i%len(coalescers)].Do(t.Context(), key, refresh)
		}()
	}
	close(start)
	wg.Wait()
	return vals, errs
}

func TestCoalescerOneRefreshAcrossInstances(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	a := redisstore.NewRefreshCoalescer(newClient(t, addr))
	b := redisstore.NewRefreshCoalescer(newClient(t, addr))
	r := &counted{delay: 100 * time.Millisecond}
	vals, errs := doAll(t, 100, "0123abcd", r.refresh, a, b)
	t.Logf("100 callers on 2 instances made %d refresh(es)", r.calls.Load())
	if got := r.calls.Load(); got != 1 {
		t.Fatalf("refresh calls = %d, want 1", got)
	}
	for i := range vals {
		if errs[i] != nil || !bytes.Equal(vals[i], vals[0]) {
			t.Fatalf("caller %d: %q, %v; caller 0 got %q", i, vals[i], errs[i], vals[0])
		}
	}
	// The lock is released, the result kept for the others.
	rdb := newClient(t, addr)
	if n := rdb.Exists(t.Context(), "logto:refresh:lock:0123abcd").Val(); n != 0 {
		t.Fatal("lock not released")
	}
	if v, _ := rdb.Get(t.Context(), "logto:refresh:result:0123abcd").Bytes(); len(v) != 8+len(vals[0]) || !bytes.HasSuffix(v, vals[0]) {
		t.Fatalf("stored result = %q, want 8 bytes of time and %q", v, vals[0])
	}
	if ttl := rdb.PTTL(t.Context(), "logto:refresh:result:0123abcd").Val(); ttl <= 5*time.Second || ttl > 10*time.Second {
		t.Fatalf("result TTL = %v, want about 10s", ttl)
	}
}

func TestCoalescerResultReuse(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	a := redisstore.NewRefreshCoalescer(newClient(t, addr))
	b := redisstore.NewRefreshCoalescer(newClient(t, addr))
	r := &counted{}
	first, err := a.Do(t.Context(), "k", r.refresh)
	if err != nil {
		t.Fatal(err)
	}
	// Later callers, on either instance, get the same result without a refresh.
	for i, c := range []logto.RefreshCoalescer{a, b, b} {
		v, err := c.Do(t.Context(), "k", r.refresh)
		if err != nil || !bytes.Equal(v, first) {
			t.Fatalf("later call %d: %q, %v; want %q", i, v, err, first)
		}
	}
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("refresh calls = %d, want 1", n)
	}
	// Another key is another refresh.
	if v, _ := b.Do(t.Context(), "other", r.refresh); bytes.Equal(v, first) || r.calls.Load() != 2 {
		t.Fatalf("another key: %q after %d calls", v, r.calls.Load())
	}

	// With a short result TTL, a refresh after it runs again.
	c := redisstore.NewRefreshCoalescer(newClient(t, addr), redisstore.WithResultTTL(200*time.Millisecond))
	r2 := &counted{}
	first, _ = c.Do(t.Context(), "short", r2.refresh)
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := c.Do(t.Context(), "short", r2.refresh)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v, first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a result with a 200 ms TTL is still reused after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := r2.calls.Load(); n != 2 {
		t.Fatalf("refresh calls after the result expired = %d, want 2", n)
	}
}

var errBoom = errors.New("token endpoint said no")

func TestCoalescerOwnerFailure(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)

	t.Run("LocalCallersGetTheError", func(t *testing.T) {
		a := redisstore.NewRefreshCoalescer(newClient(t, addr))
		r := &counted{delay: 100 * time.Millisecond, err: errBoom}
		_, errs := doAll(t, 20, "fail-local", r.refresh, a)
		for i, err := range errs {
			if !errors.Is(err, errBoom) {
				t.Fatalf("caller %d: %v, want the refresh's error", i, err)
			}
		}
		if n := r.calls.Load(); n != 1 {
			t.Fatalf("refresh calls = %d, want 1", n)
		}
		// A failure is not stored: the next call refreshes.
		ok := &counted{}
		if _, err := a.Do(t.Context(), "fail-local", ok.refresh); err != nil || ok.calls.Load() != 1 {
			t.Fatalf("after a failure: %v, %d calls", err, ok.calls.Load())
		}
	})

	t.Run("OtherInstanceTakesOver", func(t *testing.T) {
		rdb := newClient(t, addr)
		a := redisstore.NewRefreshCoalescer(newClient(t, addr))
		b := redisstore.NewRefreshCoalescer(newClient(t, addr))
		failing := &counted{delay: 300 * time.Millisecond, err: errBoom}
		var aErrs []error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, aErrs = doAll(t, 10, "fail-remote", failing.refresh, a)
		}()
		waitFor(t, "instance A to take the lock", func() bool {
			return rdb.Exists(t.Context(), "logto:refresh:lock:fail-remote").Val() == 1
		})
		// B's callers wait for A, see its lock vanish without a result, and
		// refresh themselves, once.
		succeeding := &counted{}
		vals, errs := doAll(t, 10, "fail-remote", succeeding.refresh, b)
		<-done
		for i := range aErrs {
			if !errors.Is(aErrs[i], errBoom) {
				t.Fatalf("A's caller %d: %v, want A's refresh error", i, aErrs[i])
			}
		}
		for i := range vals {
			if errs[i] != nil || !bytes.Equal(vals[i], vals[0]) {
				t.Fatalf("B's caller %d: %q, %v", i, vals[i], errs[i])
			}
		}
		if f, s := failing.calls.Load(), succeeding.calls.Load(); f != 1 || s != 1 {
			t.Fatalf("refresh calls: A %d, B %d; want 1 each", f, s)
		}
		// And A now reuses B's result.
		if v, err := a.Do(t.Context(), "fail-remote", failing.refresh); err != nil || !bytes.Equal(v, vals[0]) {
			t.Fatalf("A after B's refresh: %q, %v", v, err)
		}
	})

	t.Run("RepeatedOwnerFailures", func(t *testing.T) {
		// Whenever this instance goes for the lock, another one takes it
		// first and dies: after a bounded number of such failures it gives
		// up, without refreshing and without waiting forever.
		client := newClient(t, addr)
		thief := &lockThief{rdb: newClient(t, addr), lock: "logto:refresh:lock:doomed"}
		client.AddHook(thief)
		c := redisstore.NewRefreshCoalescer(client, redisstore.WithPollInterval(5*time.Millisecond))
		r := &counted{}
		_, err := c.Do(t.Context(), "doomed", r.refresh)
		if !errors.Is(err, logto.ErrProviderUnavailable) || logto.StatusCode(err) != 503 {
			t.Fatalf("Do = %v (status %d), want an error matching ErrProviderUnavailable", err, logto.StatusCode(err))
		}
		if n := r.calls.Load(); n != 0 {
			t.Fatalf("refresh calls = %d, want 0", n)
		}
		t.Logf("gave up after %d failed owners: %v", thief.n.Load(), err)
		if n := thief.n.Load(); n < 2 || n > 5 {
			t.Fatalf("waited for %d failed owners, want a small bound", n)
		}
	})
}

// lockThief is a go-redis hook: just before its client's SET NX of lock, it
// sets lock itself with a short TTL, like an instance that wins the lock and
// then dies without a result.
type lockThief struct {
	rdb  *redis.Client
	lock string
	n    atomic.Int32
}

func (h *lockThief) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *lockThief) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *lockThief) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		a := cmd.Args()
		if len(a) > 2 && strings.EqualFold(fmt.Sprint(a[0]), "set") && fmt.Sprint(a[1]) == h.lock && strings.EqualFold(fmt.Sprint(a[len(a)-1]), "nx") {
			n := h.n.Add(1)
			if err := h.rdb.Set(ctx, h.lock, fmt.Sprintf("crashed owner %d", n), 50*time.Millisecond).Err(); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}

// TestCoalescerLockOwnerCrash: a lock left by an instance that died
// mid-refresh (no result) delays the others until it expires; then one of
// them refreshes, holding a lock of its own.
func TestCoalescerLockOwnerCrash(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	rdb := newClient(t, addr)
	const lock = "logto:refresh:lock:crash"
	if err := rdb.Set(t.Context(), lock, "dead instance", 400*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	a := redisstore.NewRefreshCoalescer(newClient(t, addr), redisstore.WithLockTTL(time.Second))
	b := redisstore.NewRefreshCoalescer(newClient(t, addr), redisstore.WithLockTTL(time.Second))
	var holder atomic.Value
	r := &counted{delay: 50 * time.Millisecond, during: func(ctx context.Context) {
		holder.Store(rdb.Get(ctx, lock).Val())
		if ttl := rdb.PTTL(ctx, lock).Val(); ttl <= 0 || ttl > time.Second {
			t.Errorf("the refreshing instance's lock has TTL %v, want WithLockTTL's 1s", ttl)
		}
	}}
	start := time.Now()
	vals, errs := doAll(t, 20, "crash", r.refresh, a, b)
	t.Logf("took over after %v", time.Since(start))
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("refresh calls = %d, want 1", n)
	}
	if h, _ := holder.Load().(string); h == "" || h == "dead instance" {
		t.Fatalf("refresh ran while the lock was %q, want a lock of the refreshing instance", h)
	}
	for i := range vals {
		if errs[i] != nil || !bytes.Equal(vals[i], vals[0]) {
			t.Fatalf("caller %d: %q, %v", i, vals[i], errs[i])
		}
	}
}

// TestCoalescerCallerContext: a caller whose context ends stops waiting;
// the attempt goes on for the others and completes once the lock frees.
func TestCoalescerCallerContext(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	rdb := newClient(t, addr)
	const lock = "logto:refresh:lock:ctx"
	rdb.Set(t.Context(), lock, "slow instance", 10*time.Second)
	c := redisstore.NewRefreshCoalescer(newClient(t, addr))
	r := &counted{}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Do(ctx, "ctx", r.refresh); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Do returned after %v", d)
	}
	// The slow instance dies; the detached attempt takes over.
	rdb.Del(t.Context(), lock)
	waitFor(t, "the detached attempt to refresh", func() bool { return r.calls.Load() == 1 })
	waitFor(t, "its result", func() bool { return rdb.Exists(t.Context(), "logto:refresh:result:ctx").Val() == 1 })
}

// TestCoalescerReleasesOnlyItsLock: an owner slower than its lock TTL does
// not delete the lock another instance took after it expired.
func TestCoalescerReleasesOnlyItsLock(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	rdb := newClient(t, addr)
	const lock = "logto:refresh:lock:slow"
	c := redisstore.NewRefreshCoalescer(newClient(t, addr), redisstore.WithLockTTL(100*time.Millisecond))
	r := &counted{during: func(ctx context.Context) {
		waitFor(t, "the lock to expire", func() bool { return rdb.Exists(ctx, lock).Val() == 0 })
		rdb.Set(ctx, lock, "next owner", time.Minute)
	}}
	if _, err := c.Do(t.Context(), "slow", r.refresh); err != nil {
		t.Fatal(err)
	}
	if v := rdb.Get(t.Context(), lock).Val(); v != "next owner" {
		t.Fatalf("lock = %q after the slow owner finished, want the next owner's", v)
	}
}

// TestCoalescerRedisDown: without Redis, refreshes still run, in process,
// and the failure is logged without the key.
func TestCoalescerRedisDown(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond, MaintNotificationsConfig: noMaint()})
	defer down.Close()
	logs := &syncBuffer{}
	c := redisstore.NewRefreshCoalescer(down, redisstore.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	const key = "f00dfacef00dface"
	r := &counted{delay: 100 * time.Millisecond}
	vals, errs := doAll(t, 10, key, r.refresh, c)
	for i := range vals {
		if errs[i] != nil || !bytes.Equal(vals[i], vals[0]) {
			t.Fatalf("caller %d: %q, %v", i, vals[i], errs[i])
		}
	}
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("refresh calls = %d, want 1 (in-process coalescing still applies)", n)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || strings.Contains(l, key) {
		t.Fatalf("logs:\n%s", l)
	}
	// The refresh's own error still reaches the callers.
	if _, err := c.Do(t.Context(), key, (&counted{err: errBoom}).refresh); !errors.Is(err, errBoom) {
		t.Fatalf("Do = %v, want the refresh's error", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
