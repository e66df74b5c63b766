package logtotest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestUserAppJourney is Example_testYourApp as a user's test: the same
// calls, with the test's t. It also checks where sign-out lands and that
// the provider session is over.
func TestUserAppJourney(t *testing.T) {
	t.Parallel()
	op := logtotest.NewServer(t)
	app := op.NewAppServer(t)
	client, err := logto.New(logto.Config{AppID: app.ID, AppSecret: app.Secret, Endpoint: op.URL(),
		BaseURL: app.URL, CookieSecret: "a-random-secret-of-at-least-32-characters"})
	if err != nil {
		t.Fatal(err)
	}
	app.Start(yourApp(client))

	b := logtotest.NewBrowser(t)
	b.SignIn(app.URL)
	if got, want := b.Get(app.URL+"/account").Body, "Hello, "+logtotest.DefaultUserID; got != want {
		t.Errorf("/account: got %q, want %q", got, want)
	}
	var me struct{ Sub string }
	if r := b.GetJSON(app.URL+"/api/me", &me); r.StatusCode != http.StatusOK || me.Sub != logtotest.DefaultUserID {
		t.Errorf("/api/me: got %d %q, want 200 %q", r.StatusCode, me.Sub, logtotest.DefaultUserID)
	}
	if !silentSignIn(t, b, op, app) {
		t.Fatal("before sign-out: prompt=none got no code; the provider session should be live")
	}

	end := b.SignOut(app.URL)
	// Exactly the post-logout URI: the SDK sends no state, so none comes back.
	if got, want := end.URL.String(), app.PostLogoutRedirectURIs[0]; got != want || end.StatusCode != http.StatusOK {
		t.Errorf("after sign-out: got %d at %s, want 200 at the post-logout URI %s with no query", end.StatusCode, got, want)
	}
	if r := b.Get(app.URL + "/account"); r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Location(), "/sign-in") {
		t.Errorf("/account after sign-out: got %d to %q, want 303 to sign-in", r.StatusCode, r.Location())
	}
	if r := b.GetJSON(app.URL+"/api/me", nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me after sign-out: got %d, want 401", r.StatusCode)
	}

	// The provider session is over: its cookie is gone, and a sign-in that
	// must be silent (prompt=none) is refused.
	for _, c := range b.Client.Jar.Cookies(mustURL(t, op.URL())) {
		if c.Name == "_session" {
			t.Errorf("provider session cookie still in the jar")
		}
	}
	if silentSignIn(t, b, op, app) {
		t.Error("after sign-out: prompt=none got a code; the provider session lives on")
	}

	// The next sign-in starts a new provider session and works.
	op.ResetRequests()
	b.SignIn(app.URL)
	if got := b.Get(app.URL + "/account").Body; got != "Hello, "+logtotest.DefaultUserID {
		t.Errorf("second sign-in: /account got %q", got)
	}
	for _, r := range op.Requests() {
		if r.Path == "/oidc/auth" && strings.Contains(r.Header.Get("Cookie"), "_session=") {
			t.Errorf("second sign-in: /oidc/auth carried a provider session cookie: %s", r.Header.Get("Cookie"))
		}
	}
}

