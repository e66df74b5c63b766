package logto_test

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// TestContextWithOrganizationTokens: WithOrganizationTokens puts a token for
// every organization of the ID token's organizations claim into
// Context.OrganizationTokens. When one organization fails (the user left it
// after signing in), the others still get their tokens, the error names the
// failing one and matches ErrAccessDenied, and the session stays.
func TestContextWithOrganizationTokens(t *testing.T) {
	t.Parallel()
	orgs := []string{"acme", "beta", "gamma"}
	h := newHarness(t, withAPI(), withOrganizations(orgs...))
	b1, b2 := h.browser(), h.browser()
	h.signIn(b1, "")
	h.signIn(b2, "")

	c := h.contextQuery(b1, "organizationTokens=1")
	if got := slices.Sorted(maps.Keys(c.OrganizationTokens)); !slices.Equal(got, orgs) {
		t.Fatalf("organization tokens for %q, want %q", got, orgs)
	}
	for org, tok := range c.OrganizationTokens {
		claims, err := logto.InsecureDecodeAccessTokenClaims(tok)
		if id, ok := claims.Organization(); err != nil || !ok || id != org {
			t.Errorf("token for %s is for %q (%v)", org, id, err)
		}
	}
	if c.AccessToken != "" {
		t.Error("an access token without WithAccessToken")
	}

	// The user leaves beta; b2's ID token still lists it.
	user := logtotest.DefaultUser()
	user.Organizations = []string{"acme", "gamma"}
	h.op.AddUser(user)
	r := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	r.Header.Set("Cookie", h.appCookies(b2))
	lc, err := h.client.GetContext(httptest.NewRecorder(), r, logto.WithOrganizationTokens())
	if got := slices.Sorted(maps.Keys(lc.OrganizationTokens)); !slices.Equal(got, []string{"acme", "gamma"}) {
		t.Errorf("organization tokens for %q, want acme and gamma", got)
	}
	if !errors.Is(err, logto.ErrAccessDenied) || !strings.Contains(err.Error(), "organization beta") || logto.StatusCode(err) != http.StatusForbidden {
		t.Errorf("err = %v, want access denied for organization beta (403)", err)
	}
	if !lc.IsAuthenticated {
		t.Error("one failing organization signed the user out")
	}
}
