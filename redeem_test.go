package logto_test

// A code is redeemed once (issue 10, point 2): a callback delivered several
// times at once makes one code exchange and every delivery gets its outcome;
// one delivered after the exchange is refused and changes nothing; two
// instances sharing a SessionStore that implements logto.AtomicAdder
// redeem it once between them.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// front serves handler on a server of its own and counts the callbacks that
// reached it. Browsers send cookies regardless of the port, so a delivery
// through a front carries the app's cookies.
type front struct {
	*httptest.Server
	arrived *atomic.Int32
}

func newFront(t *testing.T, handler http.Handler, arrived *atomic.Int32) front {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/callback") {
			arrived.Add(1)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return front{srv, arrived}
}

// holdCodeExchange makes the provider's code exchange answer only once want
// callbacks have reached the app (or after 10 s), plus a grace period for
// them to join the exchange in flight; fail turns its answer into a 500
// server_error. Refreshes are not held.
func holdCodeExchange(h *harness, arrived *atomic.Int32, want int32, fail bool) {
	h.op.SetHooks(logtotest.Hooks{TokenResponseFor: func(grant string, status *int, body map[string]any) {
		if grant != "authorization_code" {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for arrived.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		if fail {
			*status = http.StatusInternalServerError
			clear(body)
			body["error"], body["error_description"] = "server_error", "oops! something went wrong"
		}
	}})
}

// deliver sends GET u with exactly the Cookie header cookie from n
// goroutines at once and returns the responses in order.
func deliver(t *testing.T, urls []string, cookie string) []*response {
	t.Helper()
	out := make([]*response, len(urls))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Cookie", cookie)
			req.Header.Set("Accept", "text/html")
			c := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Do(req)
			if err != nil {
				t.Errorf("delivery %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			var sb strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			out[i] = &response{resp, sb.String()}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// appCookies is the Cookie header the browser b sends to the app.
func (h *harness) appCookies(b *browser) string {
	u, _ := url.Parse(h.app.URL)
	return cookieHeader(b.c.Jar.Cookies(u))
}

// sessionSetCookies returns the session cookies r writes ("name=value"
// sorted, joined with "; "), or "" when it writes none.
func (h *harness) sessionSetCookies(r *response) string {
	var parts []string
	for name, ck := range setCookies(r) {
		if (name == "logto_"+h.appID || strings.HasPrefix(name, "logto_"+h.appID+".")) && ck.MaxAge >= 0 && ck.Value != "" {
			parts = append(parts, name+"="+ck.Value)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// TestCallbackDeliveredTwiceRedeemsOnce: 2 and 10 parallel deliveries of
// one callback URL with the same cookies make exactly one token request;
// every delivery gets a 303 to the same place with the same session
// cookies, and that session refreshes fine (the grant was not revoked).
func TestCallbackDeliveredTwiceRedeemsOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		n     int
		store func() logto.Store
	}{
		{"2/cookie", 2, func() logto.Store { return nil }},
		{"10/cookie", 10, func() logto.Store { return nil }},
		{"10/store", 10, func() logto.Store { return logto.NewMemoryStore() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.SessionStore = tc.store() }))
			b := h.browser()
			cb := h.authorize(b, h.startSignIn(b, "/welcome"))
			var arrived atomic.Int32
			f := newFront(t, h.app.Config.Handler, &arrived)
			holdCodeExchange(h, &arrived, int32(tc.n), false)

			urls := make([]string, tc.n)
			for i := range urls {
				urls[i] = f.URL + cb.RequestURI()
			}
			rs := deliver(t, urls, h.appCookies(b))
			h.op.SetHooks(logtotest.Hooks{})

			if got := h.tokenCalls(); got != 1 {
				t.Fatalf("token requests = %d for %d deliveries, want 1", got, tc.n)
			}
			want := h.sessionSetCookies(rs[0])
			if want == "" {
				t.Fatalf("delivery 0 wrote no session: %d %s", rs[0].StatusCode, rs[0].body)
			}
			for i, r := range rs {
				if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/welcome" {
					t.Fatalf("delivery %d: %d %q, want 303 /welcome; body %s", i, r.StatusCode, r.Header.Get("Location"), r.body)
				}
				if got := h.sessionSetCookies(r); got != want {
					t.Fatalf("delivery %d wrote other session cookies than delivery 0", i)
				}
				h.assertNoLeak(r)
			}
			if err := h.lastError(); err != nil {
				t.Fatalf("error handler saw %v", err)
			}

			// The one session works, and refreshes with the grant intact.
			tok := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), want, "")
			if tok.StatusCode != http.StatusOK || len(h.refreshRequests()) != 1 {
				t.Fatalf("refresh after the deliveries: %d %s, %d refresh requests", tok.StatusCode, tok.body, len(h.refreshRequests()))
			}
			if c := h.contextFromBody(rawGet(t, h.app.URL+"/api/context?getAccessToken=1", want, "")); !c.IsAuthenticated || c.AccessToken == "" {
				t.Fatalf("context after the deliveries: %+v", c)
			}
			// Later deliveries of the same callback are refused.
			late := deliver(t, urls[:1], h.appCookies(b))[0]
			h.rejected(late, http.StatusBadRequest, logto.ErrInvalidCallback, 2) // the exchange and the refresh
			if got := reasonOf(h.lastError()); got != logto.ReasonStateMismatch {
				t.Fatalf("late delivery: reason %q", got)
			}
		})
	}
}

