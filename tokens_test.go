package logto_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

const apiResource = "https://api.example.com"

// withAPI registers an API resource with scopes at the provider and asks for
// it (and the organizations scope) at sign-in.
func withAPI() harnessOption {
	return func(s *harnessSetup) {
		s.opOpts = append(s.opOpts, logtotest.WithResources(logtotest.Resource{Indicator: apiResource, Scopes: []string{"read:items", "write:items"}}))
		s.cfg.Resources = append(s.cfg.Resources, apiResource)
		s.cfg.Scopes = append(s.cfg.Scopes, "read:items", logto.UserScopeOrganizations)
	}
}

// tokenGet calls /api/token and returns status and body.
func (h *harness) tokenGet(b *browser, query string) *response {
	h.t.Helper()
	return b.get(h.app.URL + "/api/token?" + query)
}

// refreshRequests returns the refresh grants the provider received.
func (h *harness) refreshRequests() []logtotest.Request {
	var out []logtotest.Request
	for _, r := range h.op.Requests() {
		if r.Path == "/oidc/token" && r.Form.Get("grant_type") == "refresh_token" {
			out = append(out, r)
		}
	}
	return out
}

func TestAccessTokenForResource(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI())
	b := h.browser()
	h.signIn(b, "")
	r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s (%v)", r.StatusCode, r.body, h.lastError())
	}
	claims, err := logto.InsecureDecodeAccessTokenClaims(r.body)
	if err != nil || claims.Aud[0] != apiResource || !claims.HasScopes("read:items") || claims.HasScopes("write:items") {
		t.Fatalf("claims = %+v, %v", claims, err)
	}
	refreshes := h.refreshRequests()
	if len(refreshes) != 1 {
		t.Fatalf("refreshes = %d", len(refreshes))
	}
	if f := refreshes[0]; f.Form.Get("resource") != apiResource || f.Form.Get("organization_id") != "" || !strings.HasPrefix(f.Header.Get("Authorization"), "Basic ") {
		t.Fatalf("refresh request: form %v, auth %q", f.Form, f.Header.Get("Authorization"))
	}
	// Cached now: the second call makes no request.
	if r2 := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r2.body != r.body {
		t.Fatal("cached token not reused")
	}
	if n := len(h.refreshRequests()); n != 1 {
		t.Fatalf("refreshes after cached call = %d", n)
	}
	// A resource that was not configured fails fast.
	if r3 := h.tokenGet(b, "resource="+url.QueryEscape("https://other.example.com")); r3.StatusCode != http.StatusInternalServerError || !errors.Is(h.lastError(), logto.ErrInvalidResource) {
		t.Fatalf("unconfigured resource: %d %v", r3.StatusCode, h.lastError())
	}
}

// TestREF01RefreshRotation: an expired access token is refreshed with Basic
// auth; a rotated refresh token is stored and used next time.
func TestREF01RefreshRotation(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	// The idle timeout (7 days) would end the session before the refresh
	// token's rotation point (9.8 days): this test is about rotation.
	h := newHarness(t, withAPI(), withClock(clock.Now), withConfig(func(c *logto.Config) { c.SessionIdleTimeout = -1 }))
	b := h.browser()
	h.signIn(b, "")
	first := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body
	clock.Advance(59 * time.Minute) // inside the 60 s refresh-ahead margin
	second := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body
	if second == first {
		t.Fatal("token not refreshed ahead of expiry")
	}
	// Past 70 % of the 14-day refresh token life Logto rotates it.
	clock.Advance(10*24*time.Hour + time.Hour)
	if r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh after 10 days: %d (%v)", r.StatusCode, h.lastError())
	}
	clock.Advance(time.Hour)
	if r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh with the rotated token: %d (%v)", r.StatusCode, h.lastError())
	}
	refreshes := h.refreshRequests()
	if len(refreshes) != 4 {
		t.Fatalf("refreshes = %d, want 4", len(refreshes))
	}
	rt := func(i int) string { return refreshes[i].Form.Get("refresh_token") }
	if rt(0) != rt(1) || rt(1) != rt(2) {
		t.Fatal("refresh token changed before rotation")
	}
	if rt(3) == rt(2) {
		t.Fatal("rotated refresh token was not stored and used")
	}
}

