package redisstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/redisstore"
	"github.com/logto-go/logto/storetest"
)

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	t.Run("NoPrefix", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) logto.Store { return redisstore.New(newClient(t, addr)) })
	})
	t.Run("WithKeyPrefix", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) logto.Store {
			return redisstore.New(newClient(t, addr), redisstore.WithKeyPrefix("myapp:"))
		})
	})
}

func TestStoreCommands(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, startRedis(t))
	ctx := t.Context()
	s := redisstore.New(rdb, redisstore.WithKeyPrefix("app1:"))
	if err := s.Set(ctx, "logto:k", []byte("v"), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	// The prefix is prepended, and the TTL is Redis's own.
	if v, err := rdb.Get(ctx, "app1:logto:k").Result(); err != nil || v != "v" {
		t.Fatalf("raw GET app1:logto:k = %q, %v", v, err)
	}
	if ttl := rdb.PTTL(ctx, "app1:logto:k").Val(); ttl <= 80*time.Second || ttl > 90*time.Second {
		t.Fatalf("PTTL = %v, want about 90s", ttl)
	}
	// A TTL below Redis's millisecond resolution is rounded up, not refused.
	if err := s.Set(ctx, "tiny", []byte("v"), time.Nanosecond); err != nil {
		t.Fatalf("Set with a 1 ns TTL: %v", err)
	}
	if err := s.Delete(ctx, "logto:k"); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, "app1:logto:k").Val(); n != 0 {
		t.Fatal("Delete left the key")
	}
	// AddIfAbsent is SET NX with the prefix and Redis's own TTL.
	if added, err := s.AddIfAbsent(ctx, "logto:state:x", []byte{1}, 10*time.Minute); err != nil || !added {
		t.Fatalf("AddIfAbsent of an absent key = %v, %v", added, err)
	}
	if ttl := rdb.PTTL(ctx, "app1:logto:state:x").Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Fatalf("PTTL after AddIfAbsent = %v, want about 10m", ttl)
	}
	if added, err := s.AddIfAbsent(ctx, "logto:state:x", []byte{2}, 10*time.Minute); err != nil || added {
		t.Fatalf("AddIfAbsent of a present key = %v, %v", added, err)
	}
	if v := rdb.Get(ctx, "app1:logto:state:x").Val(); v != "\x01" {
		t.Fatalf("value after a refused AddIfAbsent = %q", v)
	}
}

func TestStoreErrors(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, startRedis(t))
	ctx := t.Context()
	s := redisstore.New(rdb)
	const secret = "sealed-session-value-CANARY"
	// A key of another type: a Redis error, not "not found".
	rdb.LPush(ctx, "list", secret)
	if _, err := s.Get(ctx, "list"); err == nil || errors.Is(err, logto.ErrStoreNotFound) || !strings.HasPrefix(err.Error(), "redisstore: GET: ") {
		t.Fatalf("Get of a list: %v", err)
	}
	// Redis unreachable: errors name the command, never the value.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond, MaintNotificationsConfig: noMaint()})
	defer down.Close()
	s = redisstore.New(down)
	for op, err := range map[string]error{
		"SET": s.Set(ctx, "k", []byte(secret), time.Minute),
		"DEL": s.Delete(ctx, "k"),
		"GET": func() error { _, err := s.Get(ctx, "k"); return err }(),
		"SET NX": func() error {
			added, err := s.AddIfAbsent(ctx, "k", []byte(secret), time.Minute)
			if added {
				t.Error("AddIfAbsent with Redis down reported true")
			}
			return err
		}(),
	} {
		if err == nil || errors.Is(err, logto.ErrStoreNotFound) || !strings.HasPrefix(err.Error(), "redisstore: "+op+": ") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s with Redis down: %v", op, err)
		}
	}
	if err := s.Set(ctx, "k", []byte(secret), 0); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Set with TTL 0: %v", err)
	}
}
