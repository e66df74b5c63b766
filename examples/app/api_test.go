package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/logtotest"
)

// options returns logtotest options serving d.
func (d demoDirectory) options() []logtotest.Option {
	return []logtotest.Option{
		logtotest.WithUsers(d.User),
		logtotest.WithResources(d.Resources...),
		logtotest.WithRoles(d.Roles...),
		logtotest.WithOrganizations(d.Organizations...),
	}
}

// demoEnv is the demo set-up on loopback ports: a logtotest provider with the
// demo directory, examples/api's handler and the app.
type demoEnv struct {
	srv      *logtotest.Server
	appURL   string
	apiURL   string
	resource string
	user     logtotest.User
}

func startDemo(t *testing.T, cfg logto.Config) demoEnv {
	t.Helper()
	apiTS := httptest.NewUnstartedServer(nil)
	t.Cleanup(apiTS.Close)
	e := demoEnv{apiURL: "http://" + apiTS.Listener.Addr().String()}
	e.resource = e.apiURL
	d := newDemoDirectory(e.resource)
	e.user = d.User
	e.srv = logtotest.NewServer(t, d.options()...)
	h, err := messages.New(messages.Config{Endpoint: e.srv.URL(), Audience: e.resource})
	if err != nil {
		t.Fatal(err)
	}
	apiTS.Config.Handler = h
	apiTS.Start()

	cfg.AppID, cfg.AppSecret, cfg.Endpoint = logtotest.DefaultAppID, logtotest.DefaultAppSecret, e.srv.URL()
	cfg.Scopes, cfg.Resources = demoScopes, []string{e.resource}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	e.appURL = startApp(t, cfg, apiTarget{Resource: e.resource, URL: e.apiURL})
	e.srv.AddApp(demoApp(logtotest.DefaultAppID, e.appURL))
	return e
}

// fullContext is /api/context's answer, with the optional fields and the
// error shape.
type fullContext struct {
	IsAuthenticated    bool              `json:"isAuthenticated"`
	Claims             map[string]any    `json:"claims"`
	Scopes             []string          `json:"scopes"`
	AccessToken        string            `json:"accessToken"`
	UserInfo           map[string]any    `json:"userInfo"`
	OrganizationTokens map[string]string `json:"organizationTokens"`

	Error   string `json:"error"`
	Message string `json:"message"`
}

// contextQuery gets /api/context?query and checks the headers every answer has.
func (b *browser) contextQuery(appURL, query string) (int, fullContext, string) {
	b.t.Helper()
	resp, body := b.get(appURL + "/api/context?" + query)
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		b.t.Errorf("GET /api/context?%s: Cache-Control %q, want no-store", query, got)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		b.t.Errorf("GET /api/context?%s: Content-Type %q, want application/json", query, got)
	}
	var lc fullContext
	if err := json.Unmarshal([]byte(body), &lc); err != nil {
		b.t.Fatalf("GET /api/context?%s: %v; body %s", query, err, body)
	}
	return resp.StatusCode, lc, body
}

func decodeToken(t *testing.T, token string) logto.AccessTokenClaims {
	t.Helper()
	c, err := logto.InsecureDecodeAccessTokenClaims(token)
	if err != nil {
		t.Fatalf("InsecureDecodeAccessTokenClaims: %v", err)
	}
	return c
}

// callAPI calls the API at rawURL with token, as another service would.
func callAPI(t *testing.T, rawURL, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}

