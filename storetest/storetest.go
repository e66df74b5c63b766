// Package storetest checks that a [logto.Store] implementation behaves as the
// SDK expects, like [testing/slogtest] does for slog handlers:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) logto.Store {
//			return mystore.New(...)
//		})
//	}
//
// It is a test helper: import it from _test.go files only.
//
// README: https://github.com/logto-go/logto#running-several-instances
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// How the TTL subtests wait: a short TTL, and a generous bound on how long
// expiry may take, so that a busy machine slows the suite down but never
// fails it.
const (
	shortTTL    = 300 * time.Millisecond
	longTTL     = time.Minute
	expiryBound = 5 * time.Second
	pollEvery   = 20 * time.Millisecond
)

// Run runs the conformance subtests against stores made by newStore, which is
// called once per subtest with that subtest's t (so it may register cleanups
// with t.Cleanup). The subtests run one after the other. Every key they use
// starts with "storetest:" and a random component, so stores made by
// newStore may share one backend, between subtests and between runs.
//
// The rules, one subtest each:
//
//   - GetAbsent: Get of a key never set fails with an error matching
//     [logto.ErrStoreNotFound] (errors.Is).
//   - SetGet: Get returns exactly the bytes Set stored.
//   - Overwrite: a second Set of a key replaces its value.
//   - BinaryValues: values are bytes, not text: all 256 byte values, and a
//     64 KiB value, come back unchanged.
//   - EmptyValue: an empty (or nil) value is stored and read back as an
//     empty value with no error, not as absent.
//   - Keys: keys with ':', '/', spaces and non-ASCII characters are distinct
//     keys that do not disturb one another.
//   - Delete: Get after Delete fails with ErrStoreNotFound.
//   - DeleteAbsent: deleting a key that is absent is not an error.
//   - TTLExpiry: a value set for a short TTL (300 ms) is present right after
//     Set and absent (ErrStoreNotFound) once the TTL is over; the store may
//     take a few seconds to notice, never forever.
//   - SetRefreshesTTL: Set replaces the TTL along with the value, in both
//     directions: a short TTL overwritten with a long one keeps the value
//     past the short one, a long TTL overwritten with a short one expires.
//   - NonPositiveTTL: Set with a TTL of zero or less fails and stores nothing.
//   - Copies: the store keeps no reference to the slice given to Set, and
//     the slice Get returns is the caller's: mutating either does not change
//     the stored value.
//   - Concurrent: Set, Get and Delete from many goroutines at once, on shared
//     and on private keys, are safe (run the test with -race) and consistent:
//     a Get returns a value that was Set for that key, or ErrStoreNotFound.
//
// When the store implements [logto.AtomicAdder] (else they are skipped):
//
//   - AddIfAbsent: it adds an absent key (true, and Get returns the value),
//     refuses a present one, whether added or Set (false, value unchanged),
//     adds again after Delete, and fails with a TTL of zero or less.
//   - AddIfAbsentConcurrent: of 32 goroutines adding one key at once,
//     exactly one gets true, and the key holds that one's value.
//   - AddIfAbsentTTL: a key added for a short TTL (300 ms) can be added
//     again once the TTL is over.
func Run(t *testing.T, newStore func(t *testing.T) logto.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s logto.Store, key func(string) string)
	}{
		{"GetAbsent", testGetAbsent},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"BinaryValues", testBinaryValues},
		{"EmptyValue", testEmptyValue},
		{"Keys", testKeys},
		{"Delete", testDelete},
		{"DeleteAbsent", testDeleteAbsent},
		{"TTLExpiry", testTTLExpiry},
		{"SetRefreshesTTL", testSetRefreshesTTL},
		{"NonPositiveTTL", testNonPositiveTTL},
		{"Copies", testCopies},
		{"Concurrent", testConcurrent},
		{"AddIfAbsent", adder(testAddIfAbsent)},
		{"AddIfAbsentConcurrent", adder(testAddIfAbsentConcurrent)},
		{"AddIfAbsentTTL", adder(testAddIfAbsentTTL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			prefix := "storetest:" + randomHex(t) + ":"
			tt.run(t, s, func(name string) string { return prefix + name })
		})
	}
}

