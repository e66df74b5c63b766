package logto

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"
)

const (
	testSessionMaxAge = 14 * 24 * time.Hour
	testReplayAge     = 5 * time.Minute
)

// testRevocations is a memory list with a lowered bound, a settable clock and
// a captured log.
func testRevocations(t testing.TB, bound int) (*memoryRevocations, *testkit.Clock, *testkit.Buffer) {
	t.Helper()
	clock, logs := testkit.NewClock(), &testkit.Buffer{}
	m := NewMemoryRevocationList(WithClock(clock.Now)).(*memoryRevocations)
	m.max = bound
	useLogger(m, slog.New(slog.NewTextHandler(logs, nil)))
	return m, clock, logs
}

func (m *memoryRevocations) mustRevoke(t testing.TB, key string, ttl time.Duration) {
	t.Helper()
	now := m.now()
	if err := m.Revoke(context.Background(), key, now, now.Add(ttl)); err != nil {
		t.Fatal(err)
	}
}

func (m *memoryRevocations) holds(key string) bool {
	_, ok, _ := m.RevokedAt(context.Background(), key)
	return ok
}

func (m *memoryRevocations) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

const testScope = "https://tenant.logto.app/oidc|app0123456789abcdefgh|"

// TestRevocationsKeptPastReplayFlood: 10x the bound of replay entries after
// one sid revocation leave the revocation in place; the oldest replay entries
// make room.
func TestRevocationsKeptPastReplayFlood(t *testing.T) {
	t.Parallel()
	const bound = 10
	m, _, _ := testRevocations(t, bound)
	sid := "sid:" + testScope + "sid-1"
	m.mustRevoke(t, sid, testSessionMaxAge)
	for i := range 10 * bound {
		m.mustRevoke(t, fmt.Sprintf("jti:%sjti-%d", testScope, i), testReplayAge)
	}
	if !m.holds(sid) {
		t.Fatal("the sid revocation was forgotten under a flood of replay entries")
	}
	if got := m.size(); got > bound {
		t.Errorf("entries = %d, want at most %d", got, bound)
	}
	for i := 10*bound - (bound - 1); i < 10*bound; i++ { // the newest replay entries stay
		if key := fmt.Sprintf("jti:%sjti-%d", testScope, i); !m.holds(key) {
			t.Errorf("recent replay entry %d forgotten", i)
		}
	}
	if m.holds("jti:" + testScope + "jti-0") {
		t.Error("the oldest replay entry kept, a newer one dropped")
	}
}

