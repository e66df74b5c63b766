package redisstore_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
	"github.com/logto-go/logto/redisstore"
)

const (
	e2eAppID        = "redisstoreapp0123456a"
	e2eAppSecret    = "RedisStoreAppSecret0123456789abc"
	e2eCookieSecret = "redisstore-cookie-secret-0123456789abcdef"
	e2eResource     = "https://api.example.com"
)

// newInstance starts one app instance on srv: a logto.Client with its own
// Redis client, serving the SDK's handlers and /api/token, which answers the
// API resource's access token as text.
func newInstance(t *testing.T, srv *httptest.Server, redisAddr, baseURL, endpoint string, clock func() time.Time) {
	t.Helper()
	rdb := newClient(t, redisAddr)
	client, err := logto.New(logto.Config{
		AppID:        e2eAppID,
		AppSecret:    e2eAppSecret,
		Endpoint:     endpoint,
		BaseURL:      baseURL,
		CookieSecret: e2eCookieSecret,
		Resources:    []string{e2eResource},
		Scopes:       []string{"read:items"},
		Now:          clock,
		Shared:       redisstore.NewSharedState(rdb, redisstore.WithClock(clock)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", client.Handler())
	mux.HandleFunc("GET /api/token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := client.GetAccessToken(w, r, e2eResource)
		if err != nil {
			http.Error(w, err.Error(), logto.StatusCode(err))
			return
		}
		_, _ = io.WriteString(w, tok)
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
}

// twoInstances starts a provider and two instances of one app sharing one
// Redis. Both serve the app's one public origin; the test talks to each
// directly, as a load balancer would.
func twoInstances(t *testing.T) (*logtotest.Server, *testkit.Clock, *httptest.Server, *httptest.Server) {
	t.Helper()
	redisAddr := startRedis(t)
	clock := testkit.NewClock()
	op := logtotest.NewServer(t,
		logtotest.WithClock(clock.Now),
		logtotest.WithResources(logtotest.Resource{Indicator: e2eResource, Scopes: []string{"read:items"}}))
	srvA, srvB := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	baseURL := "http://" + srvA.Listener.Addr().String()
	op.AddApp(logtotest.App{
		ID: e2eAppID, Secret: e2eAppSecret, Name: "two instances",
		RedirectURIs:           []string{baseURL + "/callback"},
		PostLogoutRedirectURIs: []string{baseURL + "/"},
	})
	newInstance(t, srvA, redisAddr, baseURL, op.URL(), clock.Now)
	newInstance(t, srvB, redisAddr, baseURL, op.URL(), clock.Now)
	return op, clock, srvA, srvB
}

// TestTwoInstancesOneRefresh is the deployment this package exists for: two
// instances of an app behind a load balancer share sessions and refreshes in
// one Redis. A page's burst of API calls with an expired access token, spread
// over both, makes one refresh_token grant, and every call gets its token.
func TestTwoInstancesOneRefresh(t *testing.T) {
	t.Parallel()
	op, clock, srvA, srvB := twoInstances(t)

	cookie := signIn(t, srvA.URL)
	first := get(t, srvA.URL+"/api/token", cookie)
	if first.status != http.StatusOK {
		t.Fatalf("first token: %d %s", first.status, first.body)
	}
	clock.Advance(2 * time.Hour) // the access token has expired
	before := len(refreshGrants(op))
	op.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			return 200 * time.Millisecond // so that the requests overlap
		}
		return 0
	}})

	const n = 100
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		u := srvA.URL
		if i%2 == 1 {
			u = srvB.URL
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = get(t, u+"/api/token", cookie)
		}()
	}
	close(start)
	wg.Wait()

	grants := len(refreshGrants(op)) - before
	t.Logf("%d concurrent requests over 2 instances made %d refresh_token grant(s)", n, grants)
	for i, r := range results {
		if r.status != http.StatusOK {
			t.Fatalf("request %d (instance %c): %d %s", i, "AB"[i%2], r.status, r.body)
		}
		if r.body != results[0].body {
			t.Fatalf("request %d (instance %c) got another token than request 0", i, "AB"[i%2])
		}
	}
	if results[0].body == first.body {
		t.Fatal("the expired token was handed out again")
	}
	if grants != 1 {
		t.Fatalf("refresh_token grants = %d, want 1", grants)
	}
	// The refreshed session is in Redis: both instances now answer from it.
	op.SetHooks(logtotest.Hooks{})
	for _, u := range []string{srvA.URL, srvB.URL} {
		if r := get(t, u+"/api/token", cookie); r.status != http.StatusOK || r.body != results[0].body {
			t.Fatalf("%s after the burst: %d, another token: %v", u, r.status, r.body != results[0].body)
		}
	}
	if g := len(refreshGrants(op)) - before; g != 1 {
		t.Fatalf("refresh_token grants after the burst = %d, want still 1", g)
	}
}