// TestContextQuery checks every /api/context query form on one signed-in
// session; the requests share its cookie, so they run in order.
func TestContextQuery(t *testing.T) {
	t.Parallel()
	e := startDemo(t, logto.Config{})
	b := newBrowser(t)
	b.signIn(e.appURL, e.srv.URL())
	R, O := url.QueryEscape(e.resource), demoOrgID
	orgURN := logto.OrganizationURN(O)

	tests := []struct {
		query string
		check func(t *testing.T, lc fullContext)
	}{
		{"", func(t *testing.T, lc fullContext) {
			if lc.AccessToken != "" || lc.UserInfo != nil || lc.OrganizationTokens != nil {
				t.Errorf("got %+v, want no accessToken, userInfo or organizationTokens", lc)
			}
			if orgs, _ := lc.Claims["organizations"].([]any); len(orgs) != 1 || orgs[0] != O {
				t.Errorf("claims.organizations %v, want [%s]", lc.Claims["organizations"], O)
			}
		}},
		{"resource=" + R, func(t *testing.T, lc fullContext) { // resource alone asks for nothing
			if lc.AccessToken != "" {
				t.Error("resource without getAccessToken gave an accessToken")
			}
		}},
		{"fetchUserInfo=1", func(t *testing.T, lc fullContext) {
			if lc.UserInfo["sub"] != e.user.ID || lc.UserInfo["username"] != e.user.Username {
				t.Errorf("userInfo %v, want sub %q and username %q", lc.UserInfo, e.user.ID, e.user.Username)
			}
			if lc.AccessToken != "" {
				t.Error("fetchUserInfo alone gave an accessToken")
			}
		}},
		{"getAccessToken=1", func(t *testing.T, lc fullContext) {
			if lc.AccessToken == "" || !slices.Contains(lc.Scopes, "openid") {
				t.Errorf("default token: accessToken set %v, scopes %v; want a token with openid", lc.AccessToken != "", lc.Scopes)
			}
		}},
		{"getAccessToken=1&resource=" + R, func(t *testing.T, lc fullContext) {
			c := decodeToken(t, lc.AccessToken)
			if !slices.Equal(c.Aud, logto.Audience{e.resource}) || c.OrganizationID != "" || c.Sub != e.user.ID {
				t.Errorf("token aud %v organization_id %q sub %q; want aud %s, no organization, sub %s", c.Aud, c.OrganizationID, c.Sub, e.resource, e.user.ID)
			}
			if !c.HasScopes(messages.ScopeRead) || c.HasScopes(messages.ScopeWrite) {
				t.Errorf("token scope %q, want read:messages (the demo role) without write:messages", c.Scope)
			}
			if !slices.Equal(lc.Scopes, c.Scopes()) {
				t.Errorf("scopes %v, want the token's %v", lc.Scopes, c.Scopes())
			}
			// A real API accepts it.
			if status, body := callAPI(t, e.apiURL+"/api/messages", lc.AccessToken); status != http.StatusOK {
				t.Errorf("API with the resource token: %d %s", status, body)
			}
		}},
		{"getAccessToken=1&organizationId=" + O, func(t *testing.T, lc fullContext) {
			c := decodeToken(t, lc.AccessToken)
			if !slices.Equal(c.Aud, logto.Audience{orgURN}) || !c.HasScopes(messages.ScopeRead) {
				t.Errorf("token aud %v scope %q, want aud %s with read:messages", c.Aud, c.Scope, orgURN)
			}
			if lc.OrganizationTokens != nil {
				t.Errorf("organizationTokens %v, want none with getAccessToken", lc.OrganizationTokens)
			}
			if status, body := callAPI(t, e.apiURL+"/api/organizations/"+O+"/messages", lc.AccessToken); status != http.StatusOK {
				t.Errorf("API with the organization token: %d %s", status, body)
			}
			if status, _ := callAPI(t, e.apiURL+"/api/organizations/other-org/messages", lc.AccessToken); status != http.StatusForbidden {
				t.Errorf("API with the organization token for another organization: %d, want 403", status)
			}
		}},
		{"organizationId=" + O, func(t *testing.T, lc fullContext) {
			if lc.AccessToken != "" {
				t.Error("organizationId alone gave an accessToken")
			}
			tok, ok := lc.OrganizationTokens[O]
			if !ok || len(lc.OrganizationTokens) != 1 {
				t.Fatalf("organizationTokens %v, want exactly %s", lc.OrganizationTokens, O)
			}
			if c := decodeToken(t, tok); !slices.Equal(c.Aud, logto.Audience{orgURN}) {
				t.Errorf("organization token aud %v, want %s", c.Aud, orgURN)
			}
		}},
		{"getAccessToken=1&resource=" + R + "&organizationId=" + O, func(t *testing.T, lc fullContext) {
			c := decodeToken(t, lc.AccessToken)
			if !slices.Equal(c.Aud, logto.Audience{e.resource}) || c.OrganizationID != O || !c.HasScopes(messages.ScopeRead) {
				t.Errorf("token aud %v organization_id %q scope %q; want aud %s, organization %s, read:messages", c.Aud, c.OrganizationID, c.Scope, e.resource, O)
			}
			if status, body := callAPI(t, e.apiURL+"/api/organizations/"+O+"/messages", lc.AccessToken); status != http.StatusOK {
				t.Errorf("API organization route with the organization-scoped token: %d %s", status, body)
			}
			if status, _ := callAPI(t, e.apiURL+"/api/messages", lc.AccessToken); status != http.StatusForbidden {
				t.Errorf("API user route with the organization-scoped token: %d, want 403", status)
			}
		}},
		{"fetchUserInfo=true&getAccessToken=true&resource=" + R, func(t *testing.T, lc fullContext) {
			if lc.UserInfo["sub"] != e.user.ID || decodeToken(t, lc.AccessToken).Aud[0] != e.resource {
				t.Errorf("got userInfo %v and a token for %v; want both", lc.UserInfo, decodeToken(t, lc.AccessToken).Aud)
			}
		}},
	}
	for _, tt := range tests {
		t.Run("?"+tt.query, func(t *testing.T) {
			status, lc, body := b.contextQuery(e.appURL, tt.query)
			if status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", status, body)
			}
			if !lc.IsAuthenticated || lc.Claims["sub"] != e.user.ID {
				t.Fatalf("isAuthenticated %v, claims.sub %v; want true, %s", lc.IsAuthenticated, lc.Claims["sub"], e.user.ID)
			}
			tt.check(t, lc)
		})
	}

	// Bad requests, and Logto's refusal, are JSON errors without Logto's words.
	errTests := []struct {
		query    string
		want     int
		wantCode string
	}{
		{"getAccessToken=1&resource=" + url.QueryEscape("https://unknown.example"), 400, "invalid_request"},
		{"getAccessToken=yes", 400, "invalid_request"},
		{"fetchUserInfo=2", 400, "invalid_request"},
		{"getAccessToken=1&resource=" + R + "&resource=" + R, 400, "invalid_request"},
		{"organizationId=" + strings.Repeat("x", 200), 400, "invalid_request"},
		{"organizationId=other-org", 403, "access_denied"},
		{"getAccessToken=1&organizationId=other-org", 403, "access_denied"},
		{"getAccessToken=1&resource=" + R + "&organizationId=other-org", 403, "access_denied"},
	}
	for _, tt := range errTests {
		t.Run("?"+tt.query, func(t *testing.T) {
			status, lc, body := b.contextQuery(e.appURL, tt.query)
			if status != tt.want || lc.Error != tt.wantCode || lc.Message == "" {
				t.Errorf("got %d %s, want %d with error %q and a message", status, body, tt.want, tt.wantCode)
			}
			if strings.Contains(body, "member") || strings.Contains(body, "logto:") {
				t.Errorf("the error body quotes Logto or the SDK: %s", body)
			}
		})
	}
	// The session survived all of it.
	if lc := b.context(e.appURL); !lc.IsAuthenticated {
		t.Error("signed out after the error cases")
	}
}

