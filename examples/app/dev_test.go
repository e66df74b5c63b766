package main

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/logtodev"
)

// runEnv is the whole program (run with the demo provider) on free
// 127.0.0.1 ports.
type runEnv struct {
	t                           *testing.T
	appURL, providerURL, apiURL string
	stdout, stderr              *syncBuffer
	dev                         *logtodev.Server
	cancel                      context.CancelFunc
	done                        chan error
	stopped                     bool
	stopErr                     error
}

// startRun starts runWith with env (plus LOGTO_BASE_URL and API_RESOURCE
// on free ports) and waits until it serves. It stops when the test ends.
func startRun(t *testing.T, env map[string]string) *runEnv {
	t.Helper()
	var ls [3]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range ls[:i] {
				l.Close()
			}
			t.Fatal(err)
		}
		ls[i] = l
	}
	r := &runEnv{
		t:      t,
		appURL: "http://" + ls[0].Addr().String(), providerURL: "http://" + ls[1].Addr().String(), apiURL: "http://" + ls[2].Addr().String(),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1),
	}
	full := map[string]string{"LOGTO_BASE_URL": r.appURL, "API_RESOURCE": r.apiURL}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	r.cancel = cancel
	ready := make(chan struct{})
	go func() {
		r.done <- runWith(ctx, mapEnv(full), r.stdout, runOptions{
			providerURL: r.providerURL,
			appListener: ls[0], providerListener: ls[1], apiListener: ls[2],
			stderr:    r.stderr,
			devServer: func(s *logtodev.Server) { r.dev = s },
			ready:     func() { close(ready) },
		})
	}()
	select {
	case <-ready:
	case err := <-r.done:
		cancel()
		t.Fatalf("run returned before it was ready: %v\nstderr: %s", err, r.stderr.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("run not ready after 10 s")
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return r
}

// stop cancels run and returns what it returned; later calls return the same.
func (r *runEnv) stop() error {
	if r.stopped {
		return r.stopErr
	}
	r.stopped = true
	r.cancel()
	select {
	case r.stopErr = <-r.done:
	case <-time.After(15 * time.Second):
		r.stopErr = context.DeadlineExceeded
		r.t.Error("run did not shut down within 15 s")
	}
	return r.stopErr
}

// smsCodeRE matches the console connector's line and the code in its text.
var smsCodeRE = regexp.MustCompile(`(?m)^SMS to (\d+): .*?\b(\d{6})\b`)

// lastSMSCode returns the code of the last "SMS to <phone>: ..." line in out.
func lastSMSCode(out, phone string) (string, bool) {
	var code string
	for _, m := range smsCodeRE.FindAllStringSubmatch(out, -1) {
		if m[1] == phone {
			code = m[2]
		}
	}
	return code, code != ""
}

// smsCode is the last code printed on run's stdout for phone (digits only).
func (r *runEnv) smsCode(phone string) string {
	r.t.Helper()
	code, ok := lastSMSCode(r.stdout.String(), phone)
	if !ok {
		r.t.Fatalf("no 'SMS to %s: ...' line on stdout:\n%s", phone, r.stdout.String())
	}
	return code
}

// postForm posts form to rawURL from a page of origin (the Origin header),
// as a browser submitting a form does.
func (b *browser) postForm(rawURL, origin string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("POST %s: reading body: %v", rawURL, err)
	}
	return resp, string(body)
}

var (
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	xsrfRE = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
)

func formValue(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", re, page)
	}
	return html.UnescapeString(m[1])
}

