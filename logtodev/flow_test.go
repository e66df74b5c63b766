package logtodev_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtotest"
)

const demoPhone = "15551234567"

// TestPhoneSignIn walks the demo user's phone sign-in from the app's
// authorization request to the ID token.
func TestPhoneSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	loc, page := h.start(nil)
	if want := "/sign-in?app_id=" + logtotest.DefaultAppID; loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	mustContain(t, page, http.StatusOK, `name="phone"`, "Send code")
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if strings.Contains(page.body, "<script") {
		t.Error("page has a script")
	}
	token := csrf(t, page)
	r := h.sendCode(token, "+1 555-123 4567", "sign-in")
	mustContain(t, r, http.StatusOK, "Enter the 6-digit code sent to <strong>15551234567</strong>", `name="code"`, "Resend code")
	if got := h.smsCount(demoPhone); got != 1 {
		t.Fatalf("%d SMS sent, want 1", got)
	}
	if !strings.Contains(h.sms.String(), "sign-in verification code") {
		t.Errorf("SMS is not a SignIn message: %q", h.sms.String())
	}
	claims := h.finish(h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)))
	if claims["sub"] != logtotest.DefaultUserID {
		t.Errorf("sub %v, want %s", claims["sub"], logtotest.DefaultUserID)
	}
}

// TestPhoneRegister: an unknown number gets a Register code and becomes a
// new user.
func TestPhoneRegister(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, firstScreen, mode string }{
		{"sign-in page", "", "sign-in"},
		{"register page", "register", "register"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			extra := url.Values{}
			if tc.firstScreen != "" {
				extra.Set("first_screen", tc.firstScreen)
			}
			_, page := h.start(extra)
			const phone = "13102051234"
			r := h.sendCode(csrf(t, page), "+"+phone, tc.mode)
			mustContain(t, r, http.StatusOK, "sent to <strong>"+phone+"</strong>")
			if !strings.Contains(h.sms.String(), "sign-up verification code") {
				t.Errorf("SMS is not a Register message: %q", h.sms.String())
			}
			claims := h.finish(h.verifyCode(csrf(t, r), phone, h.lastCode(phone)))
			sub, _ := claims["sub"].(string)
			if sub == logtotest.DefaultUserID || !regexp.MustCompile(`^[0-9a-z]{12}$`).MatchString(sub) {
				t.Errorf("sub %q, want a new 12-character [0-9a-z] ID", sub)
			}
			u, ok := h.srv.Provider.FindUser(phone)
			if !ok || u.ID != sub || u.Username != "" || u.Phone != phone || !u.CreatedAt.Equal(h.clock.Now()) {
				t.Errorf("FindUser = %+v, %v; want ID %s, phone %s, created now", u, ok, sub, phone)
			}
		})
	}
}

// TestRegisterExistingNumber: on /register a registered number signs in.
func TestRegisterExistingNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(url.Values{"first_screen": {"register"}})
	mustContain(t, page, http.StatusOK, "Create your account", `name="mode" value="register"`)
	r := h.sendCode(csrf(t, page), demoPhone, "register")
	claims := h.finish(h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)))
	if claims["sub"] != logtotest.DefaultUserID {
		t.Errorf("sub %v, want %s", claims["sub"], logtotest.DefaultUserID)
	}
}

// TestRegistrationDisabled: an unknown number is sent nothing, any code is
// wrong, and /register says registration is off.
func TestRegistrationDisabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *logtodev.Options) { o.DisableRegistration = true })
	_, page := h.start(nil)
	if strings.Contains(page.body, "Create one") {
		t.Error("sign-in page offers registration")
	}
	const phone = "13102059999"
	r := h.sendCode(csrf(t, page), phone, "sign-in")
	mustContain(t, r, http.StatusOK, "sent to <strong>"+phone+"</strong>")
	if h.sms.String() != "" {
		t.Errorf("SMS sent: %q", h.sms.String())
	}
	r = h.verifyCode(csrf(t, r), phone, "123456")
	mustContain(t, r, http.StatusBadRequest, "The code is incorrect.")
	if _, ok := h.srv.Provider.FindUser(phone); ok {
		t.Error("user registered")
	}
	_, page = h.start(url.Values{"first_screen": {"register"}})
	mustContain(t, page, http.StatusOK, "Registration is turned off")
}

