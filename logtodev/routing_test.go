package logtodev_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtotest"
)

const appQuery = "?app_id=" + logtotest.DefaultAppID

// TestFirstScreen: first_screen, interaction_mode, direct_sign_in,
// login_hint and identifier choose the Location of /oidc/auth like Logto.
func TestFirstScreen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"default", nil, "/sign-in" + appQuery},
		{"sign_in", url.Values{"first_screen": {"sign_in"}}, "/sign-in" + appQuery},
		{"deprecated signIn", url.Values{"first_screen": {"signIn"}}, "/sign-in" + appQuery},
		{"register", url.Values{"first_screen": {"register"}}, "/register" + appQuery},
		{"identifier:sign_in", url.Values{"first_screen": {"identifier:sign_in"}}, "/identifier-sign-in" + appQuery},
		{"identifier:register", url.Values{"first_screen": {"identifier:register"}}, "/identifier-register" + appQuery},
		{"reset_password", url.Values{"first_screen": {"reset_password"}}, "/reset-password" + appQuery},
		{"single_sign_on", url.Values{"first_screen": {"single_sign_on"}}, "/single-sign-on" + appQuery},
		{"interaction_mode=signUp", url.Values{"interaction_mode": {"signUp"}}, "/register" + appQuery},
		{"interaction_mode=signIn", url.Values{"interaction_mode": {"signIn"}}, "/sign-in" + appQuery},
		{"first_screen wins over interaction_mode", url.Values{"first_screen": {"sign_in"}, "interaction_mode": {"signUp"}}, "/sign-in" + appQuery},
		{"login_hint and identifier", url.Values{"login_hint": {"+1 555"}, "identifier": {"phone bogus email"}},
			"/sign-in" + appQuery + "&login_hint=%2B1+555&identifier=phone+email"},
		{"organization and locales", url.Values{"organization_id": {"org1"}, "ui_locales": {"fr"}},
			"/sign-in" + appQuery + "&organization_id=org1&ui_locales=fr"},
		{"invalid first_screen drops every parameter", url.Values{"first_screen": {"identifier:sign-in"}, "login_hint": {"x"}}, "/sign-in" + appQuery},
		{"invalid interaction_mode drops every parameter", url.Values{"interaction_mode": {"signup"}, "first_screen": {"register"}}, "/sign-in" + appQuery},
		{"direct_sign_in", url.Values{"direct_sign_in": {"social:google"}, "first_screen": {"register"}},
			"/direct/social/google?fallback=register&app_id=" + logtotest.DefaultAppID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.jar = map[string]*http.Cookie{} // subtests share h: run them in order
			r := h.authorize(tc.params)
			if r.status != http.StatusSeeOther || r.location() != tc.want {
				t.Errorf("got %d %q, want 303 %q", r.status, r.location(), tc.want)
			}
		})
	}
}

