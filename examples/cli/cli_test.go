package main

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// syncBuffer is the CLI's stdout, read by the test while the CLI writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls out until re matches (5 s at most) and returns the match.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q in the output:\n%s", re, out)
	return nil
}

var (
	openRE  = regexp.MustCompile(`To sign in, open this link in a browser:\n  (\S+)\nor open \S+ and enter the code (\S+)\.\n`)
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	smsRE   = regexp.MustCompile(`(?m)^SMS to (\d+): .*?\b(\d{6})\b`)
	helloRE = regexp.MustCompile(`(?m)^Hello, (\S+)$`)
)

// quickSleep polls every 10 ms instead of every 5 s.
func quickSleep(ctx context.Context, _ time.Duration) error {
	select {
	case <-time.After(10 * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// person is the user at a browser: a cookie jar, redirects followed by
// hand.
type person struct {
	t *testing.T
	c *http.Client
}

func newPerson(t *testing.T) *person {
	jar, _ := cookiejar.New(nil)
	return &person{t: t, c: &http.Client{Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a GET (form nil) or a form POST and follows redirects; it
// returns the final page.
func (p *person) do(u string, form url.Values) (int, string) {
	p.t.Helper()
	var resp *http.Response
	var err error
	for range 10 {
		if form == nil {
			resp, err = p.c.Get(u)
		} else {
			resp, err = p.c.PostForm(u, form)
		}
		if err != nil {
			p.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			return resp.StatusCode, string(b)
		}
		loc, err := resp.Location()
		if err != nil {
			p.t.Fatal(err)
		}
		u, form = loc.String(), nil
	}
	p.t.Fatalf("too many redirects from %s", u)
	return 0, ""
}

func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// approveWithPassword opens the link the CLI printed and signs in on
// logtodev's pages with the demo user's username and password.
func approveWithPassword(t *testing.T, link, providerURL string) {
	t.Helper()
	p := newPerson(t)
	status, page := p.do(link, nil)
	if status != 200 || !strings.Contains(page, "password") {
		t.Fatalf("sign-in page: %d\n%s", status, page)
	}
	status, page = p.do(providerURL+"/experience/password", url.Values{"csrf": {csrf(t, page)}, "identifier": {"probeuser"}, "password": {"Passw0rd!probe"}})
	if status != 200 || !strings.Contains(page, "Sign-in Success") {
		t.Fatalf("after signing in: %d\n%s", status, page)
	}
}

type cliRun struct {
	out  *syncBuffer
	done chan error
}

func startCLI(t *testing.T, env map[string]string, o runOptions, args ...string) *cliRun {
	t.Helper()
	r := &cliRun{out: &syncBuffer{}, done: make(chan error, 1)}
	if o.sleep == nil {
		o.sleep = quickSleep
	}
	o.stderr = io.Discard
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	go func() {
		defer cancel()
		r.done <- runWith(ctx, args, func(k string) string { return env[k] }, r.out, o)
	}()
	return r
}

func (r *cliRun) wait(t *testing.T) string {
	t.Helper()
	if err := <-r.done; err != nil {
		t.Fatalf("cli: %v\n%s", err, r.out)
	}
	return r.out.String()
}

// TestCLIWithLogto: the CLI against a Logto (here logtodev served by the
// test) and the demo API. The first run prints the code and the link, the
// person signs in on the provider's pages, and the CLI greets the user and
// shows the API's answer; its token file has mode 0600. The second run
// reuses the file: no device authorization, a refresh for a new API token
// (the rotated refresh token saved again). sign-out deletes the file.
func TestCLIWithLogto(t *testing.T) {
	t.Parallel()
	apiSrv := httptest.NewUnstartedServer(nil)
	apiURL := "http://" + apiSrv.Listener.Addr().String()
	user := logtotest.DefaultUser()
	user.Roles = []string{demoRole}
	dev := httptest.NewUnstartedServer(nil)
	devURL := "http://" + dev.Listener.Addr().String()
	now := time.Now()
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	d, err := logtodev.New(logtodev.Options{
		Provider: logtotest.Options{URL: devURL, Apps: []logtotest.App{logtotest.DefaultDeviceApp()}, Users: []logtotest.User{user},
			Resources: []logtotest.Resource{{Indicator: apiURL, Scopes: []string{messages.ScopeRead}}},
			Roles:     []logtotest.Role{{Name: demoRole, Scopes: map[string][]string{apiURL: {messages.ScopeRead}}}},
			Now:       clock},
		SMS: sms.NewConsole(io.Discard),
	})
	if err != nil {
		t.Fatal(err)
	}
	dev.Config.Handler = d
	dev.Start()
	t.Cleanup(dev.Close)
	api, err := messages.New(messages.Config{Endpoint: devURL, Audience: apiURL, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	apiSrv.Config.Handler = api
	apiSrv.Start()
	t.Cleanup(apiSrv.Close)

	tokens := filepath.Join(t.TempDir(), "config", "session")
	env := map[string]string{
		"LOGTO_ENDPOINT": devURL, "LOGTO_APP_ID": logtotest.DefaultDeviceAppID, "API_RESOURCE": apiURL,
		"LOGTO_CLI_KEY": "a-cli-key-of-at-least-32-characters!", "LOGTO_CLI_TOKENS": tokens,
	}
	r := startCLI(t, env, runOptions{})
	m := waitFor(t, r.out, openRE)
	if !strings.HasPrefix(m[1], devURL+"/oidc/device?user_code=") || !strings.HasSuffix(m[1], m[2]) {
		t.Fatalf("link %q, code %q", m[1], m[2])
	}
	approveWithPassword(t, m[1], devURL)
	out := r.wait(t)
	if h := helloRE.FindStringSubmatch(out); h == nil || h[1] != logtotest.DefaultUserID || !strings.Contains(out, "/api/messages: 200 OK") {
		t.Fatalf("first run:\n%s", out)
	}
	fi, err := os.Stat(tokens)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", fi, err)
	}
	first, _ := os.ReadFile(tokens)

	// An hour later the API token has expired: the second run refreshes.
	clockMu.Lock()
	now = now.Add(time.Hour)
	clockMu.Unlock()
	d.Provider.ResetRequests()
	out = startCLI(t, env, runOptions{now: clock}).wait(t)
	if strings.Contains(out, "To sign in") || !strings.Contains(out, "Hello, "+logtotest.DefaultUserID) || !strings.Contains(out, "/api/messages: 200 OK") {
		t.Fatalf("second run:\n%s", out)
	}
	if n, rt := d.Provider.CountRequests("/oidc/device/auth"), d.Provider.CountRequests("/oidc/token"); n != 0 || rt != 1 {
		t.Fatalf("second run: %d device authorizations, %d token requests; want 0 and 1", n, rt)
	}
	if second, _ := os.ReadFile(tokens); string(second) == string(first) {
		t.Fatal("the rotated refresh token was not saved")
	}

	out = startCLI(t, env, runOptions{}, "sign-out").wait(t)
	if _, err := os.Stat(tokens); !os.IsNotExist(err) || !strings.Contains(out, "Signed out") {
		t.Fatalf("sign-out: %v\n%s", err, out)
	}
}

// TestCLIDemo: without LOGTO_ENDPOINT the CLI runs the dev provider and the
// demo API itself; the person signs in with the demo phone number and the
// code the console connector prints.
func TestCLIDemo(t *testing.T) {
	t.Parallel()
	var ls [2]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i] = l
	}
	providerURL, apiURL := "http://"+ls[0].Addr().String(), "http://"+ls[1].Addr().String()
	env := map[string]string{"API_RESOURCE": apiURL, "LOGTO_CLI_TOKENS": filepath.Join(t.TempDir(), "session")}
	r := startCLI(t, env, runOptions{providerURL: providerURL, providerListener: ls[0], apiListener: ls[1]})
	m := waitFor(t, r.out, openRE)
	if !strings.Contains(r.out.String(), "LOGTO_CLI_KEY is not set") {
		t.Fatalf("no note about the random key:\n%s", r.out)
	}

	p := newPerson(t)
	status, page := p.do(m[1], nil)
	if status != 200 {
		t.Fatalf("sign-in page: %d\n%s", status, page)
	}
	status, page = p.do(providerURL+"/experience/verification-code", url.Values{"csrf": {csrf(t, page)}, "phone": {"+1 555 123 4567"}, "mode": {"sign-in"}})
	if status != 200 {
		t.Fatalf("code page: %d\n%s", status, page)
	}
	sms := waitFor(t, r.out, smsRE)
	status, page = p.do(providerURL+"/experience/verification-code/verify", url.Values{"csrf": {csrf(t, page)}, "phone": {sms[1]}, "code": {sms[2]}, "mode": {"sign-in"}})
	if status != 200 || !strings.Contains(page, "Sign-in Success") {
		t.Fatalf("after the code: %d\n%s", status, page)
	}
	out := r.wait(t)
	if !strings.Contains(out, "Hello, "+logtotest.DefaultUserID) || !strings.Contains(out, "/api/messages: 200 OK") {
		t.Fatalf("demo run:\n%s", out)
	}
	if fi, err := os.Stat(env["LOGTO_CLI_TOKENS"]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", fi, err)
	}
}