// TestPasswordSignIn covers username and email sign-in, wrong passwords
// and unknown users (same answer), and the identifier restriction.
func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	demo := logtotest.DefaultUser()
	for _, tc := range []struct {
		name, identifier, password, identifierParam string
		ok                                          bool
	}{
		{"username", demo.Username, demo.Password, "", true},
		{"email", demo.Email, demo.Password, "", true},
		{"email, other case", strings.ToUpper(demo.Email), demo.Password, "", true},
		{"wrong password", demo.Username, demo.Password + "x", "", false},
		{"empty password", demo.Username, "", "", false},
		{"unknown user", "nobody", demo.Password, "", false},
		{"phone is not a password identifier", demo.Phone, demo.Password, "", false},
		{"email when only username is offered", demo.Email, demo.Password, "username", false},
		{"username when only email is offered", demo.Username, demo.Password, "email", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			extra := url.Values{}
			if tc.identifierParam != "" {
				extra.Set("identifier", tc.identifierParam)
			}
			_, page := h.start(extra)
			r := h.password(csrf(t, page), tc.identifier, tc.password)
			if tc.ok {
				if claims := h.finish(r); claims["sub"] != demo.ID {
					t.Errorf("sub %v, want %s", claims["sub"], demo.ID)
				}
				return
			}
			mustContain(t, r, http.StatusUnprocessableEntity, "The username or password is incorrect.", `name="password"`)
		})
	}
}

// TestBadPhone: a phone number that is not digits is refused before any
// code is sent.
func TestBadPhone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(nil)
	for _, p := range []string{"abc", "555", "+1 (555) 123 4567", "1234567890123456"} {
		r := h.sendCode(csrf(t, page), p, "sign-in")
		mustContain(t, r, http.StatusBadRequest, "Enter a valid phone number")
	}
	if h.sms.String() != "" {
		t.Errorf("SMS sent: %q", h.sms.String())
	}
}

// TestSignOutShowsSignInAgain: with a provider session the app signs in
// without the pages; after end session they come back.
func TestSignOutShowsSignInAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(nil)
	claims := h.finish(h.password(csrf(t, page), "probeuser", "Passw0rd!probe"))
	if h.jar["_session"] == nil {
		t.Fatal("no _session cookie after sign-in")
	}
	if r := h.authorize(nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/oidc/auth/") {
		t.Fatalf("signed in: %d %q, want single sign-on to /oidc/auth/<uid>", r.status, r.location())
	}

	end := h.get("/oidc/session/end?" + url.Values{
		"id_token_hint": {claims["_raw"].(string)}, "post_logout_redirect_uri": {logtotest.DefaultPostLogoutRedirectURI},
	}.Encode())
	m := regexp.MustCompile(`name="xsrf" value="([^"]+)"`).FindStringSubmatch(end.body)
	if end.status != http.StatusOK || m == nil {
		t.Fatalf("end session: %d\n%s", end.status, end.body)
	}
	r := h.do(http.MethodPost, "/oidc/session/end/confirm", url.Values{"xsrf": {m[1]}, "logout": {"yes"}})
	if r.status != http.StatusSeeOther || r.location() != logtotest.DefaultPostLogoutRedirectURI {
		t.Fatalf("confirm: %d %q", r.status, r.location())
	}
	if h.jar["_session"] != nil {
		t.Error("_session cookie survived sign-out")
	}
	loc, page := h.start(nil)
	if !strings.HasPrefix(loc, "/sign-in?") {
		t.Errorf("after sign-out: %q, want /sign-in", loc)
	}
	mustContain(t, page, http.StatusOK, "Send code")
}

