package logtotest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// yourApp stands for the app under test: the SDK's sign-in, callback and
// sign-out routes, a home page, a page and a JSON API that need a signed-in
// user.
func yourApp(client *logto.Client) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", client.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "Home") })
	mux.Handle("GET /account", client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s", logto.FromContext(r.Context()).Claims.Sub)
	})))
	mux.Handle("GET /api/me", client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": logto.FromContext(r.Context()).Claims.Sub})
	})))
	return mux
}

// Test your own http.Handler end to end: a provider, the app registered for
// its test server's URL, and a browser that signs in, reads a page, calls
// the API and signs out through the provider's end-session form. In a test,
// t is the *testing.T and the deferred Closes are optional (t.Cleanup does
// them).
func Example_testYourApp() {
	t := log.Default() // in a test: the *testing.T
	op := logtotest.NewServer(t)
	defer op.Close()
	app := op.NewAppServer(t)
	defer app.Close()
	client, err := logto.New(logto.Config{AppID: app.ID, AppSecret: app.Secret, Endpoint: op.URL(),
		BaseURL: app.URL, CookieSecret: "a-random-secret-of-at-least-32-characters"})
	if err != nil {
		t.Fatal(err)
	}
	app.Start(yourApp(client))

	b := logtotest.NewBrowser(t)
	fmt.Println(b.SignIn(app.URL).Body)
	fmt.Println(b.Get(app.URL + "/account").Body)
	var me struct{ Sub string }
	fmt.Println(b.GetJSON(app.URL+"/api/me", &me).StatusCode, me.Sub)
	end := b.SignOut(app.URL)
	fmt.Println(end.URL.Path, end.Body)
	fmt.Println(b.Get(app.URL+"/account").StatusCode, b.GetJSON(app.URL+"/api/me", nil).StatusCode)
	// Output:
	// Home
	// Hello, defaultuser1
	// 200 defaultuser1
	// / Home
	// 303 401
}
