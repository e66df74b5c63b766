package logto

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/seal"
	"github.com/logto-go/logto/internal/testkit"
)

// cacheFixture is a Client on a settable clock with the reference session
// sealed into a request.
type cacheFixture struct {
	c     *Client
	sess  *session
	r     *http.Request
	clock *testkit.Clock
}

func newCacheFixture(t testing.TB, edit func(*Config)) *cacheFixture {
	t.Helper()
	clock := testkit.NewClock()
	c, sess := referenceSessionWith(t, func(cfg *Config) {
		cfg.Now = clock.Now
		if edit != nil {
			edit(cfg)
		}
	})
	sess.CreatedAt, sess.ExpiresAt = clock.Now().UnixMilli(), clock.Now().Add(c.cfg.SessionMaxAge).Unix()
	r, _ := sealedRequest(t, c, sess)
	return &cacheFixture{c: c, sess: sess, r: r, clock: clock}
}

func (f *cacheFixture) authenticated(t testing.TB, r *http.Request) bool {
	t.Helper()
	lc, err := f.c.GetContext(httptest.NewRecorder(), r)
	if err != nil {
		t.Fatal(err)
	}
	return lc.IsAuthenticated
}

// withCookie returns r's copy carrying header as its Cookie header.
func withCookie(r *http.Request, header string) *http.Request {
	out := r.Clone(context.Background())
	out.Header.Set("Cookie", header)
	return out
}

// unopenable makes the Client's codec unable to open anything: from then on
// only the cache can answer.
func (f *cacheFixture) unopenable(t testing.TB) {
	t.Helper()
	codec, err := seal.NewBinary([]string{strings.Repeat("x", 40)}, "session|other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.c.sessions.codec = codec
}

// TestSessionCacheExactBytesOnly: the exact bytes hit (the Client could no
// longer open them); one byte changed, a truncation, reordered chunks or a
// chunk of another session miss, and read as signed out.
func TestSessionCacheExactBytesOnly(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, nil)
	// A second, larger session in several chunks, and another one.
	big := *f.sess
	big.AccessTokens = map[string]accessTokenEntry{}
	for k, v := range f.sess.AccessTokens {
		big.AccessTokens[k] = v
	}
	for i := 0; i < 30; i++ { // incompressible opaque tokens
		big.AccessTokens[fmt.Sprint("@https://api", i)] = accessTokenEntry{Token: randomToken() + randomToken() + randomToken() + randomToken(), ExpiresAt: f.clock.Now().Add(time.Hour).Unix()}
	}
	chunked, _ := sealedRequest(t, f.c, &big)
	other := big
	other.RefreshToken += "-other"
	otherReq, _ := sealedRequest(t, f.c, &other)
	if n := len(chunked.Cookies()); n < 3 {
		t.Fatalf("want a session of 3+ chunks, got %d cookies", n)
	}
	for _, r := range []*http.Request{f.r, chunked, otherReq} {
		if !f.authenticated(t, r) {
			t.Fatal("fresh session not authenticated")
		}
	}
	if n := f.c.sessions.cache.len(); n != 3 {
		t.Fatalf("cache holds %d sessions, want 3", n)
	}
	f.unopenable(t)
	if !f.authenticated(t, f.r) || !f.authenticated(t, chunked) {
		t.Fatal("the exact bytes did not hit")
	}

	single := f.r.Cookies()[0]
	flip := []byte(single.Value)
	flip[len(flip)/2] ^= 1
	cks := chunked.Cookies()
	otherCks := otherReq.Cookies()
	header := func(cs ...*http.Cookie) string {
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	swapped := []*http.Cookie{cks[0], {Name: cks[1].Name, Value: cks[2].Value}, {Name: cks[2].Name, Value: cks[1].Value}}
	foreign := append([]*http.Cookie{cks[0], otherCks[1]}, cks[2:]...)
	for name, h := range map[string]string{
		"one byte changed": single.Name + "=" + string(flip),
		"truncated":        single.Name + "=" + single.Value[:len(single.Value)-1],
		"prefix":           single.Name + "=" + single.Value[:len(single.Value)/2],
		"reordered chunks": header(swapped...),
		"foreign chunk":    header(foreign...),
	} {
		if f.authenticated(t, withCookie(f.r, h)) {
			t.Errorf("%s: served as authenticated", name)
		}
	}
}

// TestSessionCacheChecksTimeAndRevocations: what depends on time or shared
// state is checked on every hit: ID token expiry, the absolute and idle
// lifetimes, a back-channel logout; sign-out and rewrites drop the entry.
func TestSessionCacheChecksTimeAndRevocations(t *testing.T) {
	t.Parallel()
	t.Run("ID token expired", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, func(cfg *Config) { cfg.SessionMaxAge = 200 * 365 * 24 * time.Hour })
		if !f.authenticated(t, f.r) {
			t.Fatal("fresh")
		}
		f.clock.Set(time.Unix(f.sess.identity().Exp, 0).Add(2 * time.Minute))
		if f.authenticated(t, f.r) {
			t.Fatal("a cached session with an expired ID token reads as authenticated")
		}
	})
	t.Run("absolute lifetime", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, func(cfg *Config) { cfg.SessionMaxAge = time.Hour; cfg.SessionIdleTimeout = -1 })
		f.authenticated(t, f.r)
		f.clock.Advance(time.Hour)
		if f.authenticated(t, f.r) || f.c.sessions.cache.len() != 0 {
			t.Fatal("a cached session outlived its absolute lifetime")
		}
	})
	t.Run("idle lifetime", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, func(cfg *Config) { cfg.SessionIdleTimeout = 30 * time.Minute })
		f.authenticated(t, f.r)
		f.clock.Advance(31 * time.Minute)
		if f.authenticated(t, f.r) {
			t.Fatal("a cached idle session survived")
		}
	})
	t.Run("back-channel logout", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, nil)
		f.authenticated(t, f.r)
		sub := f.sess.identity().Sub
		if err := f.c.cfg.RevocationList.Revoke(context.Background(), f.c.revocationKey("sub", sub), f.clock.Now(), f.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if f.authenticated(t, f.r) {
			t.Fatal("a cached session ended by a back-channel logout reads as signed in")
		}
	})
	t.Run("sign-out", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, nil)
		f.authenticated(t, f.r)
		f.unopenable(t)
		out := withCookie(f.r, f.r.Header.Get("Cookie"))
		out.Method = http.MethodPost
		out.Header.Set("Origin", "http://localhost:3000")
		_ = f.c.SignOut(httptest.NewRecorder(), out)
		if f.c.sessions.cache.len() != 0 || f.authenticated(t, f.r) {
			t.Fatal("the signed-out cookie bytes were served from the cache")
		}
	})
	t.Run("rewrite", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t, func(cfg *Config) { cfg.SessionIdleTimeout = 30 * time.Minute })
		f.authenticated(t, f.r)
		f.clock.Advance(time.Minute) // activity due: the session is rewritten
		w := httptest.NewRecorder()
		if _, err := f.c.GetContext(w, f.r); err != nil || len(w.Header().Values("Set-Cookie")) == 0 {
			t.Fatalf("no rewrite: %v", err)
		}
		if n := f.c.sessions.cache.len(); n != 0 {
			t.Fatalf("the rewritten session's old bytes stay cached (%d entries)", n)
		}
	})
}

