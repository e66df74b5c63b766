package logtotest_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/logtotest"
)

func TestCodeFlowMatchesCaptures(t *testing.T) {
	t.Parallel()
	c := newClock()
	srv := logtotest.NewServer(t, logtotest.WithClock(c.Now))
	tok := exchange(t, srv, authParams())

	capture := readJSONFile(t, "testdata/password-token-response-authorization_code.json")
	if !reflect.DeepEqual(shape(tok), shape(capture)) {
		t.Errorf("token response shape %v, want %v", shape(tok), shape(capture))
	}
	if tok["scope"] != capture["scope"] || tok["expires_in"] != float64(3600) || tok["token_type"] != "Bearer" {
		t.Errorf("token response %v", tok)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if s := tok[k].(string); len(s) != 43 || strings.Count(s, ".") != 0 {
			t.Errorf("%s %q is not a 43-char opaque token", k, s)
		}
	}

	header, claims := verifyJWT(t, srv, tok["id_token"].(string))
	want := readJSONFile(t, "testdata/password-id_token.decoded.json")
	if !reflect.DeepEqual(shape(header), shape(want["header"].(map[string]any))) || header["alg"] != "ES384" ||
		header["kid"] != srv.CurrentKeyID() {
		t.Errorf("ID token header %v, want the capture's %v", header, want["header"])
	}
	if got, w := shape(claims), shape(want["claims"].(map[string]any)); !reflect.DeepEqual(got, w) {
		t.Errorf("ID token claims shape\n got %v\nwant %v", got, w)
	}
	u := logtotest.DefaultUser()
	now := c.Now().Unix()
	checks := map[string]any{
		"iss": srv.Issuer(), "aud": logtotest.DefaultAppID, "sub": logtotest.DefaultUserID,
		"nonce": "nonce-1", "iat": float64(now), "exp": float64(now + 3600),
		"phone_number": "15551234567", "email": u.Email, "username": u.Username, "preferred_username": u.Username,
		"created_at": float64(u.CreatedAt.UnixMilli()), "updated_at": float64(u.UpdatedAt.UnixMilli()),
	}
	for k, v := range checks {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
}

func TestExtendedClaimsAndNulls(t *testing.T) {
	t.Parallel()
	u := logtotest.User{ID: "user00000001", Roles: []string{"admin"}, Organizations: []string{"org1"},
		OrganizationRoles: []string{"org1:member"}}
	srv := logtotest.NewServer(t, logtotest.WithUsers(u))
	q := authParams()
	q.Set("scope", "openid profile email roles urn:logto:scope:organizations urn:logto:scope:organization_roles custom_data")
	tok := exchange(t, srv, q)
	_, claims := verifyJWT(t, srv, tok["id_token"].(string))
	for _, k := range []string{"name", "picture", "username", "email"} {
		if v, ok := claims[k]; !ok || v != nil {
			t.Errorf("claim %s = %v (present %v), want null", k, v, ok)
		}
	}
	if claims["email_verified"] != false {
		t.Errorf("email_verified %v", claims["email_verified"])
	}
	if !reflect.DeepEqual(claims["roles"], []any{"admin"}) || !reflect.DeepEqual(claims["organizations"], []any{"org1"}) ||
		!reflect.DeepEqual(claims["organization_roles"], []any{"org1:member"}) {
		t.Errorf("extended claims %v", claims)
	}
	if _, ok := claims["custom_data"]; ok {
		t.Error("custom_data in ID token; Logto puts it only in userinfo by default")
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	pub := logtotest.App{ID: "publicspaapp000000001", Public: true, RedirectURIs: []string{"http://localhost:3000/spa"}}
	srv := logtotest.NewServer(t, logtotest.WithApps(logtotest.DefaultApp(), pub))
	id, secret := logtotest.DefaultAppID, logtotest.DefaultAppSecret
	base := func(extra ...string) url.Values {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Add(extra[i], extra[i+1])
		}
		return v
	}
	header := func(h string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", h) }
	}
	tests := []struct {
		name   string
		form   url.Values
		mutate []func(*http.Request)
		status int
		code   string
		desc   string
	}{
		{"basic ok reaches grant", base(), []func(*http.Request){basicAuth(id, secret)}, 400, "invalid_grant", "grant request is invalid"},
		{"post ok reaches grant", base("client_id", id, "client_secret", secret), nil, 400, "invalid_grant", ""},
		{"public none ok", base("client_id", pub.ID), nil, 400, "invalid_grant", ""},
		{"no auth", base(), nil, 400, "invalid_request", "no client authentication mechanism provided"},
		{"two mechanisms", base("client_secret", secret), []func(*http.Request){basicAuth(id, secret)}, 400, "invalid_request",
			"client authentication must only be provided using one mechanism"},
		{"malformed basic", base(), []func(*http.Request){header("Basic !!!")}, 400, "invalid_request", "invalid authorization header value format"},
		{"no colon", base(), []func(*http.Request){header("Basic " + base64.StdEncoding.EncodeToString([]byte("abc")))}, 400,
			"invalid_request", "invalid authorization header value format"},
		{"client_id mismatch", base("client_id", "other"), []func(*http.Request){basicAuth(id, secret)}, 400, "invalid_request", "client_id mismatch"},
		{"unknown client", base("client_id", "nope", "client_secret", "x"), nil, 400, "invalid_client", "invalid client nope"},
		{"wrong secret basic", base(), []func(*http.Request){basicAuth(id, "wrong")}, 401, "invalid_client", "client authentication failed"},
		{"wrong secret post", base("client_id", id, "client_secret", "wrong"), nil, 401, "invalid_client", "client authentication failed"},
		{"confidential sends none", base("client_id", id), nil, 401, "invalid_client", "client authentication failed"},
		{"public sends secret", base("client_id", pub.ID, "client_secret", "x"), nil, 401, "invalid_client", "client authentication failed"},
		{"missing grant_type", url.Values{"client_id": {pub.ID}}, nil, 400, "invalid_request", "missing required parameter 'grant_type'"},
		{"implicit", url.Values{"client_id": {pub.ID}, "grant_type": {"implicit"}}, nil, 400, "unsupported_grant_type", "unsupported grant_type requested"},
		{"client_credentials", url.Values{"client_id": {pub.ID}, "grant_type": {"client_credentials"}}, nil, 400, "invalid_request",
			"requested grant type is not allowed for this client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := postForm(t, srv.Issuer()+"/token", tt.form, tt.mutate...)
			wantError(t, res, tt.status, tt.code, tt.desc)
			wa := res.header.Get("WWW-Authenticate")
			if tt.status == 401 && !strings.HasPrefix(wa, `Basic realm="`+srv.Issuer()+`"`) {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			if res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", res.header.Get("Cache-Control"))
			}
		})
	}
	// Basic credentials are form-url-decoded.
	odd := logtotest.App{ID: "odd", Secret: "s3cr3t:+/ %", RedirectURIs: []string{"http://x/cb"}}
	srv.AddApp(odd)
	res := postForm(t, srv.Issuer()+"/token", base(), basicAuth(odd.ID, odd.Secret))
	wantError(t, res, 400, "invalid_grant", "")
	// The exact Logto body of the capture (errors.txt).
	res = postForm(t, srv.Issuer()+"/token", base(), basicAuth(id, "wrong"))
	if want := `{"code":"oidc.invalid_client","message":"An OIDC error occurred: oidc.invalid_client.","error":"invalid_client","error_description":"client authentication failed"}`; string(res.body) != want {
		t.Errorf("body %s", res.body)
	}
	res = postForm(t, srv.Issuer()+"/token", base(), basicAuth(id, secret))
	if want := `{"code":"oidc.invalid_grant","message":"Grant request is invalid.","error_uri":"https://openid.sh/debug/invalid_grant","error":"invalid_grant","error_description":"grant request is invalid"}`; string(res.body) != want {
		t.Errorf("body %s", res.body)
	}
}

