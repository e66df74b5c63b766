package logto_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

func ExampleClient_Middleware() {
	client, _, stop := exampleSetup()
	defer stop()
	signedIn := signInExample(client)

	home := client.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lc := logto.FromContext(r.Context()); lc.IsAuthenticated {
			fmt.Fprintln(w, "Hello,", lc.Claims.Sub)
			return
		}
		fmt.Fprintln(w, "Sign In")
	}))
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "https://app.example.com/", nil),
		requestWithCookies("GET", "https://app.example.com/", signedIn),
	} {
		w := httptest.NewRecorder()
		home.ServeHTTP(w, r)
		fmt.Print(w.Body.String())
	}
	// Output:
	// Sign In
	// Hello, defaultuser1
}

func ExampleClient_GetOrganizationResourceToken() {
	client, _, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	r := requestWithCookies("GET", "https://app.example.com/", signInExample(client))

	token, err := client.GetOrganizationResourceToken(httptest.NewRecorder(), r, "https://api.example.com", "acme")
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(token)
	org, _ := claims.Organization()
	fmt.Println(claims.Aud, org)
	// Output:
	// [https://api.example.com] acme
}

func ExampleStatusCode() {
	for _, err := range []error{
		&logto.CallbackError{Reason: logto.ReasonStateMismatch},
		&logto.AuthorizationError{Code: "access_denied"},
		&logto.ProviderError{Stage: "token", Reason: logto.ReasonOAuthError, StatusCode: 400, Code: "invalid_grant"},
		&logto.ProviderError{Stage: "token", Reason: logto.ReasonTimeout},
		logto.ErrCSRF,
	} {
		fmt.Println(logto.StatusCode(err), errors.Is(err, logto.ErrProviderResponse))
	}
	// Output:
	// 400 false
	// 401 false
	// 502 true
	// 504 false
	// 403 false
}

// Sessions kept server-side (here in memory; redisstore.New for Redis): the
// cookie holds only a sealed random ID.
func ExampleNewMemoryStore() {
	store := logto.NewMemoryStore()
	client, err := logto.New(logto.Config{
		AppID:          "my-app-id",
		AppSecret:      "my-app-secret",
		Endpoint:       "https://my-tenant.logto.app",
		BaseURL:        "https://app.example.com",
		CookieSecret:   "a-random-secret-of-at-least-32-characters",
		SessionStore:   store,
		RevocationList: logto.NewStoreRevocationList(store), // back-channel logouts, shared the same way
	})
	fmt.Println(client != nil, err)
	// Output:
	// true <nil>
}

func ExampleNewLocalRefreshCoalescer() {
	// The default; replace it with redisstore.NewRefreshCoalescer to coalesce
	// refreshes across instances.
	_, err := logto.New(logto.Config{
		AppID: "my-app-id", AppSecret: "my-app-secret", Endpoint: "https://my-tenant.logto.app",
		BaseURL: "https://app.example.com", CookieSecret: "a-random-secret-of-at-least-32-characters",
		RefreshCoalescer: logto.NewLocalRefreshCoalescer(),
	})
	fmt.Println(err)
	// Output:
	// <nil>
}

func ExampleClient_HandleBackChannelLogout() {
	client, op, stop := exampleSetup()
	defer stop()
	signedIn := signInExample(client)

	// What Logto POSTs to BaseURL + "/backchannel-logout" when the user's
	// Logto session ends elsewhere.
	now := time.Now().Unix()
	token, _ := op.Sign(map[string]any{"typ": "logout+jwt"}, map[string]any{
		"iss": op.Issuer(), "aud": logtotest.DefaultAppID, "sub": logtotest.DefaultUserID,
		"iat": now, "exp": now + 120, "jti": "example-logout",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	req := httptest.NewRequest("POST", "https://app.example.com/backchannel-logout",
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	client.Handler().ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))

	lc, _ := client.GetContext(nil, requestWithCookies("GET", "https://app.example.com/", signedIn))
	fmt.Println("still signed in:", lc.IsAuthenticated)
	// Output:
	// 200 no-store
	// still signed in: false
}

func ExampleClient_MiddlewareWith() {
	client, _, stop := exampleSetup()
	defer stop()

	// Pages stay signed in past the ID token's one-hour life while Logto keeps
	// the grant: the middleware renews the ID token with the refresh token.
	page := client.MiddlewareWith(logto.WithIDTokenRenewal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, logto.FromContext(r.Context()).IsAuthenticated)
	}))
	w := httptest.NewRecorder()
	page.ServeHTTP(w, requestWithCookies("GET", "https://app.example.com/", signInExample(client)))
	fmt.Print(w.Body.String())
	// Output:
	// true
}

