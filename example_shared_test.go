package logto_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/logto-go/logto"
)

// databaseStore stands for a Store that several instances share (a table in
// a database); New cannot tell it from Redis.
type databaseStore struct{ logto.Store }

// Several instances share sessions, back-channel logouts and refreshes
// through one SharedState (redisstore.NewSharedState returns one for Redis).
// A shared store alone is refused: the instances would not see each other's
// back-channel logouts.
func ExampleSharedState() {
	cfg := logto.Config{
		AppID: "my-app-id", AppSecret: "my-app-secret", Endpoint: "https://my-tenant.logto.app",
		BaseURL: "https://app.example.com", CookieSecret: "a-random-secret-of-at-least-32-characters",
	}
	store := databaseStore{logto.NewMemoryStore()}

	halfShared := cfg
	halfShared.SessionStore = store
	_, err := logto.New(halfShared)
	var ce *logto.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)

	shared := cfg
	shared.Shared = &logto.SharedState{
		Store: store, // sessions, sign-in claims and (RevocationList nil) back-channel logouts
		// stands for a coalescer every instance shares, e.g. redisstore.NewRefreshCoalescer
		RefreshCoalescer: logto.NewLocalRefreshCoalescer(),
	}
	_, err = logto.New(shared)
	fmt.Println(err)

	// One process only, with its sessions in a local database: say so.
	single := halfShared
	single.InsecureProcessLocalState = true
	_, err = logto.New(single)
	fmt.Println(err)
	// Output:
	// true RevocationList
	// <nil>
	// <nil>
}

// A test clock drives the in-process state the same way as Config.Now.
func ExampleWithClock() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := logto.NewMemoryStore(logto.WithClock(clock))

	ctx := context.Background()
	_ = store.Set(ctx, "greeting", []byte("hello"), time.Minute)
	v, err := store.Get(ctx, "greeting")
	fmt.Printf("%s %v\n", v, err)
	now = now.Add(time.Minute)
	_, err = store.Get(ctx, "greeting")
	fmt.Println(errors.Is(err, logto.ErrStoreNotFound))

	_ = logto.Config{
		Now:              clock,
		SessionStore:     store,
		RevocationList:   logto.NewMemoryRevocationList(logto.WithClock(clock)),
		RefreshCoalescer: logto.NewLocalRefreshCoalescer(logto.WithClock(clock)),
	}
	// Output:
	// hello <nil>
	// true
}
