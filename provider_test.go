package logto_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestDiscoveryIssuerMismatch: rp-discovery-issuer-not-matching-config.
func TestDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.op.SetHooks(logtotest.Hooks{Discovery: func(doc map[string]any) { doc["issuer"] = "https://example.com" }})
	b := h.browser()
	r := b.get(h.app.URL + "/sign-in")
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Location") != "" {
		t.Fatalf("status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	if !errors.Is(h.lastError(), logto.ErrProviderUnavailable) || reasonOf(h.lastError()) != logto.ReasonIssuer {
		t.Fatalf("err = %v", h.lastError())
	}
	if n := h.op.CountRequests("/oidc/auth"); n != 0 {
		t.Fatalf("authorization requests: %d", n)
	}
}

// TestDiscoveryRetriedAfterFailure: an outage is not cached forever.
func TestDiscoveryRetriedAfterFailure(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	op := logtotest.NewServer(t, logtotest.WithClock(clock.Now))
	target, _ := url.Parse(op.URL())
	var down atomic.Bool
	down.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	// The proxy serves the provider's document, whose issuer names the
	// provider's own URL: point the client at the provider but route through
	// the proxy with a custom transport.
	client, err := logto.New(logto.Config{
		AppID: logtotest.DefaultAppID, AppSecret: logtotest.DefaultAppSecret,
		Endpoint: op.URL(), BaseURL: "http://localhost:3000", CookieSecret: canaryCookieSecret, Now: clock.Now,
		HTTPClient: &http.Client{Timeout: 2 * time.Second, Transport: redirectTransport{to: front.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() int {
		w := httptest.NewRecorder()
		if err := client.SignIn(w, httptest.NewRequest("GET", "http://localhost:3000/sign-in", nil), nil); err != nil {
			return logto.StatusCode(err)
		}
		return w.Code
	}
	if got := signIn(); got != http.StatusServiceUnavailable {
		t.Fatalf("provider down: %d", got)
	}
	down.Store(false)
	if got := signIn(); got != http.StatusServiceUnavailable {
		t.Fatalf("within the retry delay: %d (failure should be remembered briefly)", got)
	}
	clock.Advance(2 * time.Second)
	if got := signIn(); got != http.StatusFound {
		t.Fatalf("provider back: %d", got)
	}
}

// redirectTransport sends every request to another host (a test proxy).
type redirectTransport struct{ to string }

func (t redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(t.to)
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	return http.DefaultTransport.RoundTrip(r)
}

// TestTOK14TokenTimeout: a hanging token endpoint gives 504 within the timeout.
func TestTOK14TokenTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *logto.Config) { c.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond} }))
	h.op.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			return 30 * time.Second
		}
		return 0
	}})
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	start := time.Now()
	r := b.get(cb.String())
	if took := time.Since(start); took > 1500*time.Millisecond { // the timeout + 1 s (I6)
		t.Fatalf("took %s", took)
	}
	if r.StatusCode != http.StatusGatewayTimeout || !errors.Is(h.lastError(), logto.ErrProviderTimeout) {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if h.sessionCookieWritten(r) {
		t.Fatal("session written")
	}
}

// TestKEY01JWKSUnreachable: connection refused at the JWKS gives 503.
func TestKEY01JWKSUnreachable(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	deadURL := closed.URL + "/oidc/jwks"
	closed.Close()
	h := newHarness(t)
	h.op.SetHooks(logtotest.Hooks{Discovery: func(doc map[string]any) { doc["jwks_uri"] = deadURL }})
	b := h.browser()
	r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
	if r.StatusCode != http.StatusServiceUnavailable || !errors.Is(h.lastError(), logto.ErrProviderUnavailable) {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if h.sessionCookieWritten(r) {
		t.Fatal("session written")
	}
}

// TestKeyRotation: rp-key-rotation-op-sign-key.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withClock(clock.Now))
	b := h.browser()
	if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", r.StatusCode)
	}
	if err := h.op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	h.op.RemovePreviousKeys()
	clock.Advance(15 * time.Second) // past the JWKS refetch interval
	jwksBefore := h.op.CountRequests("/oidc/jwks")
	if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after rotation: %d %s", r.StatusCode, r.body)
	}
	if n := h.op.CountRequests("/oidc/jwks") - jwksBefore; n != 1 {
		t.Fatalf("JWKS fetches after rotation = %d, want 1", n)
	}
}