// TestTwoInstancesShareBackChannelLogout: Logto delivers a back-channel
// logout to one instance; the session ends on the other too, because both
// were built from one NewSharedState.
func TestTwoInstancesShareBackChannelLogout(t *testing.T) {
	t.Parallel()
	op, clock, srvA, srvB := twoInstances(t)
	cookie := signIn(t, srvA.URL)
	if r := get(t, srvB.URL+"/api/token", cookie); r.status != http.StatusOK {
		t.Fatalf("instance B before the logout: %d %s", r.status, r.body)
	}

	now := clock.Now().Unix()
	token, err := op.Sign(map[string]any{"typ": "logout+jwt"}, map[string]any{
		"iss": op.Issuer(), "aud": e2eAppID, "sub": logtotest.DefaultUserID,
		"iat": now, "exp": now + 120, "jti": "two-instances-logout",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(srvA.URL+"/backchannel-logout", url.Values{"logout_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout delivered to instance A: %d", resp.StatusCode)
	}
	if r := get(t, srvB.URL+"/api/token", cookie); r.status != http.StatusUnauthorized {
		t.Fatalf("instance B after the logout: %d %s, want 401", r.status, r.body)
	}
}

type result struct {
	status int
	body   string
}

// get sends a GET with exactly the given Cookie header.
func get(t *testing.T, u, cookie string) result {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Error(err)
		return result{}
	}
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return result{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, string(body)}
}

// signIn walks a browser through sign-in at appURL, the provider's
// redirects and the callback, and returns its Cookie header for appURL.
func signIn(t *testing.T, appURL string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	next := appURL + "/sign-in"
	for hop := 0; ; hop++ {
		if hop == 10 {
			t.Fatal("sign-in: too many redirects")
		}
		resp, err := browser.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 3 {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, body)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(next, appURL+"/callback") {
			break // the callback's redirect to the app's page: signed in
		}
		next = loc.String()
	}
	u, _ := url.Parse(appURL)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		t.Fatal("no cookie after sign-in")
	}
	return strings.Join(parts, "; ")
}

// refreshGrants returns the refresh_token grants the provider received.
func refreshGrants(op *logtotest.Server) []logtotest.Request {
	var out []logtotest.Request
	for _, r := range op.Requests() {
		if r.Path == "/oidc/token" && r.Form.Get("grant_type") == "refresh_token" {
			out = append(out, r)
		}
	}
	return out
}

// TestTwoInstancesOneCodeExchange: a browser delivers one sign-in callback
// twice, and the load balancer sends one delivery to each instance. The
// state is claimed in Redis (SET NX) before the code exchange: one instance
// redeems the code, the other answers 400, and the session works on both.
func TestTwoInstancesOneCodeExchange(t *testing.T) {
	t.Parallel()
	op, _, srvA, srvB := twoInstances(t)

	callback, cookie := startSignIn(t, srvA.URL)
	op.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			return 300 * time.Millisecond // the exchange is still in flight when the second delivery comes
		}
		return 0
	}})
	var wg sync.WaitGroup
	resps := make([]*http.Response, 2)
	for i, u := range []string{srvA.URL, srvB.URL} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, u+callback, nil)
			req.Header.Set("Cookie", cookie)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Errorf("callback at instance %c: %v", "AB"[i], err)
				return
			}
			resp.Body.Close()
			resps[i] = resp
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	op.SetHooks(logtotest.Hooks{})
	exchanges := 0
	for _, r := range op.Requests() {
		if r.Path == "/oidc/token" && r.Form.Get("grant_type") == "authorization_code" {
			exchanges++
		}
	}
	if exchanges != 1 {
		t.Fatalf("code exchanges = %d, want 1", exchanges)
	}
	var session string
	statuses := []int{resps[0].StatusCode, resps[1].StatusCode}
	for _, r := range resps {
		if r.StatusCode == http.StatusSeeOther {
			for _, ck := range r.Cookies() {
				if ck.Name == "logto_"+e2eAppID && ck.MaxAge >= 0 {
					session = ck.Name + "=" + ck.Value
				}
			}
		}
	}
	if !(statuses[0] == http.StatusSeeOther && statuses[1] == http.StatusBadRequest ||
		statuses[0] == http.StatusBadRequest && statuses[1] == http.StatusSeeOther) || session == "" {
		t.Fatalf("statuses %v, session written %v; want one 303 with the session and one 400", statuses, session != "")
	}
	for _, u := range []string{srvA.URL, srvB.URL} {
		if r := get(t, u+"/api/token", session); r.status != http.StatusOK {
			t.Fatalf("%s: token with the session: %d %s", u, r.status, r.body)
		}
	}
}

// startSignIn walks a browser from appURL's sign-in through the provider
// and returns the callback's path and query (not yet delivered) and the
// browser's Cookie header for the app.
func startSignIn(t *testing.T, appURL string) (callback, cookie string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	next := appURL + "/sign-in"
	for hop := 0; !strings.HasPrefix(next, appURL+"/callback"); hop++ {
		if hop == 10 {
			t.Fatal("sign-in: too many redirects")
		}
		resp, err := browser.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("GET %s: %d, no Location", next, resp.StatusCode)
		}
		next = loc.String()
	}
	u, _ := url.Parse(appURL)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.TrimPrefix(next, appURL), strings.Join(parts, "; ")
}