func randomHex(t *testing.T) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// mustSet fails the test when Set fails.
func mustSet(t *testing.T, s logto.Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q, %d bytes, %v): %v", key, len(value), ttl, err)
	}
}

// wantValue fails the test unless key holds want.
func wantValue(t *testing.T, s logto.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v, want %d bytes", key, err, len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, describe(got), describe(want))
	}
}

// wantAbsent fails the test unless key is absent.
func wantAbsent(t *testing.T, s logto.Store, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if !errors.Is(err, logto.ErrStoreNotFound) {
		t.Fatalf("Get(%q) = %s, %v; want an error matching logto.ErrStoreNotFound", key, describe(got), err)
	}
}

// describe summarizes a value for failure messages: long values are unreadable.
func describe(v []byte) string {
	if len(v) <= 32 {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%d bytes starting %q", len(v), v[:32])
}

// waitAbsent polls until key is absent, failing after expiryBound.
func waitAbsent(t *testing.T, s logto.Store, key string, ttl time.Duration) {
	t.Helper()
	deadline := time.Now().Add(ttl + expiryBound)
	for {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, logto.ErrStoreNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%q) while waiting for expiry: %v", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(%q): still present %v after Set with TTL %v", key, ttl+expiryBound, ttl)
		}
		time.Sleep(pollEvery)
	}
}

func testGetAbsent(t *testing.T, s logto.Store, key func(string) string) {
	wantAbsent(t, s, key("never-set"))
}

func testSetGet(t *testing.T, s logto.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("value"), longTTL)
	wantValue(t, s, key("k"), []byte("value"))
	wantAbsent(t, s, key("other"))
}

func testOverwrite(t *testing.T, s logto.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("first value, the longer one"), longTTL)
	mustSet(t, s, key("k"), []byte("second"), longTTL)
	wantValue(t, s, key("k"), []byte("second"))
}

func testBinaryValues(t *testing.T, s logto.Store, key func(string) string) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 64<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{
		"all-bytes":  all,
		"reversed":   reversed(all),
		"64KiB":      big,
		"nul-inside": []byte("a\x00b\x00"),
		"crlf":       []byte("line\r\nSET injected 1\r\n"),
	} {
		mustSet(t, s, key(name), v, longTTL)
		wantValue(t, s, key(name), v)
	}
}

func reversed(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

func testEmptyValue(t *testing.T, s logto.Store, key func(string) string) {
	for name, v := range map[string][]byte{"empty": {}, "nil": nil} {
		mustSet(t, s, key(name), v, longTTL)
		got, err := s.Get(t.Context(), key(name))
		if err != nil || len(got) != 0 {
			t.Fatalf("Get(%q) after Set of a %s value = %s, %v; want an empty value and no error", key(name), name, describe(got), err)
		}
	}
}

func testKeys(t *testing.T, s logto.Store, key func(string) string) {
	names := []string{
		"a:b:c",
		"a:b",
		"a/b/c",
		"a b c",
		"  leading and trailing  ",
		"ключ-日本語-🔑",
		"tab\there",
		"*?[glob]",
		"{hash-tag}",
		"logto:session:app:0123456789abcdef",
	}
	for i, n := range names {
		mustSet(t, s, key(n), []byte(fmt.Sprintf("value %d", i)), longTTL)
	}
	for i, n := range names {
		wantValue(t, s, key(n), []byte(fmt.Sprintf("value %d", i)))
	}
	// A key that is a prefix of another is a key of its own.
	wantAbsent(t, s, key("a"))
	wantAbsent(t, s, key("a:"))
}

func testDelete(t *testing.T, s logto.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("v"), longTTL)
	mustSet(t, s, key("kept"), []byte("v"), longTTL)
	if err := s.Delete(t.Context(), key("k")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, s, key("k"))
	wantValue(t, s, key("kept"), []byte("v"))
	// A deleted key can be set again.
	mustSet(t, s, key("k"), []byte("again"), longTTL)
	wantValue(t, s, key("k"), []byte("again"))
}