// TestSessionCacheRemovedSecret: a Client built without the secret that
// sealed a cookie does not open it, however often another Client (with the
// secret) served it from its cache.
func TestSessionCacheRemovedSecret(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, nil)
	f.authenticated(t, f.r)
	rotated, _ := referenceSessionWith(t, func(cfg *Config) {
		cfg.Now = f.clock.Now
		cfg.CookieSecret = strings.Repeat("n", 40)
	})
	if lc, _ := rotated.GetContext(nil, f.r); lc.IsAuthenticated {
		t.Fatal("a Client without the secret opened the session")
	}
	during, _ := referenceSessionWith(t, func(cfg *Config) {
		cfg.Now = f.clock.Now
		cfg.CookieSecret, cfg.PreviousCookieSecrets = strings.Repeat("n", 40), []string{f.c.cfg.CookieSecret}
	})
	w := httptest.NewRecorder()
	if lc, _ := during.GetContext(w, f.r); !lc.IsAuthenticated || len(w.Header().Values("Set-Cookie")) == 0 {
		t.Fatal("during the rotation the session must open and be re-sealed")
	}
	// A hit of bytes sealed with the previous secret re-seals too.
	w = httptest.NewRecorder()
	if lc, _ := during.GetContext(w, f.r); !lc.IsAuthenticated || len(w.Header().Values("Set-Cookie")) == 0 {
		t.Fatal("a cached session sealed with the previous secret was not re-sealed")
	}
}

// TestSessionCacheConcurrentHitsAndEvictions: many sessions through a cache
// that holds a few, from several goroutines: every request is answered
// correctly while entries are evicted (run with -race).
func TestSessionCacheConcurrentHitsAndEvictions(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, func(cfg *Config) { cfg.SessionCacheBytes = 16 * 8 << 10 }) // about 2 per shard
	var reqs []*http.Request
	for i := 0; i < 64; i++ {
		s := *f.sess
		s.RefreshToken = strings.Repeat("r", i+1)
		r, _ := sealedRequest(t, f.c, &s)
		reqs = append(reqs, r)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				r := reqs[(i*7+g*13)%len(reqs)]
				if lc, err := f.c.GetContext(nil, r); err != nil || !lc.IsAuthenticated {
					t.Errorf("request %d: %v %v", i, lc.IsAuthenticated, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for i := range f.c.sessions.cache.shards {
		s := &f.c.sessions.cache.shards[i]
		if s.bytes > f.c.sessions.cache.shardBudget {
			t.Fatalf("shard %d holds %d bytes, over its budget %d", i, s.bytes, f.c.sessions.cache.shardBudget)
		}
		total += s.bytes
	}
	if n := f.c.sessions.cache.len(); n == 0 || n >= len(reqs) {
		t.Fatalf("cache holds %d of %d sessions: no eviction happened", n, len(reqs))
	}
}

// FuzzSessionCacheKey: no cookie value but the exact sealed one is served
// as authenticated, once the sealed one is cached (and the Client can no
// longer open anything: only a cache hit could authenticate).
func FuzzSessionCacheKey(f *testing.F) {
	fx := newCacheFixture(f, nil)
	if !fx.authenticated(f, fx.r) {
		f.Fatal("fresh")
	}
	fx.unopenable(f)
	good := fx.r.Cookies()[0]
	f.Add(good.Value)
	f.Add(good.Value[:len(good.Value)-1])
	f.Add(good.Value + "A")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		r := withCookie(fx.r, good.Name+"="+value)
		lc, _ := fx.c.GetContext(nil, r)
		if lc.IsAuthenticated && value != good.Value && strings.Trim(value, `"`) != good.Value {
			t.Fatalf("cookie value %q served as authenticated", value)
		}
	})
}
