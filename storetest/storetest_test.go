package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/storetest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) logto.Store { return logto.NewMemoryStore() })
}

// brokenStore is an in-memory Store with one deliberate defect, to check
// that Run notices it.
type brokenStore struct {
	defect string
	mu     sync.Mutex
	m      map[string][]byte
}

func (b *brokenStore) Get(_ context.Context, key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[key]
	if !ok || (b.defect == "empty-is-absent" && len(v) == 0) {
		if b.defect == "plain-not-found" {
			return nil, errors.New("not found")
		}
		return nil, logto.ErrStoreNotFound
	}
	if b.defect == "no-copy" {
		return v, nil
	}
	return append([]byte(nil), v...), nil
}

func (b *brokenStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 && b.defect != "accepts-zero-ttl" {
		return errors.New("bad TTL")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[key] = append([]byte(nil), value...)
	return nil
}

func (b *brokenStore) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[key]; !ok && b.defect == "delete-absent-fails" {
		return errors.New("no such key")
	}
	delete(b.m, key)
	return nil
}

// brokenAdder adds a defective AddIfAbsent to a brokenStore.
type brokenAdder struct{ *brokenStore }

func (b brokenAdder) AddIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("bad TTL")
	}
	switch b.defect {
	case "adder-overwrites":
		return true, b.Set(ctx, key, value, ttl)
	case "adder-not-atomic": // check, then set: a window for another caller
		if _, err := b.Get(ctx, key); err == nil {
			return false, nil
		}
		time.Sleep(10 * time.Millisecond)
		return true, b.Set(ctx, key, value, ttl)
	}
	return false, errors.New("unknown defect")
}

// TestBrokenStores runs Run on defective stores in a child process (a
// failing Run fails its test) and checks each is caught by the right subtest.
func TestBrokenStores(t *testing.T) {
	if d := os.Getenv("STORETEST_DEFECT"); d != "" {
		storetest.Run(t, func(t *testing.T) logto.Store {
			s := &brokenStore{defect: d, m: map[string][]byte{}}
			if strings.HasPrefix(d, "adder-") {
				return brokenAdder{s}
			}
			return s
		})
		return
	}
	t.Parallel()
	for defect, subtest := range map[string]string{
		"plain-not-found":     "GetAbsent",
		"empty-is-absent":     "EmptyValue",
		"delete-absent-fails": "DeleteAbsent",
		"accepts-zero-ttl":    "NonPositiveTTL",
		"no-copy":             "Copies",
		"adder-overwrites":    "AddIfAbsent",
		"adder-not-atomic":    "AddIfAbsentConcurrent",
	} {
		t.Run(defect, func(t *testing.T) {
			t.Parallel()
			// The expiry subtests would only wait for the bound: skip them.
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStores$", "-test.skip=^TestBrokenStores$/^(TTLExpiry|SetRefreshesTTL|AddIfAbsentTTL)$", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_DEFECT="+defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("Run passed a store with defect %s:\n%s", defect, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenStores/"+subtest+" ") {
				t.Fatalf("defect %s not caught by subtest %s:\n%s", defect, subtest, out)
			}
		})
	}
}