// TestCallbackDeliveredTwiceExchangeFails: when the one code exchange fails,
// every delivery gets the same error, and no session.
func TestCallbackDeliveredTwiceExchangeFails(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			b := h.browser()
			cb := h.authorize(b, h.startSignIn(b, ""))
			var arrived atomic.Int32
			f := newFront(t, h.app.Config.Handler, &arrived)
			holdCodeExchange(h, &arrived, int32(n), true)
			urls := slices.Repeat([]string{f.URL + cb.RequestURI()}, n)
			rs := deliver(t, urls, h.appCookies(b))
			for i, r := range rs {
				h.rejected(r, http.StatusBadGateway, logto.ErrProviderResponse, 1)
				if i > 0 && r.body != rs[0].body {
					t.Fatalf("delivery %d: another error page than delivery 0:\n%s\n%s", i, r.body, rs[0].body)
				}
			}
			var pe *logto.ProviderError
			if !errors.As(h.lastError(), &pe) || pe.Code != "server_error" {
				t.Fatalf("error = %v", h.lastError())
			}
			// The transaction is used: a later delivery is refused without a token request.
			h.rejected(deliver(t, urls[:1], h.appCookies(b))[0], http.StatusBadRequest, logto.ErrInvalidCallback, 1)
		})
	}
}

// TestCallbackAfterRedemption: a stale transaction cookie replayed with the
// callback after the sign-in completed is refused (400, state mismatch)
// without a token request, writes no session, and the session stays.
func TestCallbackAfterRedemption(t *testing.T) {
	t.Parallel()
	for name, store := range map[string]func() logto.Store{
		"cookie": func() logto.Store { return nil },
		"store":  func() logto.Store { return logto.NewMemoryStore() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.SessionStore = store() }))
			b := h.browser()
			cb := h.authorize(b, h.startSignIn(b, ""))
			stale := h.appCookies(b) // the transaction cookie, before the callback deletes it
			if r := b.get(cb.String()); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: %d %s", r.StatusCode, r.body)
			}
			before := h.context(b)
			session := cookieHeader(h.sessionCookies(b))

			r := rawGet(t, cb.String(), stale+"; "+session, "text/html")
			h.rejected(r, http.StatusBadRequest, logto.ErrInvalidCallback, 1)
			if got := reasonOf(h.lastError()); got != logto.ReasonStateMismatch {
				t.Fatalf("reason = %q", got)
			}
			for _, line := range r.Header.Values("Set-Cookie") {
				if strings.HasPrefix(line, "logto_"+h.appID+"=") || strings.HasPrefix(line, "logto_"+h.appID+".") {
					t.Fatalf("the refused callback touched the session: %s", line)
				}
			}
			after := h.context(b)
			if !after.IsAuthenticated || after.Claims["sub"] != before.Claims["sub"] {
				t.Fatalf("session changed by the replay: %+v", after)
			}
			if tok := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); tok.StatusCode != http.StatusOK {
				t.Fatalf("refresh after the replay: %d %s", tok.StatusCode, tok.body)
			}
		})
	}
}