func TestContextSignedOut(t *testing.T) {
	t.Parallel()
	e := startDemo(t, logto.Config{})
	b := newBrowser(t)
	for _, q := range []string{
		"getAccessToken=1",
		"getAccessToken=1&resource=" + url.QueryEscape(e.resource),
		"getAccessToken=1&resource=" + url.QueryEscape(e.resource) + "&organizationId=" + demoOrgID,
		"fetchUserInfo=1",
		"organizationId=" + demoOrgID,
	} {
		status, lc, body := b.contextQuery(e.appURL, q)
		if status != http.StatusOK || lc.IsAuthenticated || lc.Claims != nil || lc.AccessToken != "" || lc.UserInfo != nil || lc.OrganizationTokens != nil {
			t.Errorf("signed out, ?%s: %d %s; want 200 {\"isAuthenticated\":false}", q, status, body)
		}
	}
	if n := e.srv.CountRequests("/oidc/token"); n != 0 {
		t.Errorf("signed-out requests made %d token requests, want 0", n)
	}
}

// TestContextSessionEnded: when Logto refuses the refresh token
// (invalid_grant), the session is over: 200 with a signed-out context.
func TestContextSessionEnded(t *testing.T) {
	t.Parallel()
	e := startDemo(t, logto.Config{})
	b := newBrowser(t)
	b.signIn(e.appURL, e.srv.URL())
	e.srv.SetHooks(logtotest.Hooks{TokenResponseFor: func(grant string, status *int, body map[string]any) {
		if grant == "refresh_token" {
			*status = http.StatusBadRequest
			clear(body)
			body["error"], body["error_description"] = "invalid_grant", "grant request is invalid"
		}
	}})
	status, lc, body := b.contextQuery(e.appURL, "getAccessToken=1&resource="+url.QueryEscape(e.resource))
	if status != http.StatusOK || lc.IsAuthenticated || lc.AccessToken != "" {
		t.Errorf("invalid_grant: %d %s; want 200 isAuthenticated false", status, body)
	}
	if lc := b.context(e.appURL); lc.IsAuthenticated {
		t.Error("the session survived invalid_grant")
	}
}

