package logtotest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

func TestAuthorizeSuccessRedirects(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	res := get(t, srv.Issuer()+"/auth?"+authParams().Encode())
	if res.status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	uid := strings.TrimPrefix(res.header.Get("Location"), "/oidc/auth/")
	if len(uid) != 43 {
		t.Errorf("uid %q", uid)
	}
	sess := cookieNamed(res, "_session")
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Value == "" {
		t.Errorf("_session cookie %+v", sess)
	}
	var raw string
	for _, sc := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "_logto=") {
			raw = sc
		}
	}
	if want := `_logto={"appId":"` + logtotest.DefaultAppID + `"}; path=/; samesite=lax`; raw != want {
		t.Errorf("_logto Set-Cookie %q, want %q", raw, want)
	}

	res = get(t, srv.URL()+"/oidc/auth/"+uid)
	if res.status != http.StatusSeeOther {
		t.Fatalf("resume status %d: %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	prefix := logtotest.DefaultRedirectURI + "?code="
	if !strings.HasPrefix(loc, prefix) {
		t.Fatalf("Location %q", loc)
	}
	code, rest, _ := strings.Cut(loc[len(prefix):], "&")
	if len(code) != 43 {
		t.Errorf("code %q", code)
	}
	if want := "state=st-1&iss=" + url.QueryEscape(srv.Issuer()); rest != want {
		t.Errorf("callback params after code %q, want %q", rest, want)
	}
	// The interaction is one-time.
	wantError(t, get(t, srv.URL()+"/oidc/auth/"+uid), http.StatusBadRequest, "invalid_request", "")
}

func TestAuthorizeRenderedErrors(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	tests := []struct {
		name   string
		mutate func(url.Values)
		code   string
		desc   string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, "invalid_client", "invalid client nope"},
		{"missing client", func(q url.Values) { q.Del("client_id") }, "invalid_request", "missing required parameter 'client_id'"},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/cb") },
			"invalid_redirect_uri", "redirect_uri did not match any of the client's registered redirect_uris"},
		{"duplicate param", func(q url.Values) { q.Add("state", "again") }, "invalid_request", "'state' parameter must not be provided twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authParams()
			q.Set("state", "s")
			tt.mutate(q)
			res := get(t, srv.Issuer()+"/auth?"+q.Encode())
			wantError(t, res, http.StatusBadRequest, tt.code, tt.desc)
			if res.json["iss"] != srv.Issuer() {
				t.Errorf("iss %v", res.json["iss"])
			}
			if tt.name != "duplicate param" && res.json["state"] != "s" {
				t.Errorf("state %v", res.json["state"])
			}
		})
	}
	// The exact Logto body of the capture (errors.txt).
	q := authParams()
	q.Set("state", "s")
	q.Set("client_id", "nope")
	res := get(t, srv.Issuer()+"/auth?"+q.Encode())
	want := `{"code":"oidc.invalid_client","message":"An OIDC error occurred: oidc.invalid_client.","error":"invalid_client","error_description":"invalid client nope","state":"s","iss":"` + srv.Issuer() + `"}`
	if string(res.body) != want {
		t.Errorf("body\n got %s\nwant %s", res.body, want)
	}
}

func TestAuthorizeRedirectedErrors(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t,
		logtotest.WithApps(logtotest.DefaultApp(), logtotest.App{
			ID: "publicspaapp000000001", Public: true, RedirectURIs: []string{"http://localhost:3000/spa"},
		}),
		logtotest.WithResources(logtotest.Resource{Indicator: "https://api.example", Scopes: []string{"read"}}))
	tests := []struct {
		name   string
		mutate func(url.Values)
		code   string
		desc   string
	}{
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", ""},
		{"missing response_type", func(q url.Values) { q.Del("response_type") }, "invalid_request", "missing required parameter 'response_type'"},
		{"no openid", func(q url.Values) { q.Set("scope", "profile") }, "invalid_request", ""},
		{"challenge without method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request", "code_challenge_method must be provided"},
		{"plain method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request", "not supported value of code_challenge_method"},
		{"unknown resource", func(q url.Values) { q.Set("resource", "https://api.example,https://other.example") }, "invalid_target", "resource indicator is missing, or unknown"},
		{"prompt none without session", func(q url.Values) { q.Set("prompt", "none") }, "login_required", ""},
		{"public app without PKCE", func(q url.Values) {
			q.Set("client_id", "publicspaapp000000001")
			q.Set("redirect_uri", "http://localhost:3000/spa")
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authParams()
			tt.mutate(q)
			res := get(t, srv.Issuer()+"/auth?"+q.Encode())
			if res.status != http.StatusSeeOther {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			loc, err := url.Parse(res.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			got := loc.Query()
			if got.Get("error") != tt.code || (tt.desc != "" && got.Get("error_description") != tt.desc) {
				t.Errorf("got %v, want %s %s", got, tt.code, tt.desc)
			}
			if got.Get("state") != "st-1" || got.Get("iss") != srv.Issuer() {
				t.Errorf("state/iss missing: %v", got)
			}
			if !strings.Contains(loc.RawQuery, "error=") || !strings.HasPrefix(loc.RawQuery, "error=") {
				t.Errorf("query order %q", loc.RawQuery)
			}
		})
	}
}

func TestAuthorizePOSTAndPromptNone(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	res := postForm(t, srv.Issuer()+"/auth", authParams())
	if res.status != http.StatusSeeOther {
		t.Fatalf("POST /oidc/auth: %d %s", res.status, res.body)
	}
	sess := cookieNamed(res, "_session")
	get(t, srv.URL()+res.header.Get("Location"))

	q := authParams()
	q.Set("prompt", "none")
	res = get(t, srv.Issuer()+"/auth?"+q.Encode(), sess)
	loc, _ := url.Parse(res.header.Get("Location"))
	if res.status != http.StatusSeeOther || loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with session: %d %s", res.status, res.header.Get("Location"))
	}
	// offline_access is dropped without prompt=consent.
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier},
	}
	tok := postForm(t, srv.Issuer()+"/token", form, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
	if tok.status != 200 || tok.json["refresh_token"] != nil || tok.json["scope"] != "openid profile email phone" {
		t.Fatalf("token %d %v", tok.status, tok.json)
	}
}

func TestSignInUserSelection(t *testing.T) {
	t.Parallel()
	alice := logtotest.User{ID: "alice0000001", Username: "alice", Email: "alice@example.com", Phone: "15550000001"}
	bob := logtotest.User{ID: "bob000000001", Username: "bob"}
	srv := logtotest.NewServer(t, logtotest.WithUsers(alice, bob))
	sub := func(hint string) any {
		q := authParams()
		if hint != "" {
			q.Set("login_hint", hint)
		}
		tok := exchange(t, srv, q)
		_, claims := verifyJWT(t, srv, tok["id_token"].(string))
		return claims["sub"]
	}
	if got := sub(""); got != alice.ID {
		t.Errorf("default user %v", got)
	}
	srv.SetSignInUser(bob.ID)
	if got := sub(""); got != bob.ID {
		t.Errorf("SetSignInUser: %v", got)
	}
	for _, hint := range []string{"+15550000001", "15550000001", "ALICE@example.com", "alice"} {
		if got := sub(hint); got != alice.ID {
			t.Errorf("login_hint %q: %v", hint, got)
		}
	}
}