// TestREF02InvalidGrantEndsSession: one attempt, cookies cleared, then
// signed out everywhere.
func TestREF02InvalidGrantEndsSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI())
	b := h.browser()
	h.signIn(b, "")
	h.op.SetHooks(logtotest.Hooks{TokenResponse: func(status *int, body map[string]any) {
		*status = http.StatusBadRequest
		clear(body)
		body["error"], body["error_description"] = "invalid_grant", "grant request is invalid"
	}})
	r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	if r.StatusCode != http.StatusUnauthorized || !errors.Is(h.lastError(), logto.ErrNotAuthenticated) || !errors.Is(h.lastError(), logto.ErrProviderResponse) {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if c := setCookies(r)["logto_"+h.appID]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("session cookie not cleared: %+v", c)
	}
	if n := len(h.refreshRequests()); n != 1 {
		t.Fatalf("refresh attempts = %d, want 1", n)
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("still authenticated")
	}
	if page := b.get(h.app.URL + "/private"); page.StatusCode != http.StatusSeeOther {
		t.Fatalf("page after invalid_grant: %d", page.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/private", nil)
	if api := b.do(req); api.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API after invalid_grant: %d", api.StatusCode)
	}
}

// TestREF03TransientFailureKeepsSession: 503 and timeouts fail the request,
// keep the session, and the next request retries.
func TestREF03TransientFailureKeepsSession(t *testing.T) {
	t.Parallel()
	for name, hooks := range map[string]logtotest.Hooks{
		"503": {TokenResponse: func(status *int, body map[string]any) {
			*status = http.StatusServiceUnavailable
			clear(body)
		}},
		"timeout": {Delay: func(path string) time.Duration {
			if path == "/oidc/token" {
				return 5 * time.Second
			}
			return 0
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond} }))
			b := h.browser()
			h.signIn(b, "")
			h.op.SetHooks(hooks)
			r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
			if r.StatusCode != http.StatusServiceUnavailable && r.StatusCode != http.StatusGatewayTimeout {
				t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
			}
			if len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("transient failure touched cookies: %v", r.Header.Values("Set-Cookie"))
			}
			if !h.context(b).IsAuthenticated {
				t.Fatal("session lost on a transient failure")
			}
			h.op.SetHooks(logtotest.Hooks{})
			if r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
				t.Fatalf("retry: %d (%v)", r.StatusCode, h.lastError())
			}
		})
	}
}

// TestConcurrentRefreshesCoalesce: 100 concurrent requests with an expired
// access token on one session make exactly one token request.
func TestConcurrentRefreshesCoalesce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withAPI(), withClock(clock.Now))
	b := h.browser()
	h.signIn(b, "")
	h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	clock.Advance(2 * time.Hour) // the cached access token has expired
	before := len(h.refreshRequests())
	// Slow the provider down so that the requests overlap.
	h.op.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
		if path == "/oidc/token" {
			return 200 * time.Millisecond
		}
		return 0
	}})
	cookie := cookieHeader(h.sessionCookies(b))
	const n = 100
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rawGet(t, h.app.URL+"/api/token?resource="+url.QueryEscape(apiResource), cookie, "")
			if r.StatusCode != http.StatusOK {
				t.Errorf("request %d: %d", i, r.StatusCode)
				return
			}
			if setCookies(r)["logto_"+h.appID] == nil {
				t.Errorf("request %d: no updated session cookie", i)
			}
			tokens[i] = r.body
		}()
	}
	wg.Wait()
	got := len(h.refreshRequests()) - before
	t.Logf("%d concurrent requests made %d token request(s)", n, got)
	if got != 1 {
		t.Fatalf("token requests = %d, want 1", got)
	}
	for i := range tokens {
		if tokens[i] != tokens[0] {
			t.Fatalf("request %d got another token", i)
		}
	}
}

