package logtodev_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// devApp is a dev provider on a real port, an SDK app registered with it,
// and the SMS console.
type devApp struct {
	srv     *logtodev.Server
	console *sms.Console
	app     *logtotest.AppServer
}

func newDevApp(t *testing.T) devApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	console := sms.NewConsole(io.Discard)
	srv, err := logtodev.New(logtodev.Options{
		Provider: logtotest.Options{URL: "http://" + ts.Listener.Addr().String()},
		SMS:      console,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)

	app := srv.Provider.NewAppServer(t)
	client, err := logto.New(logto.Config{AppID: app.ID, AppSecret: app.Secret, Endpoint: srv.Provider.URL(),
		BaseURL: app.URL, CookieSecret: "a-random-secret-of-at-least-32-characters"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", client.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "Home") })
	mux.Handle("GET /account", client.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s", logto.FromContext(r.Context()).Claims.Sub)
	})))
	app.Start(mux)
	return devApp{srv: srv, console: console, app: app}
}

// TestBrowserAgainstDevProvider signs in with a password and with a phone
// code through the pages, and signs out through the end-session form, after
// which the pages are shown again.
func TestBrowserAgainstDevProvider(t *testing.T) {
	t.Parallel()
	d := newDevApp(t)
	b := logtotest.NewBrowser(t)

	b.SignIn(d.app.URL, logtodev.PasswordSignIn("probeuser", "Passw0rd!probe"))
	if got, want := b.Get(d.app.URL+"/account").Body, "Hello, "+logtotest.DefaultUserID; got != want {
		t.Errorf("password: got %q, want %q", got, want)
	}
	if end := b.SignOut(d.app.URL); end.URL.Path != "/" || end.Body != "Home" {
		t.Errorf("sign-out landed on %s: %q", end.URL, end.Body)
	}

	// The provider session is over: the pages again, now by phone.
	b.SignIn(d.app.URL, logtodev.PhoneSignIn("+1 555 123 4567", d.console.LastCode))
	if got, want := b.Get(d.app.URL+"/account").Body, "Hello, "+logtotest.DefaultUserID; got != want {
		t.Errorf("phone: got %q, want %q", got, want)
	}
	b.SignOut(d.app.URL)

	// An unknown number registers a new user.
	b.SignIn(d.app.URL, logtodev.PhoneSignIn("13102050000", d.console.LastCode))
	u, ok := d.srv.Provider.FindUserByPhone("13102050000")
	if got := b.Get(d.app.URL + "/account").Body; !ok || got != "Hello, "+u.ID {
		t.Errorf("registration: got %q, user %+v %v", got, u, ok)
	}
}

// fakeT records Fatalf and returns; the Browser then ends the goroutine.
type fakeT struct{ msg string }

func (f *fakeT) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestBrowserDevProviderFailures(t *testing.T) {
	t.Parallel()
	d := newDevApp(t)
	for _, tc := range []struct {
		name string
		opt  logtotest.SignInOption
		want string
	}{
		{"no option", nil, "pass Interactive"},
		{"wrong password", logtodev.PasswordSignIn("probeuser", "wrong"), "The username or password is incorrect."},
		{"no code", logtodev.PhoneSignIn("15551234567", func(string) (string, bool) { return "", false }), "no code was sent to 15551234567"},
		{"wrong code", logtodev.PhoneSignIn("15551234567", func(string) (string, bool) { return "x", true }), "The code is incorrect."},
		{"bad number", logtodev.PhoneSignIn("12", d.console.LastCode), "Enter a valid phone number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := &fakeT{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				var opts []logtotest.SignInOption
				if tc.opt != nil {
					opts = append(opts, tc.opt)
				}
				logtotest.NewBrowser(ft).SignIn(d.app.URL, opts...)
			}()
			<-done
			if !strings.Contains(ft.msg, tc.want) {
				t.Errorf("Fatalf %q, want it to contain %q", ft.msg, tc.want)
			}
		})
	}
}
