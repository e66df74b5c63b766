package logtotest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

func userinfo(t testing.TB, srv *logtotest.Server, token string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.Issuer()+"/me", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func TestUserinfo(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t, logtotest.WithResources(logtotest.Resource{Indicator: "https://api.probe.local"}))
	tok := exchange(t, srv, authParams())
	res := userinfo(t, srv, tok["access_token"].(string))
	want := readJSONFile(t, "testdata/password-userinfo.json")["body"].(map[string]any)
	if res.status != 200 || !reflect.DeepEqual(shape(res.json), shape(want)) {
		t.Fatalf("%d: shape %v, want %v", res.status, shape(res.json), shape(want))
	}
	if res.json["sub"] != logtotest.DefaultUserID {
		t.Errorf("sub %v", res.json["sub"])
	}
	// POST with the token in the body works too.
	post := postForm(t, srv.Issuer()+"/me", url.Values{"access_token": {tok["access_token"].(string)}})
	if post.status != 200 || post.json["sub"] != logtotest.DefaultUserID {
		t.Errorf("POST /oidc/me: %d %s", post.status, post.body)
	}

	// Userinfo-only claims.
	u := logtotest.DefaultUser()
	u.CustomData = map[string]any{"plan": "pro"}
	u.Organizations = []string{"org1"}
	srv.AddUser(u)
	q := authParams()
	q.Set("scope", "openid custom_data identities urn:logto:scope:organizations")
	tok2 := exchange(t, srv, q)
	res = userinfo(t, srv, tok2["access_token"].(string))
	if !reflect.DeepEqual(res.json["custom_data"], map[string]any{"plan": "pro"}) || res.json["identities"] == nil ||
		res.json["organization_data"] == nil || res.json["sso_identities"] == nil {
		t.Errorf("userinfo %v", res.json)
	}

	// A JWT access token or an unknown token: 401 invalid_token.
	jwt := exchangeWithResource(t, srv)
	for _, tokv := range []string{jwt, "unknown"} {
		res = userinfo(t, srv, tokv)
		wantError(t, res, 401, "invalid_token", "invalid token provided")
		wa := `Bearer realm="` + srv.Issuer() + `", error="invalid_token", error_description="invalid token provided"`
		if got := res.header.Get("WWW-Authenticate"); got != wa {
			t.Errorf("WWW-Authenticate %q", got)
		}
		if want := `{"code":"oidc.invalid_token","message":"Invalid token provided.","error":"invalid_token","error_description":"invalid token provided"}`; string(res.body) != want {
			t.Errorf("body %s", res.body)
		}
	}
	wantError(t, userinfo(t, srv, ""), 400, "invalid_request", "no access token provided")
}

func exchangeWithResource(t testing.TB, srv *logtotest.Server) string {
	q := authParams()
	q.Set("resource", "https://api.probe.local")
	cb, _ := signIn(t, srv, q)
	res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier}, "resource": {"https://api.probe.local"}},
		basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	return res.json["access_token"].(string)
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t, logtotest.WithResources(logtotest.Resource{Indicator: "https://api.probe.local"}))
	auth := basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	revoke := func(token string) response {
		return postForm(t, srv.Issuer()+"/token/revocation", url.Values{"token": {token}}, auth)
	}
	// Revoking the access token revokes the sibling refresh token.
	tok := exchange(t, srv, authParams())
	if res := revoke(tok["access_token"].(string)); res.status != 200 || len(res.body) != 0 {
		t.Fatalf("%d %q", res.status, res.body)
	}
	wantError(t, userinfo(t, srv, tok["access_token"].(string)), 401, "invalid_token", "")
	wantError(t, refresh(t, srv, tok["refresh_token"].(string), nil), 400, "invalid_grant", "")

	// Revoking the refresh token.
	tok = exchange(t, srv, authParams())
	if res := postForm(t, srv.Issuer()+"/token/revocation", url.Values{"token": {tok["refresh_token"].(string)},
		"token_type_hint": {"refresh_token"}, "client_id": {logtotest.DefaultAppID},
		"client_secret": {logtotest.DefaultAppSecret}}); res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	wantError(t, refresh(t, srv, tok["refresh_token"].(string), nil), 400, "invalid_grant", "")

	if res := revoke("unknown"); res.status != 200 {
		t.Errorf("unknown token: %d", res.status)
	}
	wantError(t, revoke(exchangeWithResource(t, srv)), 400, "unsupported_token_type", "")
	res := postForm(t, srv.Issuer()+"/token/revocation", url.Values{"token": {"x"}}, basicAuth(logtotest.DefaultAppID, "bad"))
	wantError(t, res, 401, "invalid_client", "client authentication failed")
	if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
	}
}

var xsrfInput = regexp.MustCompile(`name="xsrf" value="([0-9a-f]+)"`)

