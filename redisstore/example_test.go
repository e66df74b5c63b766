package redisstore_test

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/redisstore"
)

// Every instance of the app uses the same Redis: sessions, back-channel
// logouts and token refreshes are shared. (It needs a running Redis, so it
// is compiled but not run.)
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	client, err := logto.New(logto.Config{
		AppID:        os.Getenv("LOGTO_APP_ID"),
		AppSecret:    os.Getenv("LOGTO_APP_SECRET"),
		Endpoint:     "https://your-tenant.logto.app",
		BaseURL:      "https://app.example.com",
		CookieSecret: os.Getenv("LOGTO_COOKIE_SECRET"),
		Shared:       redisstore.NewSharedState(rdb),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", client.Handler())
	log.Fatal(http.ListenAndServe(":3000", mux))
}

// A coalescer tuned for a deployment whose HTTP client to Logto has a 20 s
// timeout: the lock must outlive the slowest refresh.
func ExampleNewRefreshCoalescer() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	coalescer := redisstore.NewRefreshCoalescer(rdb,
		redisstore.WithLockTTL(25*time.Second),
		redisstore.WithLogger(slog.Default()),
	)
	_ = logto.Config{
		HTTPClient:       &http.Client{Timeout: 20 * time.Second},
		RefreshCoalescer: coalescer,
	}
}

// NewSharedState is the one value several instances need. Building it and
// the Client contacts no Redis; the first request does. The same Store as
// SessionStore alone is refused.
func ExampleNewSharedState() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	cfg := logto.Config{
		AppID: "my-app-id", AppSecret: "my-app-secret", Endpoint: "https://my-tenant.logto.app",
		BaseURL: "https://app.example.com", CookieSecret: "a-random-secret-of-at-least-32-characters",
	}

	shared := cfg
	shared.Shared = redisstore.NewSharedState(rdb, redisstore.WithLogger(slog.Default()))
	_, err := logto.New(shared)
	fmt.Println(err)

	storeOnly := cfg
	storeOnly.SessionStore = redisstore.New(rdb)
	_, err = logto.New(storeOnly)
	var ce *logto.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	// Output:
	// <nil>
	// true RevocationList
}
