package logtotest_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

type signInPage struct{}

func (signInPage) Location(i logtotest.Interaction) string {
	return "/sign-in?app_id=" + url.QueryEscape(i.ClientID) + "&first_screen=" + url.QueryEscape(i.FirstScreen)
}

// TestExperience: with an Experience, /oidc/auth sends the browser to it;
// CompleteInteraction finishes the sign-in; the provider session then signs
// in without the experience until it ends.
func TestExperience(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	srv.SetExperience(signInPage{})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authURL := srv.URL() + "/oidc/auth?" + url.Values{
		"client_id": {logtotest.DefaultAppID}, "redirect_uri": {logtotest.DefaultRedirectURI}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"s1"}, "first_screen": {"identifier:sign_in"}, "login_hint": {"15551234567"},
		"identifier": {"phone email"},
	}.Encode()
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get(authURL)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/sign-in?app_id="+logtotest.DefaultAppID) || !strings.Contains(loc, "identifier%3Asign_in") {
		t.Fatalf("auth: %d %q", resp.StatusCode, loc)
	}
	var uid string
	for _, c := range resp.Cookies() {
		if c.Name == logtotest.InteractionCookie {
			uid = c.Value
		}
	}
	in, ok := srv.Interaction(uid)
	if !ok || in.LoginHint != "15551234567" || strings.Join(in.Identifiers, ",") != "phone,email" || in.ClientID != logtotest.DefaultAppID {
		t.Fatalf("interaction = %+v, %v", in, ok)
	}
	// Resuming before completion goes back to the experience.
	if r := get(srv.URL() + "/oidc/auth/" + uid); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/sign-in") {
		t.Fatalf("early resume: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	user, ok := srv.FindUser("15551234567")
	if !ok {
		t.Fatal("FindUser by phone")
	}
	next, err := srv.CompleteInteraction(uid, user.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := get(next)
	cb, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || cb.Query().Get("code") == "" || cb.Query().Get("state") != "s1" {
		t.Fatalf("resume: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if _, err := srv.CompleteInteraction(uid, user.ID); err == nil {
		t.Fatal("finished interaction completed twice")
	}
	// Single sign-on: the provider session signs in without the experience.
	r = get(authURL)
	if !strings.HasPrefix(r.Header.Get("Location"), "/oidc/auth/") {
		t.Fatalf("with a provider session: %q", r.Header.Get("Location"))
	}
	// prompt=login forces the experience.
	if r := get(authURL + "&prompt=login"); !strings.HasPrefix(r.Header.Get("Location"), "/sign-in") {
		t.Fatalf("prompt=login: %q", r.Header.Get("Location"))
	}
}