func testDeleteAbsent(t *testing.T, s logto.Store, key func(string) string) {
	if err := s.Delete(t.Context(), key("never-set")); err != nil {
		t.Fatalf("Delete of an absent key: %v, want nil", err)
	}
	mustSet(t, s, key("k"), []byte("v"), longTTL)
	for i := 0; i < 2; i++ {
		if err := s.Delete(t.Context(), key("k")); err != nil {
			t.Fatalf("Delete #%d: %v, want nil", i+1, err)
		}
	}
}

// setAndCheckPresent sets key for ttl and checks it is there, unless the
// machine was so slow that the TTL may already be over.
func setAndCheckPresent(t *testing.T, s logto.Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	start := time.Now()
	mustSet(t, s, key, value, ttl)
	got, err := s.Get(t.Context(), key)
	if time.Since(start) >= ttl {
		t.Logf("Set and Get took %v, longer than the %v TTL: not checking presence", time.Since(start), ttl)
		return
	}
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get(%q) right after Set with TTL %v = %s, %v; want %s", key, ttl, describe(got), err, describe(value))
	}
}

func testTTLExpiry(t *testing.T, s logto.Store, key func(string) string) {
	setAndCheckPresent(t, s, key("short"), []byte("v"), shortTTL)
	mustSet(t, s, key("long"), []byte("v"), longTTL)
	waitAbsent(t, s, key("short"), shortTTL)
	wantValue(t, s, key("long"), []byte("v"))
}

func testSetRefreshesTTL(t *testing.T, s logto.Store, key func(string) string) {
	// Short, then long: the value outlives the short TTL.
	mustSet(t, s, key("extended"), []byte("short"), shortTTL)
	mustSet(t, s, key("extended"), []byte("long"), longTTL)
	// Long, then short: the value expires.
	mustSet(t, s, key("shortened"), []byte("long"), longTTL)
	setAndCheckPresent(t, s, key("shortened"), []byte("short"), shortTTL)
	waitAbsent(t, s, key("shortened"), shortTTL)
	time.Sleep(shortTTL) // the short TTL of "extended" is over by now, whatever waitAbsent took
	wantValue(t, s, key("extended"), []byte("long"))
}

func testNonPositiveTTL(t *testing.T, s logto.Store, key func(string) string) {
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		if err := s.Set(t.Context(), key("k"), []byte("v"), ttl); err == nil {
			t.Fatalf("Set with TTL %v: no error", ttl)
		}
		wantAbsent(t, s, key("k"))
	}
}