// TestContextProviderErrors: a failing Logto gives the matching status and a
// generic JSON error, and keeps the session.
func TestContextProviderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		hooks    logtotest.Hooks
		want     int
		wantCode string
	}{
		{"500", logtotest.Hooks{TokenResponseFor: func(grant string, status *int, body map[string]any) {
			*status = http.StatusInternalServerError
			clear(body)
			body["error"], body["error_description"] = "server_error", "secret provider detail"
		}}, http.StatusBadGateway, "bad_gateway"},
		{"503", logtotest.Hooks{TokenResponseFor: func(grant string, status *int, body map[string]any) {
			*status = http.StatusServiceUnavailable
			body["error_description"] = "secret provider detail"
		}}, http.StatusServiceUnavailable, "unavailable"},
		{"slow", logtotest.Hooks{Delay: func(path string) time.Duration {
			if strings.HasSuffix(path, "/token") {
				return 5 * time.Second
			}
			return 0
		}}, http.StatusGatewayTimeout, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startDemo(t, logto.Config{HTTPClient: &http.Client{Timeout: 500 * time.Millisecond}})
			b := newBrowser(t)
			b.signIn(e.appURL, e.srv.URL())
			e.srv.SetHooks(tt.hooks)
			status, lc, body := b.contextQuery(e.appURL, "getAccessToken=1&resource="+url.QueryEscape(e.resource))
			if status != tt.want || lc.Error != tt.wantCode || lc.Message == "" {
				t.Errorf("got %d %s, want %d with error %q", status, body, tt.want, tt.wantCode)
			}
			if strings.Contains(body, "secret provider detail") || strings.Contains(body, "server_error") {
				t.Errorf("the error body quotes Logto: %s", body)
			}
			e.srv.SetHooks(logtotest.Hooks{})
			status, lc, body = b.contextQuery(e.appURL, "getAccessToken=1&resource="+url.QueryEscape(e.resource))
			if status != http.StatusOK || !lc.IsAuthenticated || lc.AccessToken == "" {
				t.Errorf("after Logto recovered: %d %s; want 200 with an access token", status, body)
			}
		})
	}
}

