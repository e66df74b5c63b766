package logto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// referenceSession loads bench/testdata/reference-session.json: an ES384 ID
// token, a refresh token, the opaque default access token and 3 JWT access
// tokens for API resources, shaped like logto-captures.
func referenceSession(tb testing.TB) (*Client, *session) {
	tb.Helper()
	return referenceSessionWith(tb, nil)
}

// referenceSessionWith is referenceSession with a Config edit.
func referenceSessionWith(tb testing.TB, edit func(*Config)) (*Client, *session) {
	tb.Helper()
	raw, err := os.ReadFile("bench/testdata/reference-session.json")
	if err != nil {
		tb.Skipf("reference session: %v", err)
	}
	var ref struct {
		AppID, Endpoint, CookieSecret, IDToken, RefreshToken string
		AccessTokens                                         map[string]accessTokenEntry
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		tb.Fatal(err)
	}
	cfg := Config{AppID: ref.AppID, AppSecret: "bench", Endpoint: ref.Endpoint, BaseURL: "http://localhost:3000", CookieSecret: ref.CookieSecret}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	return c, &session{
		IDToken: ref.IDToken, RefreshToken: ref.RefreshToken, AccessTokens: ref.AccessTokens,
		CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(14 * 24 * time.Hour).Unix(),
	}
}

// saveSession writes sess as a new session to w.
func saveSession(c *Client, w http.ResponseWriter, sess *session) error {
	r := httptest.NewRequest("GET", "/", nil)
	return c.sessions.save(r.Context(), w, r, sess, c.sessions.backend.fresh())
}

// sealedRequest seals sess into a response and returns a request carrying
// its cookies, and their total size.
func sealedRequest(tb testing.TB, c *Client, sess *session) (*http.Request, int) {
	tb.Helper()
	w := httptest.NewRecorder()
	if err := saveSession(c, w, sess); err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	size := 0
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			continue // an expiry (of the other form): browsers drop it
		}
		r.AddCookie(ck)
		size += len(ck.Name) + 1 + len(ck.Value)
	}
	return r, size
}

func TestReferenceSessionSize(t *testing.T) {
	c, sess := referenceSession(t)
	w := httptest.NewRecorder()
	if err := saveSession(c, w, sess); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, line := range w.Header().Values("Set-Cookie") {
		if len(line) > 4096 {
			t.Fatalf("Set-Cookie of %d bytes", len(line))
		}
		ck, _ := http.ParseSetCookie(line)
		if ck.MaxAge < 0 {
			continue // an expiry, not sent back
		}
		total += len(ck.Name) + 1 + len(ck.Value)
	}
	t.Logf("reference session: %d cookie(s), %d bytes as sent (name=value)", len(w.Header().Values("Set-Cookie")), total)
	// @logto/next seals this session into 4359 bytes; the target is 0.8x.
	if total > 3487 {
		t.Errorf("reference session takes %d cookie bytes, want at most 3487 (0.8x @logto/next)", total)
	}
}

// BenchmarkGetContextReference: the per-request path on the reference
// session, warm: the cookie was seen before (the cache hits).
func BenchmarkGetContextReference(b *testing.B) {
	c, sess := referenceSession(b)
	r, size := sealedRequest(b, c, sess)
	b.ReportAllocs()
	for b.Loop() {
		lc, err := c.GetContext(nil, r)
		if err != nil || !lc.IsAuthenticated {
			b.Fatal("not authenticated")
		}
	}
	b.ReportMetric(float64(size), "cookie-bytes")
}

// BenchmarkGetContextColdReference: the first request of a cookie (the
// cache disabled, so every request opens it).
func BenchmarkGetContextColdReference(b *testing.B) {
	c, sess := referenceSessionWith(b, func(cfg *Config) { cfg.SessionCacheBytes = -1 })
	r, _ := sealedRequest(b, c, sess)
	b.ReportAllocs()
	for b.Loop() {
		lc, err := c.GetContext(nil, r)
		if err != nil || !lc.IsAuthenticated {
			b.Fatal("not authenticated")
		}
	}
}

