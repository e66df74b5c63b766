package redisstore_test

import (
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
	store := redisstore.New(rdb)
	client, err := logto.New(logto.Config{
		AppID:            os.Getenv("LOGTO_APP_ID"),
		AppSecret:        os.Getenv("LOGTO_APP_SECRET"),
		Endpoint:         "https://your-tenant.logto.app",
		BaseURL:          "https://app.example.com",
		CookieSecret:     os.Getenv("LOGTO_COOKIE_SECRET"),
		SessionStore:     store,
		RevocationList:   logto.NewStoreRevocationList(store),
		RefreshCoalescer: redisstore.NewRefreshCoalescer(rdb),
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
