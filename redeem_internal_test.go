package logto

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUsedStatesExpireAndCap(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	u := usedStates{expiry: map[stateKey]int64{}, max: 3}
	a, b, c, d := newStateKey("a"), newStateKey("b"), newStateKey("c"), newStateKey("d")
	u.add(a, now)
	u.add(b, now.Add(time.Minute))
	if !u.has(a, now.Add(transactionTTL-time.Nanosecond)) || u.has(a, now.Add(transactionTTL)) {
		t.Fatal("a used state is remembered for exactly transactionTTL")
	}
	if u.has(c, now) {
		t.Fatal("an unknown state is used")
	}
	// At the cap, the oldest is dropped first.
	u.add(c, now.Add(2*time.Minute))
	u.add(d, now.Add(3*time.Minute))
	if u.len() != 3 || u.has(a, now.Add(3*time.Minute)) || !u.has(b, now.Add(3*time.Minute)) || !u.has(d, now.Add(3*time.Minute)) {
		t.Fatalf("after a 4th add with a cap of 3: len %d, a %v, b %v, d %v", u.len(),
			u.has(a, now.Add(3*time.Minute)), u.has(b, now.Add(3*time.Minute)), u.has(d, now.Add(3*time.Minute)))
	}
	// Expired entries leave on the next add; a state added again is
	// remembered from then, even when its first entry leaves the queue.
	later := now.Add(time.Minute + transactionTTL)
	u.add(b, later)
	if u.len() != 3 || !u.has(b, later.Add(transactionTTL-time.Second)) || u.has(c, later.Add(2*time.Minute)) {
		t.Fatalf("after expiry: len %d", u.len())
	}
}

func TestUsedStatesBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	u := usedStates{expiry: map[stateKey]int64{}, max: 5000}
	for i := 0; i < 50_000; i++ {
		u.add(newStateKey(fmt.Sprint(i)), now.Add(time.Duration(i)*time.Millisecond))
		if u.len() > u.max || len(u.expiry) != u.len() {
			t.Fatalf("after %d adds: queue %d, map %d, cap %d", i+1, u.len(), len(u.expiry), u.max)
		}
	}
	if cap(u.queue) > 4*u.max {
		t.Fatalf("queue capacity %d for a cap of %d", cap(u.queue), u.max)
	}
	if !u.has(newStateKey("49999"), now.Add(50*time.Second)) || u.has(newStateKey("44999"), now.Add(50*time.Second)) {
		t.Fatal("the newest are kept, the oldest dropped")
	}
}

// TestRedemptionsWaiterContext: a waiter whose own context ends returns at
// once; the exchange goes on and later callers are refused.
func TestRedemptionsWaiterContext(t *testing.T) {
	t.Parallel()
	rs := newRedemptions(time.Now)
	release := make(chan struct{})
	var calls atomic.Int32
	redeem := func(ctx context.Context) (*sealedSession, error) {
		calls.Add(1)
		<-release
		return &sealedSession{sealed: "sealed"}, ctx.Err()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if s, err := rs.do(context.Background(), "state", "code", redeem); err != nil || s.sealed != "sealed" {
			t.Errorf("leader: %v, %v", s, err)
		}
	}()
	for {
		rs.mu.Lock()
		n := len(rs.inflight)
		rs.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := rs.do(ctx, "state", "code", redeem); !errors.Is(err, ErrProviderTimeout) {
		t.Fatalf("waiter whose context ended: %v, want ErrProviderTimeout", err)
	}
	if _, err := rs.do(context.Background(), "state", "another code", redeem); !errors.Is(err, ErrInvalidCallback) {
		t.Fatalf("same state, another code: %v, want ErrInvalidCallback", err)
	}
	close(release)
	wg.Wait()
	if _, err := rs.do(context.Background(), "state", "code", redeem); !errors.Is(err, ErrInvalidCallback) {
		t.Fatalf("after the exchange: %v, want ErrInvalidCallback", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("redeem ran %d times", calls.Load())
	}
	if len(rs.inflight) != 0 || rs.used.len() != 1 {
		t.Fatalf("inflight %d, used %d", len(rs.inflight), rs.used.len())
	}
}

// TestRedemptionsPanic: a redeem that panics leaves nothing in flight, its
// waiters get an error and the panic reaches the first caller (net/http
// recovers it per request).
func TestRedemptionsPanic(t *testing.T) {
	t.Parallel()
	rs := newRedemptions(time.Now)
	started, release := make(chan struct{}), make(chan struct{})
	var leaderPanic any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { leaderPanic = recover() }()
		_, _ = rs.do(context.Background(), "state", "code", func(context.Context) (*sealedSession, error) {
			close(started)
			<-release
			panic("boom")
		})
	}()
	<-started
	waiter := make(chan error, 1)
	go func() {
		_, err := rs.do(context.Background(), "state", "code", nil)
		waiter <- err
	}()
	time.Sleep(20 * time.Millisecond) // for the waiter to join
	close(release)
	<-done
	if leaderPanic != "boom" {
		t.Fatalf("leader recovered %v", leaderPanic)
	}
	if err := <-waiter; err == nil {
		t.Fatal("waiter got no error")
	}
	if len(rs.inflight) != 0 {
		t.Fatal("the exchange stayed in flight")
	}
}