// TestExpiredInteraction: no cookie, an unknown UID, an expired or
// finished interaction all show the friendly 400 page.
func TestExpiredInteraction(t *testing.T) {
	t.Parallel()
	const want = "This sign-in session has expired. Go back to the app and sign in again."
	h := newHarness(t)
	mustContain(t, h.get("/sign-in?app_id=x"), http.StatusBadRequest, want)
	mustContain(t, h.sendCode("x", demoPhone, "sign-in"), http.StatusBadRequest, want)

	h.jar[logtotest.InteractionCookie] = &http.Cookie{Name: logtotest.InteractionCookie, Value: "nope"}
	mustContain(t, h.get("/register?app_id=x"), http.StatusBadRequest, want)

	_, page := h.start(nil)
	token := csrf(t, page)
	h.clock.Advance(61 * 60e9) // the interaction lives an hour
	mustContain(t, h.get("/sign-in"), http.StatusBadRequest, want)
	mustContain(t, h.password(token, "probeuser", "Passw0rd!probe"), http.StatusBadRequest, want)

	// Finished: the interaction is gone once the provider resumed it.
	_, page = h.start(nil)
	h.finish(h.password(csrf(t, page), "probeuser", "Passw0rd!probe"))
	mustContain(t, h.get("/sign-in"), http.StatusBadRequest, want)
}

// TestCSRF: forms need the interaction's token and must not come from
// another site.
func TestCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(nil)
	token := csrf(t, page)
	form := url.Values{"csrf": {token}, "phone": {demoPhone}, "mode": {"sign-in"}}
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{"phone": {demoPhone}}, nil},
		{"wrong token", url.Values{"csrf": {token + "x"}, "phone": {demoPhone}}, nil},
		{"cross-site", form, []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", form, []string{"Origin", "https://evil.example"}},
	} {
		r := h.do(http.MethodPost, "/experience/verification-code", tc.form, tc.header...)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, r.status)
		}
	}
	// The token of an earlier interaction does not work for the next one.
	h.start(nil)
	if r := h.sendCode(token, demoPhone, "sign-in"); r.status != http.StatusForbidden {
		t.Errorf("earlier interaction's token: status %d, want 403", r.status)
	}
	if h.sms.String() != "" {
		t.Errorf("SMS sent: %q", h.sms.String())
	}
	if r := h.do(http.MethodPost, "/sign-in", form); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /sign-in: %d, want 405", r.status)
	}
}

// TestHostileLoginHint: a login_hint is escaped everywhere.
func TestHostileLoginHint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const hint = `"><script>alert(1)</script><a href="javascript:x">`
	loc, page := h.start(url.Values{"login_hint": {hint}})
	if strings.ContainsAny(loc, `<>"`) {
		t.Errorf("Location %q not escaped", loc)
	}
	if strings.Contains(page.body, "<script") || strings.Contains(page.body, `href="javascript`) {
		t.Errorf("hint not escaped:\n%s", page.body)
	}
	mustContain(t, page, http.StatusOK, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`)
	r := h.password(csrf(t, page), hint, "x")
	if strings.Contains(r.body, "<script") {
		t.Errorf("posted identifier not escaped:\n%s", r.body)
	}
}

// TestCodePageReload: the code page is reached by a redirect, so reloading it
// shows the form again without sending another code.
func TestCodePageReload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, page := h.start(nil)
	r := h.do(http.MethodPost, h.prefix+"/experience/verification-code", url.Values{"csrf": {csrf(t, page)}, "phone": {demoPhone}, "mode": {"sign-in"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("send code: %d, want 303", r.status)
	}
	for i := 0; i < 3; i++ {
		mustContain(t, h.get(r.location()), http.StatusOK, "Enter the 6-digit code")
	}
	if n := h.smsCount(demoPhone); n != 1 {
		t.Fatalf("codes sent = %d, want 1", n)
	}
}