// secondInstance starts another instance of h's app: its own Client with the
// same app, secrets and shared state, on a server of its own.
func (h *harness) secondInstance(t *testing.T, shared *logto.SharedState, arrived *atomic.Int32) front {
	t.Helper()
	var client *logto.Client
	client, err := logto.New(logto.Config{
		AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: h.op.URL(),
		BaseURL: h.app.URL, CookieSecret: canaryCookieSecret,
		Scopes: []string{logto.UserScopeEmail, logto.UserScopePhone}, Shared: shared,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			h.recordError(err)
			client.DefaultErrorHandler(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return newFront(t, client.Handler(), arrived)
}

// hidingStore hides the AtomicAdder of the Store it wraps.
type hidingStore struct{ logto.Store }

// TestCallbackTwoInstancesRedeemOnce: two instances sharing a SessionStore
// receive the same callback at once. With an AtomicAdder store one of them
// redeems the code (one token request) and the other answers 400; the
// session works on both. Without one (documented), both redeem, Logto
// revokes the grant, and the session ends at its first refresh.
func TestCallbackTwoInstancesRedeemOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		atomic bool
	}{{"AtomicAdder", true}, {"plain Store", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var store logto.Store = logto.NewMemoryStore()
			if !tc.atomic {
				store = hidingStore{store}
			}
			// Both instances run in this process: an in-process coalescer
			// shared by both is shared state.
			shared := &logto.SharedState{Store: store, RefreshCoalescer: logto.NewLocalRefreshCoalescer()}
			h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.Shared = shared }))
			b := h.browser()
			cb := h.authorize(b, h.startSignIn(b, ""))
			var arrived atomic.Int32
			a := newFront(t, h.app.Config.Handler, &arrived)
			other := h.secondInstance(t, shared, &arrived)
			holdCodeExchange(h, &arrived, 2, false)
			rs := deliver(t, []string{a.URL + cb.RequestURI(), other.URL + cb.RequestURI()}, h.appCookies(b))
			h.op.SetHooks(logtotest.Hooks{})

			var won, lost *response
			for _, r := range rs {
				if r.StatusCode == http.StatusSeeOther {
					won = r
				} else {
					lost = r
				}
			}
			if won == nil || lost == nil {
				t.Fatalf("statuses %d and %d, want one 303 and one refusal", rs[0].StatusCode, rs[1].StatusCode)
			}
			session := h.sessionSetCookies(won)
			if !tc.atomic {
				// Both redeemed: Logto refused the second exchange and revoked the grant.
				if got := h.tokenCalls(); got != 2 || lost.StatusCode != http.StatusBadGateway {
					t.Fatalf("without AtomicAdder: %d token requests, refusal %d; want 2 and 502", got, lost.StatusCode)
				}
				if tok := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), session, ""); tok.StatusCode != http.StatusUnauthorized {
					t.Fatalf("refresh after a double redemption: %d, want 401 (grant revoked)", tok.StatusCode)
				}
				return
			}
			h.rejected(lost, http.StatusBadRequest, logto.ErrInvalidCallback, 1)
			if got := reasonOf(h.lastError()); got != logto.ReasonStateMismatch {
				t.Fatalf("reason = %q", got)
			}
			if tok := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), session, ""); tok.StatusCode != http.StatusOK {
				t.Fatalf("refresh after the deliveries: %d %s", tok.StatusCode, tok.body)
			}
			if len(h.refreshRequests()) != 1 {
				t.Fatalf("refresh requests = %d", len(h.refreshRequests()))
			}
		})
	}
}

// claimFailingStore is a working Store whose AddIfAbsent fails, like a
// Redis that went down between two commands.
type claimFailingStore struct{ logto.Store }

func (claimFailingStore) AddIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errors.New("dial tcp: connection refused")
}

// TestCallbackClaimStoreDown: when the state cannot be claimed, the callback
// fails with 503 before any token request.
func TestCallbackClaimStoreDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *logto.Config) {
		c.SessionStore = claimFailingStore{logto.NewMemoryStore()}
		c.InsecureProcessLocalState = true // one instance
	}))
	b := h.browser()
	r := b.get(h.authorize(b, h.startSignIn(b, "")).String())
	h.rejected(r, http.StatusServiceUnavailable, logto.ErrSessionStoreUnavailable, 0)
}

// TestCallbackFirstDeliveryGoesAway: the delivery that started the code
// exchange is abandoned by its browser while the exchange is in flight; the
// exchange goes on, and the other delivery still signs the user in.
func TestCallbackFirstDeliveryGoesAway(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, ""))
	var arrived atomic.Int32
	f := newFront(t, h.app.Config.Handler, &arrived)
	ctx, abandon := context.WithCancel(context.Background())
	defer abandon()
	h.op.SetHooks(logtotest.Hooks{TokenResponseFor: func(grant string, _ *int, _ map[string]any) {
		deadline := time.Now().Add(10 * time.Second)
		for arrived.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		abandon()
		time.Sleep(200 * time.Millisecond) // for the app to notice the closed connection
	}})
	cookie := h.appCookies(b)
	firstDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL+cb.RequestURI(), nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		firstDone <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); arrived.Load() < 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // for the first delivery to start the exchange
	r := deliver(t, []string{f.URL + cb.RequestURI()}, cookie)[0]
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("first delivery: %v, want it abandoned", err)
	}
	if r.StatusCode != http.StatusSeeOther || h.sessionSetCookies(r) == "" {
		t.Fatalf("second delivery: %d, session written %v; body %s", r.StatusCode, h.sessionSetCookies(r) != "", r.body)
	}
	if got := h.tokenCalls(); got != 1 {
		t.Fatalf("token requests = %d, want 1", got)
	}
	if c := h.contextFromBody(rawGet(t, h.app.URL+"/api/context", h.sessionSetCookies(r), "")); !c.IsAuthenticated {
		t.Fatal("the second delivery's session is not signed in")
	}
}