func ExampleClient_SignInURL() {
	client, _, stop := exampleSetup()
	defer stop()

	// For apps that navigate themselves (e.g. answer a fetch with the URL).
	w := httptest.NewRecorder()
	u, err := client.SignInURL(w, httptest.NewRequest("GET", "https://app.example.com/", nil),
		&logto.SignInOptions{LoginHint: "15551234567", FirstScreen: logto.FirstScreenIdentifierSignIn})
	if err != nil {
		log.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	fmt.Println(parsed.Path, parsed.Query().Get("login_hint"), len(w.Result().Cookies())) // the transaction and the browser binding
	// Output:
	// /oidc/auth 15551234567 2
}

// ExampleAtomicAdder: a SessionStore that can add a key atomically is where
// HandleSignIn claims a sign-in's state before redeeming its code, so that
// two instances receiving the same callback redeem it once. The memory
// store and redisstore implement it.
func ExampleAtomicAdder() {
	store := logto.NewMemoryStore()
	adder, ok := store.(logto.AtomicAdder)
	first, _ := adder.AddIfAbsent(context.Background(), "state:abc", []byte{1}, time.Minute)
	second, _ := adder.AddIfAbsent(context.Background(), "state:abc", []byte{1}, time.Minute)
	fmt.Println(ok, first, second)
	// Output: true true false
}

func ExampleClient_RequireAuthWith() {
	var later atomic.Int64 // the test's clock, two hours ahead once set
	clock := func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	client, _, stop := exampleSetupWith(func(o *logtotest.Options, c *logto.Config) { o.Now, c.Now = clock, clock })
	defer stop()

	// A signed-in page that stays signed in past the ID token's one-hour
	// life: the ID token is renewed with the refresh token, instead of a
	// redirect to sign-in.
	page := client.RequireAuthWith(logto.WithIDTokenRenewal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "signed in:", logto.FromContext(r.Context()).IsAuthenticated)
	}))
	cookies := signInExample(client)
	later.Store(int64(2 * time.Hour))
	w := httptest.NewRecorder()
	r := requestWithCookies("GET", "https://app.example.com/account", cookies)
	r.Header.Set("Accept", "text/html")
	page.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 200 signed in: true
}

// ExampleClient_RequireAuthJSON protects an API route: a signed-out browser
// navigating to it gets the JSON 401, not a redirect to sign-in.
func ExampleClient_RequireAuthJSON() {
	client, _, stop := exampleSetup()
	defer stop()

	api := client.RequireAuthJSON()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"items":[]}`)
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "https://app.example.com/api/items", nil)
	r.Header.Set("Accept", "text/html") // even a page navigation
	api.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 401 {"error":"not_authenticated","error_description":"sign in required"}
}

// ExampleWriteJSONError answers an app's own API error with the SDK's JSON
// error shape.
func ExampleWriteJSONError() {
	w := httptest.NewRecorder()
	logto.WriteJSONError(w, http.StatusForbidden, "insufficient_scope", "the token lacks read:items")
	fmt.Print(w.Code, " ", w.Header().Get("Content-Type"), " ", w.Body.String())
	// Output:
	// 403 application/json {"error":"insufficient_scope","error_description":"the token lacks read:items"}
}

// ExampleClient_RequireAuth protects a page: a signed-out browser is sent
// to sign-in and comes back to the page afterwards; a signed-in one sees it.
func ExampleClient_RequireAuth() {
	client, _, stop := exampleSetup()
	defer stop()

	account := client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "Hello,", logto.FromContext(r.Context()).Claims.DisplayName())
	}))
	page := func(r *http.Request) *http.Request { r.Header.Set("Accept", "text/html"); return r }

	w := httptest.NewRecorder()
	account.ServeHTTP(w, page(httptest.NewRequest("GET", "https://app.example.com/account", nil)))
	fmt.Println(w.Code, w.Header().Get("Location"))

	w = httptest.NewRecorder()
	account.ServeHTTP(w, page(requestWithCookies("GET", "https://app.example.com/account", signInExample(client))))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 303 /sign-in?returnTo=%2Faccount
	// 200 Hello, Probe User
}

// ExampleNewContext puts a Context in a request's context, for a test of a
// handler that reads FromContext, without signing in.
func ExampleNewContext() {
	r := httptest.NewRequest("GET", "/", nil)
	lc := logto.Context{IsAuthenticated: true, Claims: logto.IDTokenClaims{Sub: "u1", Name: "Ada"}}
	r = r.WithContext(logto.NewContext(r.Context(), lc))
	fmt.Println(logto.FromContext(r.Context()).Claims.DisplayName())
	// Output: Ada
}
