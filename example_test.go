package logto_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

func ExampleNew() {
	client, err := logto.New(logto.Config{
		AppID:        "my-app-id",
		AppSecret:    "my-app-secret",
		Endpoint:     "https://my-tenant.logto.app",
		BaseURL:      "https://app.example.com",
		CookieSecret: "a-random-secret-of-at-least-32-characters",
		Scopes:       []string{logto.UserScopeEmail, logto.UserScopeOrganizations},
		Resources:    []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scopes:   ", client.Scopes())
	fmt.Println("resources:", client.Resources())
	fmt.Println("redirect: ", client.RedirectURI())
	fmt.Println("sign-out: ", client.PostLogoutRedirectURI())

	_, err = logto.New(logto.Config{AppID: "my-app-id", AppSecret: "s", Endpoint: "http://logto.example.com",
		BaseURL: "https://app.example.com", CookieSecret: "a-random-secret-of-at-least-32-characters"})
	fmt.Println(err)
	// Output:
	// scopes:    [openid offline_access profile email urn:logto:scope:organizations]
	// resources: [https://api.example.com urn:logto:resource:organizations]
	// redirect:  https://app.example.com/callback
	// sign-out:  https://app.example.com/
	// logto: invalid config: Endpoint: http:// is allowed only for loopback hosts; use https:// (or set InsecureAllowHTTPEndpoint for a closed test network)
}

// exampleSetup starts an in-process Logto-compatible provider and returns a
// Client registered with it, plus a stop function.
func exampleSetup() (*logto.Client, *logtotest.Provider, func()) {
	return exampleSetupWith(nil)
}

// exampleSetupWith lets an example add to the provider and client config.
func exampleSetupWith(edit func(*logtotest.Options, *logto.Config)) (*logto.Client, *logtotest.Provider, func()) {
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String()
	app := logtotest.DefaultApp()
	app.RedirectURIs = []string{"https://app.example.com/callback"}
	app.PostLogoutRedirectURIs = []string{"https://app.example.com/"}
	opts := logtotest.Options{URL: endpoint, Apps: []logtotest.App{app}, Users: []logtotest.User{logtotest.DefaultUser()}}
	cfg := logto.Config{
		AppID:        app.ID,
		AppSecret:    app.Secret,
		Endpoint:     endpoint,
		BaseURL:      "https://app.example.com",
		CookieSecret: "a-random-secret-of-at-least-32-characters",
	}
	if edit != nil {
		edit(&opts, &cfg)
	}
	op, err := logtotest.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	srv.Config.Handler = op
	srv.Start()
	client, err := logto.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return client, op, srv.Close
}

// walkProvider follows the provider's redirects from authURL back to the app
// and returns the callback URL, as a browser would.
func walkProvider(authURL string) string {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next, _ := url.Parse(authURL)
	for !strings.HasPrefix(next.String(), "https://app.example.com/") {
		resp, err := hc.Get(next.String())
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		if next, err = resp.Location(); err != nil {
			log.Fatal(err)
		}
	}
	return next.String()
}

// requestWithCookies builds a request carrying the cookies a response set.
func requestWithCookies(method, target string, from *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, ck := range from.Result().Cookies() {
		if ck.MaxAge >= 0 {
			r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	return r
}

// signInExample runs SignIn and HandleSignIn and returns the callback response.
func signInExample(client *logto.Client) *httptest.ResponseRecorder {
	start := httptest.NewRecorder()
	if err := client.SignIn(start, httptest.NewRequest("GET", "https://app.example.com/sign-in", nil), &logto.SignInOptions{ReturnTo: "/dashboard"}); err != nil {
		log.Fatal(err)
	}
	callback := walkProvider(start.Header().Get("Location"))
	done := httptest.NewRecorder()
	if err := client.HandleSignIn(done, requestWithCookies("GET", callback, start)); err != nil {
		log.Fatal(err)
	}
	return done
}

func ExampleClient_SignIn() {
	client, _, stop := exampleSetup()
	defer stop()

	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "https://app.example.com/sign-in", nil)
	err := client.SignIn(w, r, &logto.SignInOptions{
		ReturnTo:    "/dashboard",
		FirstScreen: logto.FirstScreenIdentifierSignIn,
		Identifiers: []string{"phone"},
	})
	if err != nil {
		log.Fatal(err)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, loc.Path)
	var names []string
	for _, kv := range strings.Split(loc.RawQuery, "&") {
		names = append(names, strings.SplitN(kv, "=", 2)[0])
	}
	fmt.Println(strings.Join(names, " "))
	fmt.Println(loc.Query().Get("scope"))
	// Output:
	// 302 /oidc/auth
	// client_id redirect_uri code_challenge code_challenge_method state nonce response_type prompt scope first_screen identifier
	// openid offline_access profile
}

func ExampleClient_HandleSignIn() {
	client, _, stop := exampleSetup()
	defer stop()

	w := signInExample(client) // SignIn, Logto, then HandleSignIn on the callback
	fmt.Println(w.Code, w.Header().Get("Location"))
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "__Host-logto_"+logtotest.DefaultAppID { // https BaseURL: __Host- names
			fmt.Println("session cookie set, HttpOnly:", ck.HttpOnly)
		}
	}
	// Output:
	// 303 /dashboard
	// session cookie set, HttpOnly: true
}

func ExampleClient_GetContext() {
	client, _, stop := exampleSetup()
	defer stop()
	signedIn := signInExample(client)

	r := requestWithCookies("GET", "https://app.example.com/", signedIn)
	lc, err := client.GetContext(nil, r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lc.IsAuthenticated, lc.Claims.Sub == logtotest.DefaultUserID, lc.Scopes)

	anonymous, _ := client.GetContext(nil, httptest.NewRequest("GET", "https://app.example.com/", nil))
	fmt.Println(anonymous.IsAuthenticated)
	// Output:
	// true true [openid offline_access profile]
	// false
}

func ExampleClient_SignOut() {
	client, _, stop := exampleSetup()
	defer stop()
	signedIn := signInExample(client)

	r := requestWithCookies("POST", "https://app.example.com/sign-out", signedIn)
	r.Header.Set("Origin", "https://app.example.com")
	w := httptest.NewRecorder()
	if err := client.SignOut(w, r); err != nil {
		log.Fatal(err)
	}
	end, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, end.Path, end.Query().Get("post_logout_redirect_uri"))
	for _, ck := range w.Result().Cookies() {
		fmt.Println("cleared:", ck.Name, ck.MaxAge < 0)
	}

	get := httptest.NewRecorder()
	fmt.Println(client.SignOut(get, httptest.NewRequest("GET", "https://app.example.com/sign-out", nil)))
	// Output:
	// 303 /oidc/session/end https://app.example.com/
	// cleared: __Host-logto_logtotestdefaultapp01 true
	// logto: method not allowed
}

func ExampleClient_Handler() {
	client, _, stop := exampleSetup()
	defer stop()

	mux := http.NewServeMux()
	mux.Handle("/", client.Handler()) // /sign-in, /callback, /sign-out
	mux.Handle("GET /api/me", client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", logto.FromContext(r.Context()).Claims.Sub)
	})))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example.com/api/me", nil))
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// 401 {"error":"not_authenticated","error_description":"sign in required"}
}
