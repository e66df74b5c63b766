package logtotest_test

import (
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