// TestRevocationsGrowPastBoundAndWarn: with only revocations left, the list
// keeps them all, and warns once per overflowWarnEvery.
func TestRevocationsGrowPastBoundAndWarn(t *testing.T) {
	t.Parallel()
	const bound = 10
	m, clock, logs := testRevocations(t, bound)
	for i := range 10 * bound {
		m.mustRevoke(t, fmt.Sprintf("sub:%suser-%d", testScope, i), testSessionMaxAge)
	}
	for i := range 10 * bound {
		if key := fmt.Sprintf("sub:%suser-%d", testScope, i); !m.holds(key) {
			t.Fatalf("revocation %d forgotten at the bound", i)
		}
	}
	warnings := func() int { return strings.Count(logs.String(), "level=WARN") }
	if got := warnings(); got != 1 {
		t.Fatalf("warnings = %d, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "NewStoreRevocationList") || !strings.Contains(logs.String(), fmt.Sprintf("entries=%d", bound+1)) {
		t.Errorf("warning does not say what to do or how many: %s", logs)
	}
	clock.Advance(overflowWarnEvery)
	m.mustRevoke(t, "sid:"+testScope+"sid-late", testSessionMaxAge)
	if got := warnings(); got != 2 {
		t.Fatalf("warnings after %v = %d, want 2", overflowWarnEvery, got)
	}
}

// TestRevocationSweepIsAmortized: an insert at the bound takes a few entries
// out of the list, never a scan of it, and expired entries still go.
func TestRevocationSweepIsAmortized(t *testing.T) {
	t.Parallel()
	const bound = 1000
	m, clock, _ := testRevocations(t, bound)
	sid := "sid:" + testScope + "sid-1"
	m.mustRevoke(t, sid, testSessionMaxAge)
	for i := range bound - 1 {
		m.mustRevoke(t, fmt.Sprintf("jti:%sfill-%d", testScope, i), testReplayAge)
	}
	perInsert := func(what string, n int, key func(int) string, ttl time.Duration) {
		t.Helper()
		for i := range n {
			m.mu.Lock()
			before := m.steps
			m.mu.Unlock()
			m.mustRevoke(t, key(i), ttl)
			m.mu.Lock()
			steps := m.steps - before
			m.mu.Unlock()
			if steps > 2*sweepSteps+1 {
				t.Fatalf("%s: insert %d examined %d entries, want at most %d", what, i, steps, 2*sweepSteps+1)
			}
		}
	}
	// At the bound, live entries only: each insert drops one replay entry.
	perInsert("at the bound", 10*bound, func(i int) string { return fmt.Sprintf("jti:%sflood-%d", testScope, i) }, testReplayAge)
	if got := m.size(); got != bound || !m.holds(sid) {
		t.Fatalf("at the bound: %d entries (want %d), sid held %v", got, bound, m.holds(sid))
	}
	// Every replay entry expired: revocations coming in sweep them a few
	// at a time, until only the live entries are left.
	clock.Advance(testReplayAge)
	inserts := (bound-1)/sweepSteps + 1
	perInsert("sweeping", inserts, func(i int) string { return fmt.Sprintf("sub:%suser-%d", testScope, i) }, testSessionMaxAge)
	if got, want := m.size(), 1+inserts; got != want || !m.holds(sid) {
		t.Fatalf("after the sweep: %d entries, want %d; sid held %v", got, want, m.holds(sid))
	}
}

// TestRevocationsEmptyFastPath: empty() says whether a sid or sub revocation
// is live; replay entries and expired revocations do not count.
func TestRevocationsEmptyFastPath(t *testing.T) {
	t.Parallel()
	m, clock, _ := testRevocations(t, 10)
	if !m.empty() {
		t.Fatal("new list not empty")
	}
	m.mustRevoke(t, "jti:"+testScope+"jti-1", testReplayAge)
	if !m.empty() {
		t.Fatal("a replay entry counts as a revocation")
	}
	m.mustRevoke(t, "sid:"+testScope+"sid-1", time.Hour)
	if m.empty() {
		t.Fatal("a live revocation not seen")
	}
	clock.Advance(time.Hour + time.Second)
	if !m.empty() {
		t.Fatal("an expired revocation keeps the slow path")
	}
	m.mustRevoke(t, "sid:"+testScope+"sid-1", time.Hour) // expired, not swept: replaced
	if m.empty() || !m.holds("sid:"+testScope+"sid-1") {
		t.Fatal("a revocation renewed after expiry not seen")
	}
}

// BenchmarkRevokeAtBound: one back-channel logout's replay entry into a list
// at its bound (default size), full of live entries.
func BenchmarkRevokeAtBound(b *testing.B) {
	ctx, now := context.Background(), time.Now()
	m := NewMemoryRevocationList()
	_ = m.Revoke(ctx, "sid:"+testScope+"sid-1", now, now.Add(testSessionMaxAge))
	for i := range maxRevocations - 1 {
		_ = m.Revoke(ctx, fmt.Sprintf("jti:%sfill-%d", testScope, i), now, now.Add(time.Hour))
	}
	keys := make([]string, 2*maxRevocations) // each one gone again before its next turn
	for i := range keys {
		keys[i] = fmt.Sprintf("jti:%sbench-%d", testScope, i)
	}
	i := 0
	for b.Loop() {
		_ = m.Revoke(ctx, keys[i%len(keys)], now, now.Add(time.Hour))
		i++
	}
}