func withOrganizations(member ...string) harnessOption {
	return func(s *harnessSetup) {
		u := logtotest.DefaultUser()
		u.Organizations = member
		s.opOpts = append(s.opOpts, logtotest.WithUsers(u))
	}
}

func TestOrganizationTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI(), withOrganizations("org1"))
	b := h.browser()
	h.signIn(b, "")
	r := h.tokenGet(b, "org=org1")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("member: %d (%v)", r.StatusCode, h.lastError())
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(r.body)
	if id, err := logto.OrganizationIDFromURN(claims.Aud[0]); err != nil || id != "org1" {
		t.Fatalf("aud = %q", claims.Aud)
	}
	if f := h.refreshRequests()[0].Form; f.Get("organization_id") != "org1" || f.Has("resource") {
		t.Fatalf("organization refresh form = %v", f)
	}
	// Organization-scoped API token.
	r = h.tokenGet(b, "org=org1&resource="+url.QueryEscape(apiResource))
	claims, _ = logto.InsecureDecodeAccessTokenClaims(r.body)
	if r.StatusCode != http.StatusOK || claims.Aud[0] != apiResource || claims.OrganizationID != "org1" {
		t.Fatalf("organization resource token: %d %+v (%v)", r.StatusCode, claims, h.lastError())
	}
	// Not a member: 403, typed, session kept.
	r = h.tokenGet(b, "org=org2")
	var pe *logto.ProviderError
	if r.StatusCode != http.StatusForbidden || !errors.Is(h.lastError(), logto.ErrAccessDenied) || !errors.As(h.lastError(), &pe) || pe.Code != "access_denied" {
		t.Fatalf("non-member: %d %v", r.StatusCode, h.lastError())
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("session lost after a 403")
	}
	// Through GetContext: organizationId alone fills organizationTokens.
	c := h.contextQuery(b, "organizationId=org1")
	if c.OrganizationTokens["org1"] == "" || c.AccessToken != "" {
		t.Fatalf("context organizationId: %+v", c)
	}
	c = h.contextQuery(b, "getAccessToken=1&organizationId=org1")
	if c.AccessToken == "" || c.OrganizationTokens != nil {
		t.Fatalf("context getAccessToken+organizationId: %+v", c)
	}
}

func TestContextOptions(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withAPI(), withClock(clock.Now))
	b := h.browser()
	h.signIn(b, "")

	c := h.contextQuery(b, "getAccessToken=1&resource="+url.QueryEscape(apiResource))
	if !c.IsAuthenticated || c.AccessToken == "" || len(c.Scopes) != 1 || c.Scopes[0] != "read:items" {
		t.Fatalf("getAccessToken: %+v", c)
	}
	c = h.contextQuery(b, "fetchUserInfo=1")
	if c.UserInfo["sub"] != logtotest.DefaultUserID || c.UserInfo["email"] == nil {
		t.Fatalf("fetchUserInfo: %+v", c.UserInfo)
	}
	if n := h.op.CountRequests("/oidc/me"); n != 1 {
		t.Fatalf("userinfo calls = %d", n)
	}
	if ah := h.op.Requests(); !strings.HasPrefix(lastRequest(ah, "/oidc/me").Header.Get("Authorization"), "Bearer ") {
		t.Fatal("userinfo without a Bearer header")
	}

	// The ID token expires; renewal keeps the session authenticated.
	clock.Advance(2 * time.Hour)
	if h.context(b).IsAuthenticated {
		t.Fatal("authenticated with an expired ID token")
	}
	c = h.contextQuery(b, "renew=1")
	if !c.IsAuthenticated || c.Claims["sub"] != logtotest.DefaultUserID {
		t.Fatalf("renewal: %+v (%v)", c, h.lastError())
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("renewed ID token not persisted")
	}
}

func lastRequest(reqs []logtotest.Request, path string) logtotest.Request {
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			return reqs[i]
		}
	}
	return logtotest.Request{}
}