// TestPages: what each first screen offers, with identifier and login_hint.
func TestPages(t *testing.T) {
	t.Parallel()
	const phoneForm, passwordForm = `name="phone"`, `name="password"`
	for _, tc := range []struct {
		name     string
		params   url.Values
		path     string // GET after the redirect, "" = the Location
		want     []string
		wantNot  []string
		register bool
	}{
		{"sign-in offers both", nil, "", []string{phoneForm, ">Password</a>", "/register" + appQuery}, []string{passwordForm}, true},
		{"method=password", nil, "/sign-in" + appQuery + "&method=password", []string{passwordForm, `aria-current="page">Password</a>`}, []string{phoneForm}, true},
		{"identifier=phone", url.Values{"identifier": {"phone"}}, "/sign-in?method=password", []string{phoneForm}, []string{passwordForm, ">Password</a>"}, true},
		{"identifier=username", url.Values{"identifier": {"username"}}, "", []string{passwordForm, `<label for="identifier">Username</label>`}, []string{phoneForm, "Create one"}, false},
		{"identifier=email", url.Values{"identifier": {"email"}}, "", []string{`<label for="identifier">Email</label>`}, []string{phoneForm}, false},
		{"identifier=sms only unsupported", url.Values{"identifier": {"sms"}}, "", []string{phoneForm, ">Password</a>"}, nil, true},
		{"login_hint phone", url.Values{"login_hint": {"+1 555 123 4567"}}, "", []string{phoneForm, `value="15551234567"`}, nil, true},
		{"login_hint username", url.Values{"login_hint": {"probeuser"}}, "", []string{passwordForm, `value="probeuser"`}, []string{phoneForm}, true},
		{"identifier-sign-in", url.Values{"first_screen": {"identifier:sign_in"}, "identifier": {"username"}}, "", []string{"<h1>Sign in</h1>", passwordForm}, []string{phoneForm}, false},
		{"register", url.Values{"first_screen": {"register"}, "login_hint": {"15550001111"}}, "", []string{"Create your account", `value="15550001111"`, `name="mode" value="register"`}, nil, false},
		{"identifier-register", url.Values{"first_screen": {"identifier:register"}}, "", []string{"Create your account", phoneForm}, nil, false},
		{"register without phone", url.Values{"first_screen": {"register"}, "identifier": {"email"}}, "", []string{"phone number only", "/sign-in" + appQuery}, []string{phoneForm}, false},
		{"reset_password", url.Values{"first_screen": {"reset_password"}}, "", []string{"not supported", `href="/sign-in` + appQuery + `"`}, nil, false},
		{"single_sign_on", url.Values{"first_screen": {"single_sign_on"}}, "", []string{"single sign-on is not supported", `href="/sign-in` + appQuery + `"`}, nil, false},
		{"direct_sign_in", url.Values{"direct_sign_in": {"sso:abc"}, "first_screen": {"register"}}, "", []string{"Direct sign-in (sso/abc) is not supported", `href="/register` + appQuery + `"`}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			_, page := h.start(tc.params)
			if tc.path != "" {
				page = h.get(tc.path)
			}
			mustContain(t, page, http.StatusOK, tc.want...)
			for _, w := range tc.wantNot {
				if strings.Contains(page.body, w) {
					t.Errorf("page has %q:\n%s", w, page.body)
				}
			}
			if got := strings.Contains(page.body, `href="/register`+appQuery+`"`); got != tc.register && !strings.Contains(tc.name, "direct") {
				t.Errorf("register link %v, want %v", got, tc.register)
			}
		})
	}
}

// TestIdentifierRestrictsPosts: a form for a method the interaction does not
// offer is refused even when posted by hand.
func TestIdentifierRestrictsPosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(url.Values{"identifier": {"username"}})
	mustContain(t, h.sendCode(csrf(t, page), demoPhone, "sign-in"), http.StatusBadRequest, "does not offer sign-in with a phone number")
	_, page = h.start(url.Values{"identifier": {"phone"}})
	mustContain(t, h.password(csrf(t, page), "probeuser", "Passw0rd!probe"), http.StatusBadRequest, "does not offer sign-in with a password")
}

// TestLocation calls the Experience directly.
func TestLocation(t *testing.T) {
	t.Parallel()
	srv, err := logtodev.New(logtodev.Options{Provider: logtotest.Options{URL: "http://localhost:3001/auth/"}})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Location(logtotest.Interaction{ClientID: "app", FirstScreen: "identifier:register", LoginHint: "a&b"})
	if want := "/auth/identifier-register?app_id=app&login_hint=a%26b"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

// TestPathPrefix: with a URL path prefix, pages and provider live under it.
func TestPathPrefix(t *testing.T) {
	t.Parallel()
	var origin string
	h := newHarness(t, func(o *logtodev.Options) { origin = o.Provider.URL; o.Provider.URL += "/logto/" })
	if h.prefix != "/logto" || h.url != origin+"/logto" {
		t.Fatalf("prefix %q, URL %q", h.prefix, h.url)
	}
	loc, page := h.start(nil)
	if !strings.HasPrefix(loc, "/logto/sign-in?") {
		t.Fatalf("Location %q", loc)
	}
	mustContain(t, page, http.StatusOK, `action="/logto/experience/verification-code"`)
	r := h.do(http.MethodPost, "/experience/verification-code", url.Values{"csrf": {csrf(t, page)}, "phone": {demoPhone}})
	if r.status != http.StatusNotFound {
		t.Errorf("form outside the prefix: %d, want 404", r.status)
	}
	r = h.sendCode(csrf(t, page), demoPhone, "sign-in")
	h.finish(h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)))
	mustContain(t, h.get("/logto"), http.StatusOK, "Discovery document")
}

// TestHome: the root page names the issuer.
func TestHome(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mustContain(t, h.get("/"), http.StatusOK, h.url+"/oidc", "Discovery document")
	if r := h.get("/oidc/.well-known/openid-configuration"); r.status != http.StatusOK || !strings.Contains(r.body, `"issuer"`) {
		t.Errorf("discovery: %d", r.status)
	}
}