// silentSignIn asks the provider for a code with prompt=none, as an app's
// silent sign-in would, and reports whether it got one (login_required
// otherwise).
func silentSignIn(t *testing.T, b *logtotest.Browser, op *logtotest.Server, app *logtotest.AppServer) bool {
	t.Helper()
	r := b.Get(op.Issuer() + "/auth?" + url.Values{
		"client_id": {app.ID}, "redirect_uri": {app.RedirectURIs[0]}, "response_type": {"code"},
		"scope": {"openid"}, "prompt": {"none"}, "state": {"silent"},
	}.Encode())
	if !r.IsRedirect() {
		t.Fatalf("prompt=none: got %d, want a redirect: %s", r.StatusCode, r.Body)
	}
	q := mustURL(t, r.Location()).Query()
	if q.Get("code") == "" && q.Get("error") != "login_required" {
		t.Fatalf("prompt=none: got %s, want a code or login_required", r.Location())
	}
	return q.Get("code") != ""
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newApp starts yourApp for op, as the Example does.
func newApp(t *testing.T, op *logtotest.Server) *logtotest.AppServer {
	t.Helper()
	app := op.NewAppServer(t)
	client, err := logto.New(logto.Config{AppID: app.ID, AppSecret: app.Secret, Endpoint: op.URL(),
		BaseURL: app.URL, CookieSecret: "a-random-secret-of-at-least-32-characters"})
	if err != nil {
		t.Fatal(err)
	}
	app.Start(yourApp(client))
	return app
}

func TestNewAppServerRegistration(t *testing.T) {
	t.Parallel()
	op := logtotest.NewServer(t)
	a, b := op.NewAppServer(t), op.NewAppServer(t)
	if a.ID == b.ID || a.Secret == b.Secret || a.URL == b.URL {
		t.Errorf("two apps share an ID, secret or URL: %+v %+v", a.App, b.App)
	}
	if len(a.ID) != 21 || len(a.Secret) != 32 || a.Public {
		t.Errorf("app %+v: want a Traditional app with a 21-character ID and a 32-character secret", a.App)
	}
	if got, want := a.RedirectURIs, []string{a.URL + "/callback"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("RedirectURIs: got %v, want %v", got, want)
	}
	if got, want := a.PostLogoutRedirectURIs, []string{a.URL + "/"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PostLogoutRedirectURIs: got %v, want %v", got, want)
	}
	if !strings.HasPrefix(a.URL, "http://127.0.0.1:") || a.HTTP.URL != "" {
		t.Errorf("URL %q, HTTP.URL %q: want a reserved 127.0.0.1 port, not started", a.URL, a.HTTP.URL)
	}
	b.Close() // before Start, and again at cleanup
	b.Close()
}

// TestSignInAsUser chooses the user per browser, concurrently.
func TestSignInAsUser(t *testing.T) {
	t.Parallel()
	second := logtotest.User{ID: "seconduser01", Username: "second"}
	op := logtotest.NewServer(t, logtotest.WithUsers(logtotest.DefaultUser(), second))
	app := newApp(t, op)
	for _, id := range []string{second.ID, logtotest.DefaultUserID, ""} {
		t.Run("user="+id, func(t *testing.T) {
			t.Parallel()
			b := logtotest.NewBrowser(t)
			var opts []logtotest.SignInOption
			want := logtotest.DefaultUserID // the first user
			if id != "" {
				opts, want = append(opts, logtotest.AsUser(id)), id
			}
			b.SignIn(app.URL, opts...)
			if got := b.Get(app.URL + "/account").Body; got != "Hello, "+want {
				t.Errorf("got %q, want Hello, %s", got, want)
			}
		})
	}
}

// fakeT records Fatalf and returns, so that the helpers' own failure paths
// can be tested; the Browser then ends the goroutine itself.
type fakeT struct{ msg string }

func (f *fakeT) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

// fails runs f in a goroutine of its own, as a test body, and returns the
// Fatalf message ("" when f returned normally) and f's response.
func fails(f func(b *logtotest.Browser) *logtotest.Response) (string, *logtotest.Response) {
	ft := &fakeT{}
	var r *logtotest.Response
	done := make(chan struct{})
	go func() {
		defer close(done)
		r = f(logtotest.NewBrowser(ft))
	}()
	<-done
	return ft.msg, r
}

func TestBrowserFailures(t *testing.T) {
	t.Parallel()
	op := logtotest.NewServer(t)
	app := newApp(t, op)
	plain := op.NewAppServer(t)
	plain.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "no sign-in here") }))

	for _, tc := range []struct {
		name string
		run  func(b *logtotest.Browser) *logtotest.Response
		want string
	}{
		{"unknown user", func(b *logtotest.Browser) *logtotest.Response {
			return b.SignIn(app.URL, logtotest.AsUser("nobody"))
		}, "sign-in ended at"},
		{"app without sign-in", func(b *logtotest.Browser) *logtotest.Response { return b.SignIn(plain.URL) }, "did not redirect to the provider"},
		{"sign-out of an app without sign-out", func(b *logtotest.Browser) *logtotest.Response { return b.SignOut(plain.URL) }, "not a redirect"},
		{"relative app URL", func(b *logtotest.Browser) *logtotest.Response { return b.SignIn("/app") }, "not an absolute URL"},
		{"unreachable", func(b *logtotest.Browser) *logtotest.Response {
			return b.Get("http://127.0.0.1:1/")
		}, "GET http://127.0.0.1:1/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, r := fails(tc.run)
			if r != nil || !strings.Contains(msg, tc.want) {
				t.Errorf("got response %v, Fatalf %q; want no response and a message containing %q", r, msg, tc.want)
			}
		})
	}
}