func TestCodeExchangeFailures(t *testing.T) {
	t.Parallel()
	c := newClock()
	other := logtotest.App{ID: "otherapp0000000000001", Secret: "x", RedirectURIs: []string{logtotest.DefaultRedirectURI}}
	srv := logtotest.NewServer(t, logtotest.WithClock(c.Now), logtotest.WithApps(logtotest.DefaultApp(), other))
	auth := basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier}}
	}
	newCode := func() string {
		q, _ := signIn(t, srv, authParams())
		return q.Get("code")
	}
	tests := []struct {
		name string
		run  func() response
	}{
		{"wrong verifier", func() response {
			f := form(newCode())
			f.Set("code_verifier", strings.Repeat("a", 43))
			return postForm(t, srv.Issuer()+"/token", f, auth)
		}},
		{"missing verifier", func() response {
			f := form(newCode())
			f.Del("code_verifier")
			return postForm(t, srv.Issuer()+"/token", f, auth)
		}},
		{"other redirect_uri", func() response {
			f := form(newCode())
			f.Set("redirect_uri", "http://localhost:3000/other")
			return postForm(t, srv.Issuer()+"/token", f, auth)
		}},
		{"other client", func() response {
			return postForm(t, srv.Issuer()+"/token", form(newCode()), basicAuth(other.ID, other.Secret))
		}},
		{"unknown code", func() response { return postForm(t, srv.Issuer()+"/token", form("nope"), auth) }},
		{"expired code", func() response {
			code := newCode()
			c.Advance(61 * time.Second)
			return postForm(t, srv.Issuer()+"/token", form(code), auth)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.run(), http.StatusBadRequest, "invalid_grant", "grant request is invalid")
		})
	}
	// 59 seconds is still fine.
	code := newCode()
	c.Advance(59 * time.Second)
	if res := postForm(t, srv.Issuer()+"/token", form(code), auth); res.status != 200 {
		t.Fatalf("code at 59 s: %d %s", res.status, res.body)
	}
	// A missing code is a missing parameter.
	wantError(t, postForm(t, srv.Issuer()+"/token", form(""), auth), 400, "invalid_request", "missing required parameter 'code'")
}

