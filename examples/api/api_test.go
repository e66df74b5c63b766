package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto/logtotest"
)

const testResource = "http://localhost:3002"

// tokenMinter signs access tokens with a logtotest provider's key.
type tokenMinter struct {
	t   *testing.T
	srv *logtotest.Server
}

// mint returns a signed at+jwt for testResource with scope, edited by edit.
func (m tokenMinter) mint(scope string, edit func(header, claims map[string]any)) string {
	m.t.Helper()
	now := time.Now()
	header := map[string]any{"typ": "at+jwt"}
	claims := map[string]any{
		"jti":       "test-jti",
		"iss":       m.srv.Issuer(),
		"sub":       logtotest.DefaultUserID,
		"aud":       testResource,
		"client_id": logtotest.DefaultAppID,
		"scope":     scope,
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(header, claims)
	}
	tok, err := m.srv.Sign(header, claims)
	if err != nil {
		m.t.Fatal(err)
	}
	return tok
}

// startAPI serves newAPI trusting srv on httptest.
func startAPI(t *testing.T, srv *logtotest.Server) string {
	t.Helper()
	h, err := newAPI(settings{Endpoint: srv.URL(), Resource: testResource}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func call(t *testing.T, method, rawURL, token, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestAPI(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	other := logtotest.NewServer(t) // another tenant: another key and issuer
	apiURL := startAPI(t, srv)
	m := tokenMinter{t, srv}
	foreign := tokenMinter{t, other}

	read, write := "read:messages", "write:messages"
	org := func(id string) func(h, c map[string]any) {
		return func(_, c map[string]any) { c["aud"] = "urn:logto:organization:" + id }
	}
	orgScoped := func(id string) func(h, c map[string]any) {
		return func(_, c map[string]any) { c["organization_id"] = id }
	}

	tests := []struct {
		name      string
		method    string
		path      string
		token     string
		body      string
		want      int
		wantError string // the JSON error code, and error="..." in WWW-Authenticate for 401/403 from the ResourceServer
	}{
		{"health", "GET", "/healthz", "", "", 200, ""},
		{"valid token with scope", "GET", "/api/messages", m.mint(read, nil), "", 200, ""},
		{"several scopes", "GET", "/api/messages", m.mint("openid "+read+" "+write, nil), "", 200, ""},
		{"missing token", "GET", "/api/messages", "", "", 401, "unauthorized"},
		{"not a bearer token", "GET", "/api/messages", "", "", 401, "unauthorized"},
		{"garbage token", "GET", "/api/messages", "not.a.jwt", "", 401, "invalid_token"},
		{"wrong audience", "GET", "/api/messages", m.mint(read, func(_, c map[string]any) { c["aud"] = "https://other.example" }), "", 401, "invalid_token"},
		{"missing scope", "GET", "/api/messages", m.mint(write, nil), "", 403, "insufficient_scope"},
		{"no scope at all", "GET", "/api/messages", m.mint("", nil), "", 403, "insufficient_scope"},
		{"expired", "GET", "/api/messages", m.mint(read, func(_, c map[string]any) {
			c["iat"] = time.Now().Add(-3 * time.Hour).Unix()
			c["exp"] = time.Now().Add(-2 * time.Hour).Unix()
		}), "", 401, "invalid_token"},
		{"other issuer", "GET", "/api/messages", m.mint(read, func(_, c map[string]any) { c["iss"] = other.Issuer() }), "", 401, "invalid_token"},
		{"other tenant's key", "GET", "/api/messages", foreign.mint(read, func(_, c map[string]any) { c["iss"] = srv.Issuer() }), "", 401, "invalid_token"},
		{"ID token type", "GET", "/api/messages", m.mint(read, func(h, _ map[string]any) { h["typ"] = "JWT" }), "", 401, "invalid_token"},
		{"organization token on a user route", "GET", "/api/messages", m.mint(read, org("demo-org")), "", 401, "invalid_token"},
		{"organization-scoped token on a user route", "GET", "/api/messages", m.mint(read, orgScoped("demo-org")), "", 403, "insufficient_scope"},
		{"oversized Authorization header", "GET", "/api/messages", "x" + strings.Repeat("a", 9<<10), "", 401, "invalid_token"},

		{"post", "POST", "/api/messages", m.mint(write, nil), `{"text":"hi"}`, 201, ""},
		{"post with read scope only", "POST", "/api/messages", m.mint(read, nil), `{"text":"hi"}`, 403, "insufficient_scope"},
		{"post without token", "POST", "/api/messages", "", `{"text":"hi"}`, 401, "unauthorized"},
		{"post with an organization token", "POST", "/api/messages", m.mint(write, org("demo-org")), `{"text":"hi"}`, 401, "invalid_token"},
		{"post with an organization-scoped token", "POST", "/api/messages", m.mint(write, orgScoped("demo-org")), `{"text":"hi"}`, 403, "insufficient_scope"},
		{"post empty text", "POST", "/api/messages", m.mint(write, nil), `{"text":"  "}`, 400, "invalid_request"},
		{"post bad JSON", "POST", "/api/messages", m.mint(write, nil), `{"text":`, 400, "invalid_request"},
		{"post too long", "POST", "/api/messages", m.mint(write, nil), `{"text":"` + strings.Repeat("a", 281) + `"}`, 400, "invalid_request"},
		{"post too large", "POST", "/api/messages", m.mint(write, nil), `{"text":"` + strings.Repeat("a", 5000) + `"}`, 413, "invalid_request"},
		{"delete", "DELETE", "/api/messages", m.mint(write, nil), "", 405, ""},

		{"organization token", "GET", "/api/organizations/demo-org/messages", m.mint(read, org("demo-org")), "", 200, ""},
		{"organization-scoped resource token", "GET", "/api/organizations/demo-org/messages", m.mint(read, orgScoped("demo-org")), "", 200, ""},
		{"other organization's token", "GET", "/api/organizations/demo-org/messages", m.mint(read, org("other-org")), "", 403, "insufficient_scope"},
		{"resource token scoped to another organization", "GET", "/api/organizations/demo-org/messages", m.mint(read, orgScoped("other-org")), "", 403, "insufficient_scope"},
		{"user token on the organization route", "GET", "/api/organizations/demo-org/messages", m.mint(read, nil), "", 403, "insufficient_scope"},
		{"organization token without the scope", "GET", "/api/organizations/demo-org/messages", m.mint("", org("demo-org")), "", 403, "insufficient_scope"},
		{"organization token without token", "GET", "/api/organizations/demo-org/messages", "", "", 401, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, apiURL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.name == "not a bearer token":
				req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			case tt.token != "":
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s: status %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.want, body)
			}
			if tt.want == 405 {
				return
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not JSON: %v; %s", err, body)
			}
			if got["error"] != nilIfEmpty(tt.wantError) {
				t.Errorf("error %v, want %q; body %s", got["error"], tt.wantError, body)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			switch {
			case tt.want == 401:
				if want := `Bearer realm="` + testResource + `"`; !strings.HasPrefix(challenge, want) {
					t.Errorf("WWW-Authenticate %q, want it to start with %q", challenge, want)
				}
				if tt.wantError == "unauthorized" && strings.Contains(challenge, "error=") {
					t.Errorf("WWW-Authenticate %q: no error code expected without credentials (RFC 6750 3.1)", challenge)
				}
				if tt.wantError == "invalid_token" && !strings.Contains(challenge, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q, want error=\"invalid_token\"", challenge)
				}
			case tt.wantError == "insufficient_scope":
				if !strings.Contains(challenge, `error="insufficient_scope"`) {
					t.Errorf("WWW-Authenticate %q, want error=\"insufficient_scope\"", challenge)
				}
			}
			if tt.token != "" && strings.Contains(string(body)+challenge, tt.token) {
				t.Error("the answer echoes the token")
			}
			if tt.want == 200 && strings.HasPrefix(tt.path, "/api/") {
				if got["sub"] != logtotest.DefaultUserID {
					t.Errorf("sub %v, want %q", got["sub"], logtotest.DefaultUserID)
				}
				if msgs, _ := got["messages"].([]any); len(msgs) == 0 {
					t.Errorf("no messages in %s", body)
				}
				if scopes, _ := got["scopes"].([]any); len(scopes) == 0 || !strings.Contains(tt.path, "organizations") && !contains(scopes, read) {
					t.Errorf("scopes %v, want %q among them", got["scopes"], read)
				}
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func contains(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestPostThenList: a posted message shows up in the list, with its author.
func TestPostThenList(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	apiURL := startAPI(t, srv)
	m := tokenMinter{t, srv}

	resp, body := call(t, "POST", apiURL+"/api/messages", m.mint("write:messages", func(_, c map[string]any) { c["sub"] = "writer000001" }), `{"text":"  Hello, <b>API</b>  "}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: status %d; body %s", resp.StatusCode, body)
	}
	resp, body = call(t, "GET", apiURL+"/api/messages", m.mint("read:messages", nil), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: status %d; body %s", resp.StatusCode, body)
	}
	var got struct {
		Messages []struct {
			ID     int    `json:"id"`
			Text   string `json:"text"`
			Author string `json:"author"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	last := got.Messages[len(got.Messages)-1]
	if last.Text != "Hello, <b>API</b>" || last.Author != "writer000001" || last.ID != 2 {
		t.Errorf("last message %+v, want text %q by writer000001 with ID 2", last, "Hello, <b>API</b>")
	}
}

func TestLoadSettings(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		env  map[string]string
		want settings
	}{
		{"defaults", nil, settings{Endpoint: defaultEndpoint, Resource: defaultResource, Addr: ":3002"}},
		{"resource gives the port", map[string]string{"API_RESOURCE": "http://127.0.0.1:4000"}, settings{Endpoint: defaultEndpoint, Resource: "http://127.0.0.1:4000", Addr: "127.0.0.1:4000"}},
		{"https resource", map[string]string{"LOGTO_ENDPOINT": "https://foo.logto.app", "API_RESOURCE": "https://api.example.com"}, settings{Endpoint: "https://foo.logto.app", Resource: "https://api.example.com", Addr: "api.example.com:443"}},
		{"explicit address", map[string]string{"API_RESOURCE": "urn:example:api", "API_ADDR": ":8080"}, settings{Endpoint: defaultEndpoint, Resource: "urn:example:api", Addr: ":8080"}},
	}
	for _, tt := range tests {
		got, err := loadSettings(env(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("%s: loadSettings = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	if _, err := loadSettings(env(map[string]string{"API_RESOURCE": "urn:example:api"})); err == nil {
		t.Error("a non-URL API_RESOURCE without API_ADDR: no error")
	}
	if _, err := newAPI(settings{Endpoint: "http://example.com", Resource: defaultResource}, nil); err == nil {
		t.Error("newAPI with a non-loopback http endpoint: no error")
	}
}

// TestRun starts the program on a free port and shuts it down.
func TestRun(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiURL := "http://" + l.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- runWith(ctx, func(k string) string {
			return map[string]string{"LOGTO_ENDPOINT": srv.URL(), "API_RESOURCE": testResource}[k]
		}, &stdout, runOptions{listener: l, stderr: &stderr, ready: func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after 10 s")
	}
	if resp, body := call(t, "GET", apiURL+"/healthz", "", ""); resp.StatusCode != 200 {
		t.Errorf("GET /healthz: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(t, "GET", apiURL+"/api/messages", tokenMinter{t, srv}.mint("read:messages", nil), ""); resp.StatusCode != 200 {
		t.Errorf("GET /api/messages: %d %s", resp.StatusCode, body)
	}
	if out := stdout.String(); !strings.Contains(out, testResource) || !strings.Contains(out, srv.Issuer()) {
		t.Errorf("stdout names neither the resource nor the issuer:\n%s", out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not shut down")
	}
	if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
}

// syncBuffer is a log or console sink safe for concurrent use.
type syncBuffer = testkit.Buffer