func endSession(t testing.TB, srv *logtotest.Server, params url.Values, sess *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	var cookies []*http.Cookie
	if sess != nil {
		cookies = append(cookies, sess)
	}
	res := get(t, srv.Issuer()+"/session/end?"+params.Encode(), cookies...)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("end session: %d %s", res.status, res.body)
	}
	body := string(res.body)
	for _, want := range []string{"<title>Sign Out</title>",
		`<form id="op.logoutForm" method="post" action="` + srv.Issuer() + `/session/end/confirm">`,
		`<input type="hidden" form="op.logoutForm" value="yes" name="logout" />`} {
		if !strings.Contains(body, want) {
			t.Fatalf("logout page lacks %q:\n%s", want, body)
		}
	}
	m := xsrfInput.FindStringSubmatch(body)
	if m == nil || len(m[1]) != 48 {
		t.Fatalf("no xsrf in %s", body)
	}
	capture := readJSONFile(t, "testdata/password-end-session.json")["html_excerpt"].(string)
	capture = strings.TrimSuffix(capture, "<")
	capture = regexp.MustCompile(`value="[0-9a-f]{48}"`).ReplaceAllString(capture, `value="`+m[1]+`"`)
	capture = strings.ReplaceAll(capture, "http://localhost:3001", srv.URL())
	if !strings.HasPrefix(body, capture) {
		t.Fatalf("logout page\n%s\ndoes not start like the capture\n%s", body, capture)
	}
	if c := cookieNamed(res, "_session"); c != nil {
		sess = c
	}
	return m[1], sess
}

func TestEndSessionTwoSteps(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	q := authParams()
	q.Set("scope", "openid profile") // no offline_access: revoked at logout
	cb, sess := signIn(t, srv, q)
	tok := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier}},
		basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)).json
	offline := exchange(t, srv, authParams(), sess) // same session, with offline_access

	params := url.Values{"client_id": {logtotest.DefaultAppID}, "id_token_hint": {tok["id_token"].(string)},
		"post_logout_redirect_uri": {logtotest.DefaultPostLogoutRedirectURI}, "state": {"bye"}}
	xsrf, sess2 := endSession(t, srv, params, sess)
	if sess2.Value != sess.Value {
		t.Fatal("end session replaced the provider session")
	}

	bad := postForm(t, srv.Issuer()+"/session/end/confirm", url.Values{"xsrf": {"nope"}, "logout": {"yes"}}, withCookie(sess))
	wantError(t, bad, 400, "invalid_request", "")

	res := postForm(t, srv.Issuer()+"/session/end/confirm", url.Values{"xsrf": {xsrf}, "logout": {"yes"}}, withCookie(sess))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "http://localhost:3000/?state=bye" {
		t.Fatalf("confirm: %d Location %q", res.status, res.header.Get("Location"))
	}
	if c := cookieNamed(res, "_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("_session not expired: %+v", c)
	}
	wantError(t, userinfo(t, srv, tok["access_token"].(string)), 401, "invalid_token", "")
	if res := refresh(t, srv, offline["refresh_token"].(string), nil); res.status != 200 {
		t.Errorf("offline_access grant revoked at logout: %d", res.status)
	}
	// The session is gone: prompt=none needs a new sign-in.
	q = authParams()
	q.Set("prompt", "none")
	loc, _ := url.Parse(get(t, srv.Issuer()+"/auth?"+q.Encode(), sess).header.Get("Location"))
	if loc.Query().Get("error") != "login_required" {
		t.Errorf("after logout prompt=none: %v", loc)
	}
}

func TestEndSessionWithoutRedirect(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	xsrf, sess := endSession(t, srv, url.Values{}, nil)
	if sess == nil {
		t.Fatal("no session created")
	}
	res := postForm(t, srv.Issuer()+"/session/end/confirm", url.Values{"xsrf": {xsrf}, "logout": {"yes"}}, withCookie(sess))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != srv.Issuer()+"/session/end/success" {
		t.Fatalf("%d %q", res.status, res.header.Get("Location"))
	}
	page := get(t, res.header.Get("Location"))
	if page.status != 200 || !strings.Contains(string(page.body), "You have successfully signed out.") {
		t.Fatalf("success page %d %s", page.status, page.body)
	}
}

func TestEndSessionErrors(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	other := logtotest.App{ID: "otherapp0000000000001", Secret: "x", RedirectURIs: []string{"http://o/cb"}}
	srv.AddApp(other)
	tok := exchange(t, srv, authParams())
	foreign, _ := srv.Sign(nil, map[string]any{"iss": "https://evil", "aud": logtotest.DefaultAppID})
	tests := []struct {
		name   string
		params url.Values
		code   string
		desc   string
	}{
		{"unregistered post-logout URI", url.Values{"client_id": {logtotest.DefaultAppID},
			"post_logout_redirect_uri": {"http://evil.example/"}}, "invalid_request", "post_logout_redirect_uri not registered"},
		{"client_id mismatch", url.Values{"client_id": {other.ID}, "id_token_hint": {tok["id_token"].(string)}},
			"invalid_request", "client_id does not match the provided id_token_hint"},
		{"bad hint", url.Values{"id_token_hint": {"a.b.c"}}, "invalid_request", ""},
		{"foreign issuer hint", url.Values{"id_token_hint": {foreign}}, "invalid_request", ""},
		{"unknown client", url.Values{"client_id": {"nope"}}, "invalid_client", "invalid client nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, get(t, srv.Issuer()+"/session/end?"+tt.params.Encode()), 400, tt.code, tt.desc)
		})
	}
	// No client identified: the URI is silently ignored.
	xsrf, sess := endSession(t, srv, url.Values{"post_logout_redirect_uri": {"http://evil.example/"}}, nil)
	res := postForm(t, srv.Issuer()+"/session/end/confirm", url.Values{"xsrf": {xsrf}, "logout": {"yes"}}, withCookie(sess))
	if loc := res.header.Get("Location"); loc != srv.Issuer()+"/session/end/success" {
		t.Errorf("Location %q", loc)
	}
	// Confirm without a session.
	wantError(t, postForm(t, srv.Issuer()+"/session/end/confirm", url.Values{"xsrf": {xsrf}}), 400, "invalid_request", "")
}