func TestCodeReuseRevokesGrant(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	q, _ := signIn(t, srv, authParams())
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier}}
	auth := basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	first := postForm(t, srv.Issuer()+"/token", form, auth)
	if first.status != 200 {
		t.Fatalf("first exchange %d %s", first.status, first.body)
	}
	wantError(t, postForm(t, srv.Issuer()+"/token", form, auth), 400, "invalid_grant", "grant request is invalid")
	wantError(t, refresh(t, srv, first.json["refresh_token"].(string), nil), 400, "invalid_grant", "")
	req, _ := http.NewRequest(http.MethodGet, srv.Issuer()+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+first.json["access_token"].(string))
	wantError(t, do(t, req), 401, "invalid_token", "")
}

func TestResourceAtCodeExchange(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t, logtotest.WithResources(
		logtotest.Resource{Indicator: "https://api.probe.local", Scopes: []string{"read:probe", "write:probe"}},
		logtotest.Resource{Indicator: "https://other.local", Scopes: []string{"x"}}))
	q := authParams()
	q.Set("scope", q.Get("scope")+" read:probe")
	q.Set("resource", "https://api.probe.local")
	code, _ := signIn(t, srv, q)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code.Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier},
		"resource": {"https://other.local"}}
	auth := basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	wantError(t, postForm(t, srv.Issuer()+"/token", form, auth), 400, "invalid_target", "resource indicator is missing, or unknown")

	code, _ = signIn(t, srv, q)
	form.Set("code", code.Get("code"))
	form.Set("resource", "https://api.probe.local")
	res := postForm(t, srv.Issuer()+"/token", form, auth)
	if res.status != 200 || res.json["scope"] != "read:probe" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	header, claims := verifyJWT(t, srv, res.json["access_token"].(string))
	if header["typ"] != "at+jwt" || claims["aud"] != "https://api.probe.local" || claims["scope"] != "read:probe" {
		t.Errorf("access token %v %v", header, claims)
	}
}
