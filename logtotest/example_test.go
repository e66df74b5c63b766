package logtotest_test

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/logto-go/logto/logtotest"
)

// ExampleNew serves the provider without a network listener and reads its
// discovery document.
func ExampleNew() {
	p, err := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet,
		"http://localhost:3001/oidc/.well-known/openid-configuration", nil))
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	fmt.Println(rec.Code, doc["issuer"])
	fmt.Println(doc["token_endpoint"])
	fmt.Println(doc["id_token_signing_alg_values_supported"])
	// Output:
	// 200 http://localhost:3001/oidc
	// http://localhost:3001/oidc/token
	// [ES384]
}

// ExampleProvider_ServeHTTP walks the automatic sign-in: /oidc/auth answers
// 303 to /oidc/auth/<uid>, which answers 303 to the redirect URI with code,
// state and iss.
func ExampleProvider_ServeHTTP() {
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
	q := url.Values{
		"client_id":     {logtotest.DefaultAppID},
		"redirect_uri":  {logtotest.DefaultRedirectURI},
		"response_type": {"code"},
		"scope":         {"openid profile"},
		"state":         {"xyz"},
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost:3001/oidc/auth?"+q.Encode(), nil))
	fmt.Println(rec.Code, strings.HasPrefix(rec.Header().Get("Location"), "/oidc/auth/"))

	rec2 := httptest.NewRecorder()
	p.ServeHTTP(rec2, httptest.NewRequest(http.MethodGet, "http://localhost:3001"+rec.Header().Get("Location"), nil))
	cb, _ := url.Parse(rec2.Header().Get("Location"))
	fmt.Println(rec2.Code, cb.Host+cb.Path, len(cb.Query().Get("code")), cb.Query().Get("state"), cb.Query().Get("iss"))
	// Output:
	// 303 true
	// 303 localhost:3000/callback 43 xyz http://localhost:3001/oidc
}

// ExampleProvider_Sign mints a token with the current key, e.g. to test how
// a client treats a forged or expired token.
func ExampleProvider_Sign() {
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
	tok, err := p.Sign(map[string]any{"typ": "JWT"}, map[string]any{"sub": "someone", "exp": 0})
	fmt.Println(err == nil, strings.Count(tok, "."))
	// Output: true 2
}

// ExampleProvider_SetHooks makes the provider misbehave in exactly one way:
// its discovery document names a foreign issuer.
func ExampleProvider_SetHooks() {
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
	p.SetHooks(logtotest.Hooks{
		Discovery: func(doc map[string]any) { doc["issuer"] = "https://evil.example/oidc" },
	})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet,
		"http://localhost:3001/oidc/.well-known/openid-configuration", nil))
	var doc map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	fmt.Println(doc["issuer"], p.CountRequests("/oidc/.well-known/openid-configuration"))
	// Output: https://evil.example/oidc 1
}

// ExampleOrganization configures a global role, an organization with a role
// and a member, then gets an API resource token and an organization token
// with the refresh grant, as the SDK does.
func ExampleOrganization() {
	const api = "https://api.example.com"
	user := logtotest.DefaultUser()
	user.Roles = []string{"reader"}
	user.Organizations = []string{"acme"}
	user.OrganizationRoles = []string{"acme:admin"}
	p, _ := logtotest.New(logtotest.Options{
		URL:       "http://localhost:3001",
		Users:     []logtotest.User{user},
		Resources: []logtotest.Resource{{Indicator: api, Scopes: []string{"read:data", "write:data"}}},
		Roles:     []logtotest.Role{{Name: "reader", Scopes: map[string][]string{api: {"read:data"}}}},
		Organizations: []logtotest.Organization{{ID: "acme", Name: "Acme", Roles: []logtotest.OrganizationRole{
			{Name: "admin", Scopes: []string{"invite:member"}},
		}}},
	})
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		return rec
	}
	token := func(form url.Values) map[string]any {
		r := httptest.NewRequest(http.MethodPost, "http://localhost:3001/oidc/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
		var body map[string]any
		_ = json.Unmarshal(serve(r).Body.Bytes(), &body)
		return body
	}
	claims := func(jwt string) (aud, scope any) {
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		return c["aud"], c["scope"]
	}

	q := url.Values{
		"client_id": {logtotest.DefaultAppID}, "response_type": {"code"}, "prompt": {"consent"},
		// write:data is dropped: no role of the user grants it.
		"scope":    {"openid offline_access urn:logto:scope:organizations invite:member read:data write:data"},
		"resource": {api, logtotest.ReservedOrganizationResource},
	}
	rec := serve(httptest.NewRequest(http.MethodGet, "http://localhost:3001/oidc/auth?"+q.Encode(), nil))
	rec = serve(httptest.NewRequest(http.MethodGet, "http://localhost:3001"+rec.Header().Get("Location"), nil))
	cb, _ := url.Parse(rec.Header().Get("Location"))
	rt := token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}})["refresh_token"]

	res := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.(string)}, "resource": {api}})
	fmt.Println(claims(res["access_token"].(string)))
	res = token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.(string)}, "organization_id": {"acme"}})
	fmt.Println(claims(res["access_token"].(string)))
	res = token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt.(string)}, "organization_id": {"other"}})
	fmt.Println(res["error"], res["error_description"])
	// Output:
	// https://api.example.com read:data
	// urn:logto:organization:acme invite:member
	// access_denied user is not a member of the organization
}

// ExampleWithAccessTokenHash makes ID tokens carry at_hash, so that a test
// can check how a client verifies it against the access token that came
// with it (Logto 1.42 sends none; oidc-provider can).
func ExampleWithAccessTokenHash() {
	var o logtotest.Options
	logtotest.WithAccessTokenHash()(&o)
	o.URL = "http://localhost:3001"
	p, _ := logtotest.New(o)
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		return rec
	}
	q := url.Values{"client_id": {logtotest.DefaultAppID}, "response_type": {"code"}, "scope": {"openid"}}
	rec := serve(httptest.NewRequest(http.MethodGet, "http://localhost:3001/oidc/auth?"+q.Encode(), nil))
	rec = serve(httptest.NewRequest(http.MethodGet, "http://localhost:3001"+rec.Header().Get("Location"), nil))
	cb, _ := url.Parse(rec.Header().Get("Location"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}}
	r := httptest.NewRequest(http.MethodPost, "http://localhost:3001/oidc/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)
	var body struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	_ = json.Unmarshal(serve(r).Body.Bytes(), &body)

	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(body.IDToken, ".")[1])
	var claims struct {
		AtHash string `json:"at_hash"`
	}
	_ = json.Unmarshal(payload, &claims)
	sum := sha512.Sum384([]byte(body.AccessToken)) // ES384: the left half of SHA-384
	fmt.Println(claims.AtHash == base64.RawURLEncoding.EncodeToString(sum[:24]))
	// Output: true
}
