package logtotest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// maxPageBytes caps the body a Browser reads.
const maxPageBytes = 8 << 20

// maxHops bounds the redirects Follow, SignIn and SignOut walk, and
// maxPages the interactive pages SignIn fills.
const (
	maxHops  = 20
	maxPages = 5
)

// Browser is a test browser for an app and its provider: a cookie jar and
// an [http.Client] that never follows redirects by itself, so a test sees
// every hop, plus helpers that walk whole journeys: [Browser.SignIn]
// follows the provider's redirects back to the app, and [Browser.SignOut]
// also completes the provider's end-session form, so that the provider
// session really ends.
//
// A failed request, or a journey that goes wrong, stops the test with
// t.Fatalf (and [runtime.Goexit], should Fatalf return); status codes are
// returned, not judged. Methods must be called from the test's goroutine,
// as t.Fatalf must.
//
// It drives logtotest and the dev provider (package logtodev, whose sign-in
// pages are filled by logtodev.PasswordSignIn and logtodev.PhoneSignIn). It
// is not meant for a real Logto: Logto's sign-in pages need JavaScript, and
// its cookies with raw JSON values are dropped by [net/http/cookiejar].
type Browser struct {
	// Client sends every request. Its Jar keeps cookies and its
	// CheckRedirect hands redirects back instead of following them. Set its
	// Transport to reach a TLS test server (httptest.Server.Client).
	Client *http.Client

	t TestingT
}

