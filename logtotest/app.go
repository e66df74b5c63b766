package logtotest

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
)

// AppServer is a test server for the app under test, registered with a
// provider before it starts. An app's logto.Config needs the app's own URL
// (BaseURL) before its handler exists, and the provider must allow the
// redirect URIs derived from that URL; so NewAppServer reserves the port,
// registers the app, and leaves starting to [AppServer.Start]:
//
//	op := logtotest.NewServer(t)
//	app := op.NewAppServer(t) // registered, not started
//	client, err := logto.New(logto.Config{
//		AppID: app.ID, AppSecret: app.Secret, Endpoint: op.URL(), BaseURL: app.URL,
//		CookieSecret: "a-random-secret-of-at-least-32-characters",
//	})
//	if err != nil {
//		t.Fatal(err)
//	}
//	app.Start(yourHandler(client)) // the handler under test, built with client
//
// Then drive it with a [Browser].
type AppServer struct {
	// App is the registration: a Traditional app with a random ID and
	// secret, the redirect URI URL+"/callback" and the post-logout redirect
	// URI URL+"/", the SDK's defaults for BaseURL URL. To allow other URIs,
	// change it and register it again with [Provider.AddApp].
	App
	// URL is the app's base URL, http://127.0.0.1:<port>, known before
	// Start: use it as the BaseURL of the app's logto.Config.
	URL string
	// HTTP is the underlying server, unstarted until Start.
	HTTP *httptest.Server
}

// NewAppServer reserves a port on 127.0.0.1 for an app under test and
// registers the app with p (see [AppServer]). The server starts with
// [AppServer.Start] and is closed when the test ends (with a t that has no
// Cleanup method, call [AppServer.Close]).
func (p *Provider) NewAppServer(t TestingT) *AppServer {
	if h, ok := t.(testHelper); ok {
		h.Helper()
	}
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	a := &AppServer{
		App: App{
			ID:                     randomString(21, lowerAlnum),
			Secret:                 randomString(32, alnum),
			Name:                   "logtotest app " + base,
			RedirectURIs:           []string{base + "/callback"},
			PostLogoutRedirectURIs: []string{base + "/"},
		},
		URL:  base,
		HTTP: hs,
	}
	p.AddApp(a.App)
	cleanup(t, hs.Close)
	return a
}

// Start serves h at URL. It panics if the server was already started, like
// [httptest.Server.Start].
func (a *AppServer) Start(h http.Handler) {
	a.HTTP.Config.Handler = h
	a.HTTP.Start()
}

// Close shuts the server down; it may be called more than once, and before
// Start.
func (a *AppServer) Close() { a.HTTP.Close() }

const (
	lowerAlnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	alnum      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// randomString returns n characters of alphabet from crypto/rand, the shape
// of Logto's application IDs and secrets.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // slight bias is fine for test IDs
	}
	return string(b)
}