// BenchmarkFloorDecode is the floor: securecookie decoding of the same bytes
// alone (MAC check, decryption, base64), nothing else.
func BenchmarkFloorDecode(b *testing.B) {
	c, sess := referenceSession(b)
	r, _ := sealedRequest(b, c, sess)
	ref, value, err := c.sessions.backend.read(r.Context(), r)
	if err != nil {
		b.Fatal(err)
	}
	codec, name := c.sessions.codec, ref.name
	b.ReportAllocs()
	for b.Loop() {
		var out []byte
		if err := codec.Open(name, value, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealReference: sealing the reference session (a sign-in or refresh).
func BenchmarkSealReference(b *testing.B) {
	c, sess := referenceSession(b)
	b.ReportAllocs()
	for b.Loop() {
		fresh := *sess
		if err := saveSession(c, httptest.NewRecorder(), &fresh); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAndExpandReference: opening the session and decoding every
// token (what a request asking for an access token pays).
func BenchmarkOpenAndExpandReference(b *testing.B) {
	c, sess := referenceSessionWith(b, func(cfg *Config) { cfg.SessionCacheBytes = -1 })
	r, _ := sealedRequest(b, c, sess)
	b.ReportAllocs()
	for b.Loop() {
		l, err := c.sessions.load(r.Context(), r)
		s := *l.sess
		if err != nil || s.expand() != nil || len(s.AccessTokens) != 4 {
			b.Fatal("load")
		}
	}
}

// BenchmarkMiddlewareReference and BenchmarkBareHandler: a protected page
// through Middleware against the same handler alone.
func BenchmarkMiddlewareReference(b *testing.B) {
	c, sess := referenceSession(b)
	r, _ := sealedRequest(b, c, sess)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !FromContext(r.Context()).IsAuthenticated {
			b.Fatal("not authenticated")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(discardWriter{}, r)
	}
}

func BenchmarkBareHandler(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(discardWriter{}, r)
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

// BenchmarkSessionCacheMemory: 100,000 distinct reference sessions pass
// through the default cache (32 MiB); it reports the bytes the cache
// accounts per reference session and the RSS growth over the baseline
// measured before the first session (go test -bench SessionCacheMemory
// -benchtime 1x).
func BenchmarkSessionCacheMemory(b *testing.B) {
	c, sess := referenceSession(b)
	const sessions = 100_000
	// Seal distinct sessions first: sealing is not what is measured.
	values := make([]string, 0, sessions)
	name := ""
	for i := 0; i < sessions; i++ {
		s := *sess
		s.RefreshToken = fmt.Sprintf("%s-%06d", sess.RefreshToken, i)
		rec := httptest.NewRecorder()
		if err := saveSession(c, rec, &s); err != nil {
			b.Fatal(err)
		}
		ck := rec.Result().Cookies()[0]
		name = ck.Name
		values = append(values, ck.Value)
	}
	debug.FreeOSMemory()
	before := rssBytes()
	b.ResetTimer()
	for b.Loop() {
		for _, v := range values {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", name+"="+v)
			if lc, err := c.GetContext(nil, r); err != nil || !lc.IsAuthenticated {
				b.Fatal("not authenticated")
			}
		}
	}
	b.StopTimer()
	debug.FreeOSMemory() // what stays is the cache, not the garbage of the requests
	var perSession int64
	for i := range c.sessions.cache.shards {
		s := &c.sessions.cache.shards[i]
		if len(s.ring) > 0 {
			perSession = s.ring[0].size
			break
		}
	}
	b.ReportMetric(float64(perSession), "cache-bytes/session")
	b.ReportMetric(float64(c.sessions.cache.len()), "cached-sessions")
	b.ReportMetric(float64(rssBytes()-before)/(1<<20), "rss-MiB-growth")
	runtime.KeepAlive(values) // in the baseline: keep them out of the growth
}

// rssBytes reads the process's resident set size (Linux), 0 elsewhere.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0
	}
	return resident * int64(os.Getpagesize())
}