// startSignIn presses Sign In: the app redirects to the provider's
// authorization endpoint, which, without a provider session, answers 303 to
// its /sign-in page. It returns that page with the phone form.
func (b *browser) startSignIn(appURL, providerURL string) string {
	t := b.t
	t.Helper()
	resp, _ := b.get(appURL + "/sign-in?returnTo=/")
	if !isRedirect(resp.StatusCode) {
		t.Fatalf("GET /sign-in: status %d, want 302 or 303", resp.StatusCode)
	}
	auth := location(t, resp)
	if want := providerURL + "/oidc/auth"; auth.Scheme+"://"+auth.Host+auth.Path != want {
		t.Fatalf("GET /sign-in: Location %s, want %s?...", auth, want)
	}
	resp, body := b.get(auth.String())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET %s: status %d, want 303 to the sign-in page; body %s", auth, resp.StatusCode, body)
	}
	page := location(t, resp)
	if want := providerURL + "/sign-in"; page.Scheme+"://"+page.Host+page.Path != want {
		t.Fatalf("GET %s: Location %s, want %s?...", auth, page, want)
	}
	resp, body = b.get(page.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="phone"`) {
		t.Fatalf("GET %s: status %d, want 200 with the phone form; body %s", page, resp.StatusCode, body)
	}
	return body
}

// finishSignIn follows the provider's answer to a completed sign-in form
// (303 to /oidc/auth/<uid>, 303 to the app's /callback) and the callback's
// redirect home.
func (b *browser) finishSignIn(appURL string, resp *http.Response, body string) {
	t := b.t
	t.Helper()
	app, _ := url.Parse(appURL)
	for hops := 0; ; hops++ {
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("%s %s: status %d, want a redirect; body %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, body)
		}
		loc := location(t, resp)
		if loc.Host == app.Host {
			if loc.Path != "/callback" {
				t.Fatalf("provider redirected to %s, want /callback", loc)
			}
			break
		}
		if hops == 5 {
			t.Fatalf("still at the provider after %d hops: %s", hops, loc)
		}
		resp, body = b.get(loc.String())
	}
	resp, body = b.get(location(t, resp).String())
	if !isRedirect(resp.StatusCode) || location(t, resp).Path != "/" {
		t.Fatalf("GET /callback: status %d, want a redirect to /; body %s", resp.StatusCode, body)
	}
}

// signInWithCode signs in on the provider's pages with phone and the
// verification code that code returns for its digits.
func (b *browser) signInWithCode(appURL, providerURL, phone string, code func(phone string) string) {
	t := b.t
	t.Helper()
	page := b.startSignIn(appURL, providerURL)
	csrf := formValue(t, csrfRE, page)
	resp, body := b.postForm(providerURL+"/experience/verification-code", providerURL, url.Values{"csrf": {csrf}, "mode": {"sign-in"}, "phone": {phone}})
	if resp.StatusCode == http.StatusSeeOther { // Post/Redirect/Get to the code page
		resp, body = b.get(providerURL + resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="code"`) {
		t.Fatalf("send code: status %d, want 200 with the code form; body %s", resp.StatusCode, body)
	}
	digits := strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, phone)
	resp, body = b.postForm(providerURL+"/experience/verification-code/verify", providerURL,
		url.Values{"csrf": {csrf}, "mode": {"sign-in"}, "phone": {digits}, "code": {code(digits)}})
	b.finishSignIn(appURL, resp, body)
}

// signInWithPassword signs in on the provider's pages with a username and
// password.
func (b *browser) signInWithPassword(appURL, providerURL, username, password string) {
	t := b.t
	t.Helper()
	csrf := formValue(t, csrfRE, b.startSignIn(appURL, providerURL))
	resp, body := b.postForm(providerURL+"/experience/password", providerURL,
		url.Values{"csrf": {csrf}, "identifier": {username}, "password": {password}})
	b.finishSignIn(appURL, resp, body)
}

// endSession does what a browser does with the app's sign-out redirect:
// loads the provider's end-session page and submits its form, which ends the
// provider session and redirects to the app.
func (b *browser) endSession(endSession *url.URL, appURL string) {
	t := b.t
	t.Helper()
	resp, body := b.get(endSession.String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "op.logoutForm") {
		t.Fatalf("GET %s: status %d, want 200 with the sign-out form; body %s", endSession, resp.StatusCode, body)
	}
	provider := endSession.Scheme + "://" + endSession.Host
	resp, body = b.postForm(provider+"/oidc/session/end/confirm", provider, url.Values{"xsrf": {formValue(t, xsrfRE, body)}, "logout": {"yes"}})
	if loc := location(t, resp); resp.StatusCode != http.StatusSeeOther || loc.Scheme+"://"+loc.Host+loc.Path != appURL+"/" {
		t.Fatalf("end-session confirm: status %d Location %q, want 303 to %s/; body %s", resp.StatusCode, resp.Header.Get("Location"), appURL, body)
	}
}
