package logtodev

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"

	"github.com/logto-go/logto/logtotest"
)

// PasswordSignIn returns a [logtotest.Browser.SignIn] option that fills the
// sign-in page with a username (or email) and password, as a person would:
// it opens the password form (?method=password) when the page shows the
// phone form, and posts csrf, identifier and password to
// /experience/password.
//
//	b.SignIn(app.URL, logtodev.PasswordSignIn("probeuser", "Passw0rd!probe"))
//
// A rejected password stops the test with the page's message.
func PasswordSignIn(identifier, password string) logtotest.SignInOption {
	return logtotest.Interactive(func(b *logtotest.Browser, page *logtotest.Response) (*logtotest.Response, error) {
		f, ok := formOrTab(b, &page, routePassword, "password")
		if !ok {
			return nil, fmt.Errorf("logtodev: no password form at %s (%d): %s", page.URL, page.StatusCode, pageMessage(page))
		}
		f.Values.Set("identifier", identifier)
		f.Values.Set("password", password)
		r := b.Submit(f)
		if !r.IsRedirect() {
			return nil, fmt.Errorf("logtodev: password sign-in as %q: %d: %s", identifier, r.StatusCode, pageMessage(r))
		}
		return r, nil
	})
}

// PhoneSignIn returns a [logtotest.Browser.SignIn] option that signs in
// (or, for an unknown number with registration open, registers) with a
// phone number and the verification code sent to it, as a person would: it
// posts csrf, mode and phone to /experience/verification-code, opens the
// code page, reads the code with code, and posts csrf, mode, phone and code
// to /experience/verification-code/verify.
//
// code returns the last code sent to a number (digits only, as Logto stores
// it); the [sms.Console] given as [Options].SMS has one, LastCode:
//
//	console := sms.NewConsole(io.Discard)
//	srv, err := logtodev.New(logtodev.Options{Provider: opts, SMS: console})
//	...
//	b.SignIn(app.URL, logtodev.PhoneSignIn("15551234567", console.LastCode))
//
// A code that was not sent, or is refused, stops the test with the page's
// message.
func PhoneSignIn(phone string, code func(phone string) (string, bool)) logtotest.SignInOption {
	return logtotest.Interactive(func(b *logtotest.Browser, page *logtotest.Response) (*logtotest.Response, error) {
		f, ok := formOrTab(b, &page, routeSendCode, "phone")
		if !ok {
			return nil, fmt.Errorf("logtodev: no phone form at %s (%d): %s", page.URL, page.StatusCode, pageMessage(page))
		}
		f.Values.Set("phone", phone)
		r := b.Submit(f)
		if !r.IsRedirect() {
			return nil, fmt.Errorf("logtodev: sending a code to %s: %d: %s", phone, r.StatusCode, pageMessage(r))
		}
		r = b.Follow(r)
		verify, ok := findForm(r, routeVerifyCode)
		if !ok {
			return nil, fmt.Errorf("logtodev: no code form at %s (%d): %s", r.URL, r.StatusCode, pageMessage(r))
		}
		digits, _ := normalizePhone(phone)
		c, ok := code(digits)
		if !ok {
			return nil, fmt.Errorf("logtodev: no code was sent to %s (registration disabled, or another SMS connector?)", digits)
		}
		verify.Values.Set("code", c)
		r = b.Submit(verify)
		if !r.IsRedirect() {
			return nil, fmt.Errorf("logtodev: verifying the code sent to %s: %d: %s", digits, r.StatusCode, pageMessage(r))
		}
		return r, nil
	})
}

// formOrTab finds the form posting to route on *page, or opens the page's
// ?method=tab variant and looks there, updating *page.
func formOrTab(b *logtotest.Browser, page **logtotest.Response, route, tab string) (logtotest.Form, bool) {
	if f, ok := findForm(*page, route); ok {
		return f, true
	}
	u := *(*page).URL
	q := u.Query()
	q.Set("method", tab)
	u.RawQuery = q.Encode()
	*page = b.Get(u.String())
	return findForm(*page, route)
}

// findForm returns the first form of page whose action's path ends with
// route.
func findForm(page *logtotest.Response, route string) (logtotest.Form, bool) {
	for _, f := range page.Forms() {
		if u, err := url.Parse(f.Action); err == nil && strings.HasSuffix(u.Path, route) {
			return f, true
		}
	}
	return logtotest.Form{}, false
}

var (
	alertRE   = regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)
	messageRE = regexp.MustCompile(`</h1>\s*<p>([^<]*)</p>`)
)

// pageMessage returns the error or message a page shows, for failures.
func pageMessage(r *logtotest.Response) string {
	for _, re := range []*regexp.Regexp{alertRE, messageRE} {
		if m := re.FindStringSubmatch(r.Body); m != nil {
			return html.UnescapeString(m[1])
		}
	}
	if len(r.Body) > 200 {
		return r.Body[:200]
	}
	return r.Body
}