func testCopies(t *testing.T, s logto.Store, key func(string) string) {
	in := []byte("original")
	mustSet(t, s, key("k"), in, longTTL)
	copy(in, "MUTATED!")
	wantValue(t, s, key("k"), []byte("original"))

	got, err := s.Get(t.Context(), key("k"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = 'X'
	}
	_ = append(got[:0], "appended past the end"...)
	wantValue(t, s, key("k"), []byte("original"))
}

func testConcurrent(t *testing.T, s logto.Store, key func(string) string) {
	const (
		workers = 16
		rounds  = 50
		shared  = 4
	)
	// valid reports whether v is a value some worker sets for shared keys.
	valid := func(v []byte) bool { return bytes.HasPrefix(v, []byte("worker ")) }
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := key(fmt.Sprintf("own-%d", w))
			for i := 0; i < rounds; i++ {
				if !roundTrip(t, ctx, s, own, []byte(fmt.Sprintf("own %d %d", w, i))) {
					return
				}
				sk := key(fmt.Sprintf("shared-%d", i%shared))
				v := []byte(fmt.Sprintf("worker %d round %d", w, i))
				if err := s.Set(ctx, sk, v, longTTL); err != nil {
					t.Errorf("Set(%q): %v", sk, err)
					return
				}
				got, err := s.Get(ctx, sk)
				switch {
				case errors.Is(err, logto.ErrStoreNotFound): // deleted by another worker
				case err != nil:
					t.Errorf("Get(%q): %v", sk, err)
					return
				case !valid(got):
					t.Errorf("Get(%q) = %s: a value nobody set", sk, describe(got))
					return
				}
				if i%5 == 4 {
					if err := s.Delete(ctx, sk); err != nil {
						t.Errorf("Delete(%q): %v", sk, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// roundTrip sets, reads and deletes a key only this goroutine uses.
func roundTrip(t *testing.T, ctx context.Context, s logto.Store, key string, v []byte) bool {
	if err := s.Set(ctx, key, v, longTTL); err != nil {
		t.Errorf("Set(%q): %v", key, err)
		return false
	}
	if got, err := s.Get(ctx, key); err != nil || !bytes.Equal(got, v) {
		t.Errorf("Get(%q) = %s, %v; want %s", key, describe(got), err, describe(v))
		return false
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete(%q): %v", key, err)
		return false
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, logto.ErrStoreNotFound) {
		t.Errorf("Get(%q) after Delete: %v, want ErrStoreNotFound", key, err)
		return false
	}
	return true
}

// adder runs test when the store implements logto.AtomicAdder, and skips it
// otherwise.
func adder(test func(t *testing.T, s logto.Store, a logto.AtomicAdder, key func(string) string)) func(t *testing.T, s logto.Store, key func(string) string) {
	return func(t *testing.T, s logto.Store, key func(string) string) {
		a, ok := s.(logto.AtomicAdder)
		if !ok {
			t.Skip("the store does not implement logto.AtomicAdder")
		}
		test(t, s, a, key)
	}
}

// wantAdd fails the test unless AddIfAbsent reports want, without error.
func wantAdd(t *testing.T, a logto.AtomicAdder, key string, value []byte, ttl time.Duration, want bool) {
	t.Helper()
	added, err := a.AddIfAbsent(t.Context(), key, value, ttl)
	if err != nil || added != want {
		t.Fatalf("AddIfAbsent(%q, %s, %v) = %v, %v; want %v, nil", key, describe(value), ttl, added, err, want)
	}
}

func testAddIfAbsent(t *testing.T, s logto.Store, a logto.AtomicAdder, key func(string) string) {
	wantAdd(t, a, key("k"), []byte("first"), longTTL, true)
	wantValue(t, s, key("k"), []byte("first"))
	wantAdd(t, a, key("k"), []byte("second"), longTTL, false)
	wantValue(t, s, key("k"), []byte("first"))
	// A key written with Set is present too.
	mustSet(t, s, key("set"), []byte("set"), longTTL)
	wantAdd(t, a, key("set"), []byte("added"), longTTL, false)
	wantValue(t, s, key("set"), []byte("set"))
	// After Delete the key can be added again.
	if err := s.Delete(t.Context(), key("k")); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAdd(t, a, key("k"), []byte("again"), longTTL, true)
	wantValue(t, s, key("k"), []byte("again"))
	for _, ttl := range []time.Duration{0, -time.Second} {
		if added, err := a.AddIfAbsent(t.Context(), key("bad-ttl"), []byte("v"), ttl); err == nil || added {
			t.Fatalf("AddIfAbsent with TTL %v = %v, %v; want an error", ttl, added, err)
		}
		wantAbsent(t, s, key("bad-ttl"))
	}
}

func testAddIfAbsentConcurrent(t *testing.T, s logto.Store, a logto.AtomicAdder, key func(string) string) {
	const workers = 32
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		mu     sync.Mutex
		winner []int
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			added, err := a.AddIfAbsent(t.Context(), key("contended"), []byte(fmt.Sprintf("worker %d", w)), longTTL)
			if err != nil {
				t.Errorf("AddIfAbsent (worker %d): %v", w, err)
				return
			}
			if added {
				mu.Lock()
				winner = append(winner, w)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(winner) != 1 {
		t.Fatalf("%d of %d concurrent AddIfAbsent calls on one key reported true (workers %v), want exactly 1", len(winner), workers, winner)
	}
	wantValue(t, s, key("contended"), []byte(fmt.Sprintf("worker %d", winner[0])))
}

func testAddIfAbsentTTL(t *testing.T, s logto.Store, a logto.AtomicAdder, key func(string) string) {
	wantAdd(t, a, key("short"), []byte("first"), shortTTL, true)
	waitAbsent(t, s, key("short"), shortTTL)
	wantAdd(t, a, key("short"), []byte("second"), longTTL, true)
	wantValue(t, s, key("short"), []byte("second"))
}