// TestCallAPI walks "Call the API" end to end: sign-in, a refresh for the
// API resource, examples/api's handler verifying the token.
func TestCallAPI(t *testing.T) {
	t.Parallel()
	e := startDemo(t, logto.Config{})
	b := newBrowser(t)
	post := func(form url.Values, header http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.appURL+"/call-api", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp, string(body)
	}
	sameOrigin := http.Header{"Origin": {e.appURL}, "Sec-Fetch-Site": {"same-origin"}}

	// Signed out: back home, no token request.
	if resp, _ := post(nil, sameOrigin); resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/" {
		t.Errorf("signed-out POST /call-api: status %d, want 303 to /", resp.StatusCode)
	}
	if _, body := b.get(e.appURL + "/"); strings.Contains(body, "Call the API") {
		t.Error("the signed-out home page offers to call the API")
	}

	b.signIn(e.appURL, e.srv.URL())
	_, home := b.get(e.appURL + "/")
	for _, want := range []string{`action="/call-api"`, "Call the API</button>", `name="organizationId" value="` + demoOrgID + `"`} {
		if !strings.Contains(home, want) {
			t.Errorf("signed-in home page: no %q in\n%s", want, home)
		}
	}

	e.srv.ResetRequests()
	resp, body := post(nil, sameOrigin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /call-api: status %d; body %s", resp.StatusCode, body)
	}
	for _, want := range []string{"GET " + e.apiURL + "/api/messages", "200 OK", `&#34;sub&#34;: &#34;` + e.user.ID + `&#34;`, "read:messages", "Hello from the Logto Go API example!"} {
		if !strings.Contains(body, want) {
			t.Errorf("POST /call-api: no %q in\n%s", want, body)
		}
	}
	// The token came from a real refresh for the API resource.
	var refreshed bool
	for _, r := range e.srv.Requests() {
		if strings.HasSuffix(r.Path, "/oidc/token") && r.Form.Get("grant_type") == "refresh_token" && r.Form.Get("resource") == e.resource {
			refreshed = true
		}
	}
	if !refreshed {
		t.Error("no refresh_token grant for the API resource reached Logto")
	}

	resp, body = post(url.Values{"organizationId": {demoOrgID}}, sameOrigin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /call-api as %s: status %d; body %s", demoOrgID, resp.StatusCode, body)
	}
	for _, want := range []string{"GET " + e.apiURL + "/api/organizations/" + demoOrgID + "/messages", "200 OK", "Welcome, members of " + demoOrgID} {
		if !strings.Contains(body, want) {
			t.Errorf("POST /call-api as %s: no %q in\n%s", demoOrgID, want, body)
		}
	}

	if resp, _ := post(url.Values{"organizationId": {"other-org"}}, sameOrigin); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /call-api for a foreign organization: status %d, want 400", resp.StatusCode)
	}
	if resp, _ := post(nil, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST /call-api: status %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.get(e.appURL + "/call-api"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /call-api: status %d, want 404", resp.StatusCode)
	}
}

// TestCallAPIDown: an API that does not answer gives a 502 page, and the
// session survives.
func TestCallAPIDown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String()
	l.Close()
	resource := "http://localhost:3002"
	d := newDemoDirectory(resource)
	srv := logtotest.NewServer(t, d.options()...)
	appURL := startApp(t, logto.Config{
		AppID: logtotest.DefaultAppID, AppSecret: logtotest.DefaultAppSecret, Endpoint: srv.URL(),
		Scopes: demoScopes, Resources: []string{resource}, Logger: discard,
	}, apiTarget{Resource: resource, URL: deadURL})
	srv.AddApp(demoApp(logtotest.DefaultAppID, appURL))
	b := newBrowser(t)
	b.signIn(appURL, srv.URL())
	resp, body := b.do(http.MethodPost, appURL+"/call-api", http.Header{"Origin": {appURL}})
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "did not answer") {
		t.Errorf("POST /call-api with the API down: status %d, want 502 and an explanation; body\n%s", resp.StatusCode, body)
	}
	if lc := b.context(appURL); !lc.IsAuthenticated {
		t.Error("signed out after the API failed")
	}
}
