package logto_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestThreeHundredOrganizations: a user in 300 organizations (Logto's
// 12-character IDs) signs in with cookie sessions: every Set-Cookie within
// 4096 bytes, the next request authenticated, no loop.
func TestThreeHundredOrganizations(t *testing.T) {
	t.Parallel()
	user := logtotest.DefaultUser()
	for i := 0; i < 300; i++ {
		user.Organizations = append(user.Organizations, fmt.Sprintf("o%011d", i*7919))
		user.OrganizationRoles = append(user.OrganizationRoles, fmt.Sprintf("o%011d:member", i*7919))
	}
	h := newHarness(t, withProvider(logtotest.WithUsers(user)), withConfig(func(c *logto.Config) {
		c.Scopes = append(c.Scopes, logto.UserScopeOrganizations, logto.UserScopeOrganizationRoles)
	}))
	b := h.browser()
	r := h.signIn(b, "/after")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/after" {
		t.Fatalf("sign-in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	total := 0
	for _, line := range r.Header.Values("Set-Cookie") {
		if len(line) > 4096 {
			t.Fatalf("Set-Cookie of %d bytes", len(line))
		}
		if ck, _ := http.ParseSetCookie(line); ck != nil && strings.HasPrefix(ck.Name, "logto_"+h.appID) && ck.MaxAge > 0 {
			total += len(ck.Name) + 1 + len(ck.Value)
		}
	}
	c := h.context(b)
	if !c.IsAuthenticated || len(c.Claims["organizations"].([]any)) != 300 {
		t.Fatal("300-organization session not authenticated on the next request")
	}
	t.Logf("300 organizations: %d bytes of session cookies in %d chunk(s)", total, len(h.sessionCookies(b)))
	// The sign-in page itself must stay reachable (no loop): a second sign-in works too.
	if r := h.signIn(b, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.StatusCode)
	}
}

// TestCookieHeaderBudget: a typical session (an API token and an
// organization token) plus the maximum of pending sign-ins stays under 8 KB
// of Cookie header.
func TestCookieHeaderBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI(), withOrganizations("org1"))
	b := h.browser()
	h.signIn(b, "")
	h.tokenGet(b, "resource="+url.QueryEscape(apiResource))
	h.tokenGet(b, "org=org1")
	for i := 0; i < 7; i++ { // more tabs than the cap of 5
		h.startSignIn(b, fmt.Sprintf("/tab/%d", i))
	}
	u, _ := url.Parse(h.app.URL)
	header := 0
	for _, ck := range b.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "logto_") {
			header += len(ck.Name) + len(ck.Value) + 3
		}
	}
	t.Logf("session + 5 pending sign-ins: %d bytes of Cookie header", header)
	if header > 8192 {
		t.Fatalf("Cookie header of %d bytes, want under 8 KB", header)
	}
}

// TestProviderCallsPerRequest counts the calls to Logto the SDK makes: none
// per authenticated page view, and per sign-in: discovery, JWKS and the
// token request when cold, the token request alone when warm.
func TestProviderCallsPerRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	backChannel := func() int {
		n := 0
		for _, r := range h.op.Requests() {
			switch r.Path {
			case "/oidc/.well-known/openid-configuration", "/oidc/jwks", "/oidc/token", "/oidc/me", "/oidc/token/revocation":
				n++
			}
		}
		return n
	}
	b := h.browser()
	h.signIn(b, "")
	cold := backChannel()
	for i := 0; i < 10; i++ {
		if !h.context(b).IsAuthenticated {
			t.Fatal("not authenticated")
		}
	}
	perView := backChannel() - cold
	h.signIn(h.browser(), "")
	warm := backChannel() - cold - perView
	t.Logf("provider calls: cold sign-in %d, warm sign-in %d, per authenticated page view %d", cold, warm, perView/10)
	if cold != 3 || warm != 1 || perView != 0 {
		t.Fatalf("cold %d (want 3), warm %d (want 1), page views %d (want 0)", cold, warm, perView)
	}
}