// NewBrowser returns a browser with an empty cookie jar. Failures stop the
// test with t.Fatalf.
func NewBrowser(t TestingT) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	// A transport of its own: httptest.Server.Close closes the idle
	// connections of http.DefaultTransport, failing requests in flight.
	var tr http.RoundTripper = http.DefaultTransport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		own := dt.Clone()
		cleanup(t, own.CloseIdleConnections)
		tr = own
	}
	return &Browser{t: t, Client: &http.Client{
		Jar:           jar,
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a response read in full.
type Response struct {
	// URL is the URL requested; after Follow, SignIn or SignOut, the last
	// one, where the browser stands.
	URL        *url.URL
	StatusCode int
	Header     http.Header
	// Body is the body, at most 8 MiB of it.
	Body string
}

// IsRedirect reports whether r is a redirect with a Location.
func (r *Response) IsRedirect() bool {
	switch r.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return r.Header.Get("Location") != ""
	}
	return false
}

// Location returns r's Location header resolved against r.URL, or "" when
// there is none.
func (r *Response) Location() string {
	loc := r.Header.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := r.URL.Parse(loc)
	if err != nil {
		return ""
	}
	return u.String()
}

func (b *Browser) helper() testHelper {
	if h, ok := b.t.(testHelper); ok {
		return h
	}
	return nopHelper{}
}

type nopHelper struct{}

func (nopHelper) Helper() {}

// fatalf stops the test. Should t.Fatalf return (a TestingT other than
// testing's or log's), it ends the goroutine itself, as testing's does.
func (b *Browser) fatalf(format string, args ...any) {
	b.helper().Helper()
	b.t.Fatalf(format, args...)
	runtime.Goexit()
}

// Do sends req as it is (the jar adds its cookies) and reads the response.
// It does not follow redirects.
func (b *Browser) Do(req *http.Request) *Response {
	b.helper().Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.fatalf("logtotest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		b.fatalf("logtotest: %s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return &Response{URL: req.URL, StatusCode: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// newRequest builds a request or stops the test.
func (b *Browser) newRequest(method, target string, body io.Reader) *http.Request {
	b.helper().Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.fatalf("logtotest: %s %q: %v", method, target, err)
	}
	return req
}

// pageAccept is the Accept header of a browser's page navigation.
const pageAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// Get requests target as a page navigation (Accept: text/html, ...), as a
// browser's address bar does. It does not follow redirects: a protected
// page of a signed-out browser answers with the redirect to sign-in.
func (b *Browser) Get(target string) *Response {
	b.helper().Helper()
	req := b.newRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", pageAccept)
	return b.Do(req)
}

// GetJSON requests target as an API call (Accept: application/json) and,
// when the answer is 2xx and v is not nil, decodes the body into v. It stops
// the test when a 2xx body is not JSON. It does not follow redirects.
func (b *Browser) GetJSON(target string, v any) *Response {
	b.helper().Helper()
	req := b.newRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", "application/json")
	r := b.Do(req)
	if v != nil && r.StatusCode/100 == 2 {
		if err := json.Unmarshal([]byte(r.Body), v); err != nil {
			b.fatalf("logtotest: GET %s: %d body is not JSON (%v): %.200s", target, r.StatusCode, err, r.Body)
		}
	}
	return r
}

// Post posts form to target as a same-origin HTML form would: URL-encoded,
// with an Origin header naming target's origin. It does not follow
// redirects.
func (b *Browser) Post(target string, form url.Values) *Response {
	b.helper().Helper()
	return b.post(target, "", form)
}

// post posts form with the Origin of page (target's when page is "").
func (b *Browser) post(target, page string, form url.Values) *Response {
	b.helper().Helper()
	req := b.newRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", pageAccept)
	from := req.URL
	if page != "" {
		if u, err := url.Parse(page); err == nil && u.Host != "" {
			from = u
		}
	}
	req.Header.Set("Origin", origin(from))
	return b.Do(req)
}

// Follow follows r's redirects, fetching each Location with GET as a page
// navigation (which is what a browser does after 301, 302 and 303), and
// returns the first response that is not a redirect. It stops the test
// after 20 redirects.
func (b *Browser) Follow(r *Response) *Response {
	b.helper().Helper()
	for hops := 0; r.IsRedirect(); hops++ {
		if hops == maxHops {
			b.fatalf("logtotest: more than %d redirects, the last to %s", maxHops, r.Location())
		}
		r = b.Get(r.Location())
	}
	return r
}

// A SignInOption changes how [Browser.SignIn] signs in.
type SignInOption func(*signInOptions)

type signInOptions struct {
	user string
	fill func(*Browser, *Response) (*Response, error)
}

// AsUser makes logtotest's automatic sign-in sign in the user with this ID
// (see [SignInUserHeader]), whatever the provider's default.
func AsUser(userID string) SignInOption {
	return func(o *signInOptions) { o.user = userID }
}

// Interactive makes SignIn call fill whenever the provider answers with a
// page instead of a redirect, as an interactive sign-in experience (such as
// logtodev's) does. fill gets that page, submits its form (e.g. with
// [Response.Forms] and [Browser.Submit]) and returns the response, whose
// redirects SignIn then follows; it is called again for every further page,
// at most 5 times. logtodev.PasswordSignIn and logtodev.PhoneSignIn are
// ready-made fills.
func Interactive(fill func(b *Browser, page *Response) (*Response, error)) SignInOption {
	return func(o *signInOptions) { o.fill = fill }
}

// SignIn signs in to the app at appURL (its BaseURL) as a person would:
// it opens appURL+"/sign-in" (the SDK's default sign-in path), follows the
// redirects to the provider and back to the app's callback, and returns the
// page the app lands on. With logtotest the sign-in is automatic (the
// provider's sign-in user, or [AsUser]); an interactive provider's pages
// need [Interactive]. The app and the provider must be on different
// origins (as two test servers are). It stops the test when the journey
// does not reach the provider and come back, or when the app answers it
// with 4xx or 5xx.
func (b *Browser) SignIn(appURL string, opts ...SignInOption) *Response {
	b.helper().Helper()
	var o signInOptions
	for _, opt := range opts {
		opt(&o)
	}
	app := b.parseURL(appURL)
	r := b.Get(strings.TrimRight(appURL, "/") + "/sign-in")
	left, pages := false, 0
	for hops := 0; ; hops++ {
		if hops == maxHops {
			b.fatalf("logtotest: sign-in: more than %d redirects, the last to %s", maxHops, r.Location())
		}
		if r.IsRedirect() {
			req := b.newRequest(http.MethodGet, r.Location(), nil)
			req.Header.Set("Accept", pageAccept)
			if !sameOrigin(req.URL, app) {
				left = true
				if o.user != "" {
					req.Header.Set(SignInUserHeader, o.user)
				}
			}
			r = b.Do(req)
			continue
		}
		if sameOrigin(r.URL, app) {
			break
		}
		if o.fill == nil {
			b.fatalf("logtotest: sign-in stopped at %s with status %d (%s); for an interactive sign-in page, pass Interactive (e.g. logtodev.PasswordSignIn)",
				r.URL, r.StatusCode, summary(r))
		}
		if pages == maxPages {
			b.fatalf("logtotest: sign-in: still on the provider's pages after %d forms, at %s (%d): %.300s", maxPages, r.URL, r.StatusCode, r.Body)
		}
		pages++
		next, err := o.fill(b, r)
		if err != nil {
			b.fatalf("logtotest: sign-in at %s: %v", r.URL, err)
		}
		if next == nil {
			b.fatalf("logtotest: sign-in at %s: the Interactive fill returned no response", r.URL)
		}
		r = next
	}
	if !left {
		b.fatalf("logtotest: sign-in: %s/sign-in did not redirect to the provider (status %d): %.300s", strings.TrimRight(appURL, "/"), r.StatusCode, r.Body)
	}
	if r.StatusCode >= 400 {
		b.fatalf("logtotest: sign-in ended at %s with status %d: %.300s", r.URL, r.StatusCode, r.Body)
	}
	return r
}

// SignOut signs out of the app at appURL (its BaseURL) as a person would:
// it posts appURL+"/sign-out" (the SDK's default sign-out path) from the
// app's origin, follows the redirect to the provider's end-session page,
// submits that page's form (xsrf and logout=yes, which a browser's
// JavaScript would post) so that the provider session ends, and follows the
// redirect to the post-logout redirect URI. It returns the page it lands
// on. It stops the test when the journey does not reach the end-session
// page or the form is rejected.
func (b *Browser) SignOut(appURL string) *Response {
	b.helper().Helper()
	app := b.parseURL(appURL)
	target := strings.TrimRight(appURL, "/") + "/sign-out"
	r := b.Post(target, nil)
	if !r.IsRedirect() {
		b.fatalf("logtotest: sign-out: POST %s answered %d, not a redirect: %.300s", target, r.StatusCode, r.Body)
	}
	r = b.Follow(r)
	if sameOrigin(r.URL, app) {
		b.fatalf("logtotest: sign-out: the app did not redirect to the provider's end-session page, it landed on %s (%d)", r.URL, r.StatusCode)
	}
	form, ok := logoutForm(r)
	if !ok || r.StatusCode != http.StatusOK {
		b.fatalf("logtotest: sign-out: no end-session form at %s (%d): %.300s", r.URL, r.StatusCode, r.Body)
	}
	r = b.Submit(form)
	if !r.IsRedirect() {
		b.fatalf("logtotest: sign-out: the end-session form was answered %d, not a redirect: %.300s", r.StatusCode, r.Body)
	}
	return b.Follow(r)
}

// logoutForm finds Logto's end-session form: id op.logoutForm, or a form
// posting to .../session/end/confirm.
func logoutForm(r *Response) (Form, bool) {
	for _, f := range r.Forms() {
		if f.ID == "op.logoutForm" || strings.HasSuffix(f.actionPath(), "/session/end/confirm") {
			return f, true
		}
	}
	return Form{}, false
}

func (b *Browser) parseURL(s string) *url.URL {
	b.helper().Helper()
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		b.fatalf("logtotest: %q is not an absolute URL", s)
	}
	return u
}

var titleRE = regexp.MustCompile(`(?is)<title>([^<]*)</title>`)

// summary is a page's title, or the start of its body.
func summary(r *Response) string {
	if m := titleRE.FindStringSubmatch(r.Body); m != nil {
		return "page " + strconv.Quote(strings.TrimSpace(html.UnescapeString(m[1])))
	}
	return fmt.Sprintf("%.300q", r.Body)
}

func sameOrigin(a, b *url.URL) bool { return a.Scheme == b.Scheme && a.Host == b.Host }

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// Form is an HTML form of a page, with the values a browser would submit
// if nobody typed anything.
type Form struct {
	// ID is the form's id attribute.
	ID string
	// Method is GET or POST (upper case; GET when absent).
	Method string
	// Action is the absolute URL the form submits to (the page's when
	// absent).
	Action string
	// Values are the form's named input elements with their value
	// attributes, including inputs outside the form that name it in a form
	// attribute. Buttons, file inputs and unchecked checkboxes and radio
	// buttons are left out; textarea and select elements are not read.
	Values url.Values

	page *url.URL
}

func (f Form) actionPath() string {
	u, err := url.Parse(f.Action)
	if err != nil {
		return ""
	}
	return u.Path
}

var (
	formTagRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>`)
	formEndRE  = regexp.MustCompile(`(?i)</form\s*>`)
	inputTagRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE     = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// attrs parses the attributes of a tag (names lower-cased, values
// unescaped).
func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(strings.TrimSuffix(s, "/"), -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; !dup {
			out[name] = html.UnescapeString(m[2] + m[3] + m[4])
		}
	}
	return out
}

// Forms returns the HTML forms of r's body in document order. It reads
// well-formed, server-rendered pages such as logtotest's and logtodev's; it
// is not a general HTML parser.
func (r *Response) Forms() []Form {
	type span struct{ start, end int }
	var forms []Form
	var spans []span
	for _, loc := range formTagRE.FindAllStringSubmatchIndex(r.Body, -1) {
		a := attrs(r.Body[loc[2]:loc[3]])
		f := Form{ID: a["id"], Method: strings.ToUpper(a["method"]), Values: url.Values{}, page: r.URL}
		if f.Method != http.MethodPost {
			f.Method = http.MethodGet
		}
		f.Action = r.URL.String()
		if act, ok := a["action"]; ok && act != "" {
			if u, err := r.URL.Parse(act); err == nil {
				f.Action = u.String()
			}
		}
		end := len(r.Body)
		if e := formEndRE.FindStringIndex(r.Body[loc[1]:]); e != nil {
			end = loc[1] + e[0]
		}
		forms = append(forms, f)
		spans = append(spans, span{loc[1], end})
	}
	for _, loc := range inputTagRE.FindAllStringSubmatchIndex(r.Body, -1) {
		a := attrs(r.Body[loc[2]:loc[3]])
		name := a["name"]
		typ := strings.ToLower(a["type"])
		_, checked := a["checked"]
		_, disabled := a["disabled"]
		switch {
		case name == "" || disabled,
			typ == "submit" || typ == "button" || typ == "image" || typ == "reset" || typ == "file",
			(typ == "checkbox" || typ == "radio") && !checked:
			continue
		}
		value, ok := a["value"]
		if !ok && (typ == "checkbox" || typ == "radio") {
			value = "on"
		}
		for i := range forms {
			owner := a["form"]
			if owner != "" && owner == forms[i].ID || owner == "" && loc[0] >= spans[i].start && loc[0] < spans[i].end {
				forms[i].Values.Add(name, value)
				break
			}
		}
	}
	return forms
}

// Submit submits f as a browser would if nobody changed its values (set
// them in f.Values first): a POST form is posted URL-encoded with the
// Origin of the page it came from, a GET form is fetched with its values as
// the query. It does not follow redirects.
func (b *Browser) Submit(f Form) *Response {
	b.helper().Helper()
	page := ""
	if f.page != nil {
		page = f.page.String()
	}
	if f.Method == http.MethodPost {
		return b.post(f.Action, page, f.Values)
	}
	u := b.parseURL(f.Action)
	u.RawQuery = f.Values.Encode()
	return b.Get(u.String())
}