// TestUserInfoSubMismatch: rp-userinfo-bad-sub-claim.
func TestUserInfoSubMismatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	h.op.SetHooks(logtotest.Hooks{Userinfo: func(body map[string]any) { body["sub"] = "foobar" }})
	r := b.get(h.app.URL + "/api/context?fetchUserInfo=1")
	if r.StatusCode != http.StatusBadGateway || reasonOf(h.lastError()) != logto.ReasonSubject {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if strings.Contains(r.body, "foobar") {
		t.Fatal("userinfo values used")
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("session ended by a bad userinfo answer")
	}
}

// TestNoRefreshToken: without offline_access (no consent) Logto issues no
// refresh token; asking for an API token then fails clearly and the session
// stays.
func TestNoRefreshToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI(), withConfig(func(c *logto.Config) { c.Prompt = logto.PromptLogin }))
	b := h.browser()
	h.signIn(b, "")
	r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	if r.StatusCode != http.StatusUnauthorized || !errors.Is(h.lastError(), logto.ErrNoRefreshToken) || errors.Is(h.lastError(), logto.ErrNotAuthenticated) {
		t.Fatalf("status %d, err %v", r.StatusCode, h.lastError())
	}
	if len(h.refreshRequests()) != 0 || !h.context(b).IsAuthenticated {
		t.Fatal("refresh attempted or session lost")
	}
}

func TestContextOptionsValidated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	for _, q := range []string{"getAccessToken=1&resource=" + url.QueryEscape("https://unknown.example.com"), "organizationId=o1"} {
		r := b.get(h.app.URL + "/api/context?" + q)
		if r.StatusCode != http.StatusInternalServerError || !errors.Is(h.lastError(), logto.ErrInvalidResource) {
			t.Fatalf("%s: %d %v", q, r.StatusCode, h.lastError())
		}
	}
	if n := h.tokenCalls(); n != 1 {
		t.Fatalf("token calls = %d, want only the code exchange", n)
	}
}

// TestMiddlewareWithRenewal keeps pages signed in past the ID token's life.
func TestMiddlewareWithRenewal(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withClock(clock.Now))
	page := h.client.MiddlewareWith(logto.WithIDTokenRenewal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc := logto.FromContext(r.Context())
		_, _ = w.Write([]byte(strconv.FormatBool(lc.IsAuthenticated)))
	}))
	b := h.browser()
	h.signIn(b, "")
	clock.Advance(3 * time.Hour)
	u, _ := url.Parse(h.app.URL)
	req := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	for _, ck := range b.c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	page.ServeHTTP(w, req)
	if w.Body.String() != "true" {
		t.Fatalf("page after 3 h: %s (%v)", w.Body, h.lastError())
	}
	if len(w.Result().Cookies()) == 0 {
		t.Fatal("renewed session not written")
	}
}

func TestAccessTokenClaimsOrganization(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		claims logto.AccessTokenClaims
		want   string
		ok     bool
	}{
		{logto.AccessTokenClaims{Aud: logto.Audience{"urn:logto:organization:o1"}}, "o1", true},
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource}, OrganizationID: "o2"}, "o2", true},
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource}}, "", false},
	} {
		if got, ok := tc.claims.Organization(); got != tc.want || ok != tc.ok {
			t.Errorf("Organization(%+v) = %q, %v", tc.claims, got, ok)
		}
	}
}

// TestCachedTokenWithoutProvider: a cached access token is served without
// contacting Logto (even by an instance that never discovered it).
func TestCachedTokenWithoutProvider(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI())
	b := h.browser()
	h.signIn(b, "")
	want := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)).body
	offline, err := logto.New(logto.Config{
		AppID: h.appID, AppSecret: canaryAppSecret, Endpoint: "http://127.0.0.1:1", BaseURL: h.app.URL,
		CookieSecret: canaryCookieSecret, Resources: []string{apiResource}, Scopes: []string{"read:items"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	for _, ck := range h.sessionCookies(b) {
		req.AddCookie(ck)
	}
	got, err := offline.GetAccessToken(httptest.NewRecorder(), req, apiResource)
	if err != nil || got != want {
		t.Fatalf("GetAccessToken = %v (same token: %v)", err, got == want)
	}
}