// pageExperience sends interactive sign-ins to /login (which logtotest
// answers 404: the fill below never needs the page itself).
type pageExperience struct{}

func (pageExperience) Location(in logtotest.Interaction) string { return "/login?uid=" + in.UID }

func TestSignInInteractive(t *testing.T) {
	t.Parallel()
	op := logtotest.NewServer(t)
	op.SetExperience(pageExperience{})
	app := newApp(t, op)

	msg, r := fails(func(b *logtotest.Browser) *logtotest.Response {
		return b.SignIn(app.URL, logtotest.AsUser(logtotest.DefaultUserID))
	})
	if r != nil || !strings.Contains(msg, "pass Interactive") {
		t.Errorf("without Interactive: got %v, Fatalf %q; want a failure naming Interactive (AsUser must not skip the experience)", r, msg)
	}

	b := logtotest.NewBrowser(t)
	pages := 0
	fill := logtotest.Interactive(func(b *logtotest.Browser, page *logtotest.Response) (*logtotest.Response, error) {
		pages++
		next, err := op.CompleteInteraction(page.URL.Query().Get("uid"), logtotest.DefaultUserID)
		if err != nil {
			return nil, err
		}
		return b.Get(next), nil
	})
	b.SignIn(app.URL, fill)
	if got := b.Get(app.URL + "/account").Body; got != "Hello, "+logtotest.DefaultUserID || pages != 1 {
		t.Errorf("got %q after %d pages, want Hello, %s after 1", got, pages, logtotest.DefaultUserID)
	}
	b.SignIn(app.URL, fill) // single sign-on: no page
	b.SignOut(app.URL)
	b.SignIn(app.URL, fill) // the provider session is over: the page again
	if pages != 2 {
		t.Errorf("%d pages, want 2 (none for single sign-on, one after sign-out)", pages)
	}

	failing := logtotest.Interactive(func(*logtotest.Browser, *logtotest.Response) (*logtotest.Response, error) {
		return nil, fmt.Errorf("no such form")
	})
	if msg, r := fails(func(b *logtotest.Browser) *logtotest.Response { return b.SignIn(app.URL, failing) }); r != nil || !strings.Contains(msg, "no such form") {
		t.Errorf("failing fill: got %v, Fatalf %q", r, msg)
	}
	stuck := logtotest.Interactive(func(b *logtotest.Browser, page *logtotest.Response) (*logtotest.Response, error) {
		return b.Get(page.URL.String()), nil
	})
	if msg, r := fails(func(b *logtotest.Browser) *logtotest.Response { return b.SignIn(app.URL, stuck) }); r != nil || !strings.Contains(msg, "after 5 forms") {
		t.Errorf("stuck fill: got %v, Fatalf %q", r, msg)
	}
}

func TestResponseForms(t *testing.T) {
	t.Parallel()
	page := &logtotest.Response{URL: mustURL(t, "http://op.example/dir/page?x=1"), Body: `<!DOCTYPE html>
<form id="a" method="post" action="/submit"><input type="hidden" name="csrf" value="t&amp;k"/>
<input type=text name=who value='me'><input type="checkbox" name="c1"><input type="checkbox" name="c2" checked>
<input type="submit" name="go" value="Go"><input name="off" value="x" disabled></form>
<input type="hidden" form="a" value="yes" name="logout" />
<FORM action="next"><input name="q"></FORM>
<form method="dialog"></form>`}
	forms := page.Forms()
	if len(forms) != 3 {
		t.Fatalf("got %d forms, want 3", len(forms))
	}
	for i, want := range []struct{ id, method, action, values string }{
		{"a", "POST", "http://op.example/submit", "c2=on&csrf=t%26k&logout=yes&who=me"},
		{"", "GET", "http://op.example/dir/next", "q="},
		{"", "GET", "http://op.example/dir/page?x=1", ""},
	} {
		f := forms[i]
		if f.ID != want.id || f.Method != want.method || f.Action != want.action || f.Values.Encode() != want.values {
			t.Errorf("form %d: got %q %s %s %s, want %q %s %s %s", i, f.ID, f.Method, f.Action, f.Values.Encode(),
				want.id, want.method, want.action, want.values)
		}
	}
}
