package logto_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto"
)

// both are the organization kinds of the organization routes.
const both = logto.OrganizationToken | logto.OrganizationResourceToken

// kindRoutes serves, behind f.rs, one route per accepted set of kinds:
//
//	GET /items                     Middleware: user tokens
//	GET /orgs/{id}/items           OrganizationMiddleware: both organization kinds for {id}
//	GET /orgs/{id}/org-only        OrganizationMiddleware: organization tokens for {id}
//	GET /orgs/{id}/resource-only   OrganizationMiddleware: organization-scoped resource tokens for {id}
//	GET /query/items               both organization kinds for ?org= (empty when absent)
//
// Every route needs read:items. A handler answers "ok <kind>".
func kindRoutes(rs *logto.ResourceServer) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := logto.AccessTokenFromContext(r.Context())
		_, _ = io.WriteString(w, "ok "+c.Kind(apiResource).String())
	})
	pathOrg := func(r *http.Request) string { return r.PathValue("id") }
	mux := http.NewServeMux()
	mux.Handle("GET /items", rs.Middleware("read:items")(ok))
	mux.Handle("GET /orgs/{id}/items", rs.OrganizationMiddleware(pathOrg, both, "read:items")(ok))
	mux.Handle("GET /orgs/{id}/org-only", rs.OrganizationMiddleware(pathOrg, logto.OrganizationToken, "read:items")(ok))
	mux.Handle("GET /orgs/{id}/resource-only", rs.OrganizationMiddleware(pathOrg, logto.OrganizationResourceToken, "read:items")(ok))
	mux.Handle("GET /query/items", rs.OrganizationMiddleware(func(r *http.Request) string { return r.URL.Query().Get("org") }, both, "read:items")(ok))
	return mux
}

// kindRoute names a route of kindRoutes: kinds 0 is the user route, org ""
// with kinds is /query/items without an organization.
type kindRoute struct {
	kinds logto.TokenKind
	org   string
}

func (k kindRoute) path() string {
	switch {
	case k.kinds == 0:
		return "/items"
	case k.org == "":
		return "/query/items"
	case k.kinds == logto.OrganizationToken:
		return "/orgs/" + k.org + "/org-only"
	case k.kinds == logto.OrganizationResourceToken:
		return "/orgs/" + k.org + "/resource-only"
	}
	return "/orgs/" + k.org + "/items"
}

var (
	userRoute = kindRoute{}
	orgRoute  = func(id string) kindRoute { return kindRoute{both, id} }
)

// TestResourceServerTokenKinds: a route accepts only the token kinds it
// names, for the organization the request names. Each case is checked over
// HTTP (status, WWW-Authenticate, JSON error) and through Verify or
// VerifyOrganization (typed error and reason).
func TestResourceServerTokenKinds(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	api := kindRoutes(f.rs)
	aud := func(aud ...string) func(map[string]any) { return func(c map[string]any) { c["aud"] = aud } }
	orgScoped := func(id string) func(map[string]any) { return func(c map[string]any) { c["organization_id"] = id } }
	user := f.token(t, nil, nil)
	orgRes1 := f.token(t, nil, orgScoped("org1"))
	org1 := f.token(t, nil, aud(logto.OrganizationURN("org1")))

	for _, tc := range []struct {
		name   string
		token  string
		route  kindRoute
		status int
		err    error // nil, ErrInvalidToken or ErrInsufficientScope
		reason logto.Reason
	}{
		{"user token on a user route", user, userRoute, 200, nil, ""},
		{"user token on an organization route", user, orgRoute("org1"), 403, logto.ErrInsufficientScope, logto.ReasonTokenKind},
		{"user token on an organization-token route", user, kindRoute{logto.OrganizationToken, "org1"}, 401, logto.ErrInvalidToken, logto.ReasonTokenKind},
		{"user token on an organization-resource route", user, kindRoute{logto.OrganizationResourceToken, "org1"}, 403, logto.ErrInsufficientScope, logto.ReasonTokenKind},

		{"organization-scoped resource token on a user route", orgRes1, userRoute, 403, logto.ErrInsufficientScope, logto.ReasonTokenKind},
		{"organization-scoped resource token for its organization", orgRes1, orgRoute("org1"), 200, nil, ""},
		{"organization-scoped resource token for another organization", orgRes1, orgRoute("org2"), 403, logto.ErrInsufficientScope, logto.ReasonOrganization},
		{"organization-scoped resource token on an organization-token route", orgRes1, kindRoute{logto.OrganizationToken, "org1"}, 401, logto.ErrInvalidToken, logto.ReasonTokenKind},
		{"organization-scoped resource token on an organization-resource route", orgRes1, kindRoute{logto.OrganizationResourceToken, "org1"}, 200, nil, ""},

		{"organization token on a user route", org1, userRoute, 401, logto.ErrInvalidToken, logto.ReasonTokenKind},
		{"organization token for its organization", org1, orgRoute("org1"), 200, nil, ""},
		{"organization token for another organization", org1, orgRoute("org2"), 403, logto.ErrInsufficientScope, logto.ReasonOrganization},
		{"organization token on an organization-token route", org1, kindRoute{logto.OrganizationToken, "org1"}, 200, nil, ""},
		{"organization token on an organization-resource route", org1, kindRoute{logto.OrganizationResourceToken, "org1"}, 401, logto.ErrInvalidToken, logto.ReasonTokenKind},
		{"organization token without the scope", f.token(t, nil, func(c map[string]any) {
			c["aud"], c["scope"] = logto.OrganizationURN("org1"), "write:items"
		}), orgRoute("org1"), 403, nil, logto.ReasonScope},

		{"organization token, request names no organization", org1, orgRoute(""), 403, logto.ErrInsufficientScope, logto.ReasonOrganization},
		{"organization-scoped resource token, request names no organization", orgRes1, orgRoute(""), 403, logto.ErrInsufficientScope, logto.ReasonOrganization},
		{"empty organization_id claim is a user token", f.token(t, nil, orgScoped("")), orgRoute(""), 403, logto.ErrInsufficientScope, logto.ReasonTokenKind},
		{"organization URN without an ID", f.token(t, nil, aud(logto.OrganizationURNPrefix)), orgRoute(""), 401, logto.ErrInvalidToken, logto.ReasonAudience},

		{"API and organization audiences", f.token(t, nil, aud(apiResource, logto.OrganizationURN("org1"))), orgRoute("org1"), 401, logto.ErrInvalidToken, logto.ReasonAudience},
		{"API and organization audiences on a user route", f.token(t, nil, aud(apiResource, logto.OrganizationURN("org1"))), userRoute, 401, logto.ErrInvalidToken, logto.ReasonAudience},
		{"two organization audiences", f.token(t, nil, aud(logto.OrganizationURN("org1"), logto.OrganizationURN("org2"))), orgRoute("org1"), 401, logto.ErrInvalidToken, logto.ReasonAudience},
		{"organization token naming another organization_id", f.token(t, nil, func(c map[string]any) {
			c["aud"], c["organization_id"] = logto.OrganizationURN("org1"), "org2"
		}), orgRoute("org2"), 401, logto.ErrInvalidToken, logto.ReasonAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.route.path(), nil)
			r.Header.Set("Authorization", "Bearer "+tc.token)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("GET %s: status %d, want %d: %s", tc.route.path(), w.Code, tc.status, w.Body)
			}
			chal := w.Header().Get("WWW-Authenticate")
			var body struct{ Error string }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			switch tc.status {
			case 200:
				if !strings.HasPrefix(w.Body.String(), "ok ") {
					t.Fatalf("body %q", w.Body)
				}
			case 401:
				if !strings.Contains(chal, `error="invalid_token"`) || body.Error != "invalid_token" {
					t.Fatalf("WWW-Authenticate %q, body %s", chal, w.Body)
				}
			case 403:
				if !strings.Contains(chal, `error="insufficient_scope"`) || !strings.Contains(chal, `scope="read:items"`) || body.Error != "insufficient_scope" {
					t.Fatalf("WWW-Authenticate %q, body %s", chal, w.Body)
				}
			}

			var err error
			if tc.route.kinds == 0 {
				_, err = f.rs.Verify(t.Context(), tc.token)
			} else {
				_, err = f.rs.VerifyOrganization(t.Context(), tc.token, tc.route.org, tc.route.kinds)
			}
			var te *logto.TokenError
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("Verify: %v, want no error", err)
			case tc.err != nil && (!errors.Is(err, tc.err) || !errors.As(err, &te) || te.Reason != tc.reason):
				t.Fatalf("Verify: %v, want %v with reason %q", err, tc.err, tc.reason)
			}
		})
	}
	// Refusing a kind is decided on the verified claims: one discovery and
	// one key set fetch for the whole table.
	if d, k := f.op.CountRequests("/oidc/.well-known/openid-configuration"), f.op.CountRequests("/oidc/jwks"); d != 1 || k != 1 {
		t.Fatalf("provider saw %d discovery and %d JWKS requests, want 1 and 1", d, k)
	}
}

// TestResourceServerTokenKindsWithRealTokens: tokens from the SDK's own
// flows against logtotest (a user token, an organization token and an
// organization-scoped resource token for org1) are accepted exactly where
// their kind and organization are named.
func TestResourceServerTokenKindsWithRealTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI(), withOrganizations("org1"))
	b := h.browser()
	h.signIn(b, "")
	get := func(query string) string {
		t.Helper()
		r := h.tokenGet(b, query)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/api/token?%s: %d (%v)", query, r.StatusCode, h.lastError())
		}
		return r.body
	}
	user := get("resource=" + url.QueryEscape(apiResource))
	org := get("org=org1")
	orgRes := get("org=org1&resource=" + url.QueryEscape(apiResource))
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: h.op.URL(), Audience: apiResource})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		token string
		want  logto.TokenKind
	}{{"user token", user, logto.UserToken}, {"organization token", org, logto.OrganizationToken}, {"organization-scoped resource token", orgRes, logto.OrganizationResourceToken}} {
		c, err := logto.InsecureDecodeAccessTokenClaims(tc.token)
		if got := c.Kind(apiResource); err != nil || got != tc.want {
			t.Fatalf("%s: Kind = %v (%v), want %v", tc.name, got, err, tc.want)
		}
	}
	if c, err := rs.Verify(t.Context(), user); err != nil || c.Sub == "" {
		t.Fatalf("Verify(user token): %v", err)
	}
	if _, err := rs.Verify(t.Context(), orgRes); !errors.Is(err, logto.ErrInsufficientScope) {
		t.Fatalf("Verify(organization-scoped resource token): %v, want ErrInsufficientScope", err)
	}
	if _, err := rs.Verify(t.Context(), org); !errors.Is(err, logto.ErrInvalidToken) {
		t.Fatalf("Verify(organization token): %v, want ErrInvalidToken", err)
	}
	if c, err := rs.VerifyOrganization(t.Context(), orgRes, "org1", logto.OrganizationResourceToken); err != nil || c.OrganizationID != "org1" {
		t.Fatalf("VerifyOrganization(organization-scoped resource token, org1): %+v, %v", c, err)
	}
	if c, err := rs.VerifyOrganization(t.Context(), org, "org1", both); err != nil {
		t.Fatalf("VerifyOrganization(organization token, org1): %+v, %v", c, err)
	}
	var te *logto.TokenError
	if _, err := rs.VerifyOrganization(t.Context(), orgRes, "org2", both); !errors.As(err, &te) || te.Reason != logto.ReasonOrganization {
		t.Fatalf("VerifyOrganization(org1's token, org2): %v", err)
	}
	if _, err := rs.VerifyOrganization(t.Context(), org, "org1", logto.OrganizationResourceToken); !errors.Is(err, logto.ErrInvalidToken) || !errors.As(err, &te) || te.Reason != logto.ReasonTokenKind {
		t.Fatalf("VerifyOrganization(organization token, resource tokens only): %v", err)
	}
}

// TestResourceServerAuthorizationHeaderBound: an Authorization header over
// 8 KiB (or a token as large given to Verify) is refused with 401
// invalid_token before any provider request; at the bound it is processed.
func TestResourceServerAuthorizationHeaderBound(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	api := kindRoutes(f.rs)
	const bound = 8 << 10
	big := "Bearer " + strings.Repeat("a", bound-len("Bearer "))
	for _, path := range []string{"/items", "/orgs/org1/items"} {
		for _, header := range []string{big + "a", "Bearer " + strings.Repeat("a", 64<<10)} {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			r.Header.Set("Authorization", header)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(w.Body.String(), "too large") {
				t.Fatalf("GET %s with a %d-byte header: %d %q %s", path, len(header), w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
			}
		}
	}
	var te *logto.TokenError
	if _, err := f.rs.Verify(t.Context(), strings.Repeat("a", bound+1)); !errors.Is(err, logto.ErrInvalidToken) || !errors.As(err, &te) || te.Reason != logto.ReasonTokenTooLarge {
		t.Fatalf("Verify(oversized): %v", err)
	}
	if _, err := f.rs.VerifyOrganization(t.Context(), strings.Repeat("a", bound+1), "org1", both); !errors.As(err, &te) || te.Reason != logto.ReasonTokenTooLarge {
		t.Fatalf("VerifyOrganization(oversized): %v", err)
	}
	if n := len(f.op.Requests()); n != 0 {
		t.Fatalf("provider saw %d requests for oversized tokens, want 0", n)
	}

	// At the bound the header is read and the token verified (and refused
	// as malformed): the bound is not off by one.
	r := httptest.NewRequest(http.MethodGet, "/items", nil)
	r.Header.Set("Authorization", big)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "too large") {
		t.Fatalf("header at the bound: %d %s", w.Code, w.Body)
	}
	if _, err := f.rs.Verify(t.Context(), strings.Repeat("a", bound)); !errors.As(err, &te) || te.Reason != logto.ReasonSignature {
		t.Fatalf("Verify(at the bound): %v, want reason %q", err, logto.ReasonSignature)
	}
}

func TestOrganizationMiddlewareMisuse(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	pathOrg := func(r *http.Request) string { return r.PathValue("id") }
	for name, build := range map[string]func(){
		"nil organizationID": func() { f.rs.OrganizationMiddleware(nil, both) },
		"no kinds":           func() { f.rs.OrganizationMiddleware(pathOrg, 0) },
		"user tokens":        func() { f.rs.OrganizationMiddleware(pathOrg, logto.UserToken) },
		"user and organization tokens": func() {
			f.rs.OrganizationMiddleware(pathOrg, logto.UserToken|logto.OrganizationToken)
		},
		"unknown kind": func() { f.rs.OrganizationMiddleware(pathOrg, 1<<7) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			build()
		}()
	}
	// VerifyOrganization cannot panic in a request: it refuses every token.
	tok := f.token(t, nil, func(c map[string]any) { c["organization_id"] = "org1" })
	for _, kinds := range []logto.TokenKind{0, logto.UserToken, logto.UserToken | logto.OrganizationResourceToken} {
		var te *logto.TokenError
		if _, err := f.rs.VerifyOrganization(t.Context(), tok, "org1", kinds); !errors.As(err, &te) || te.Reason != logto.ReasonTokenKind {
			t.Errorf("VerifyOrganization(kinds %v): %v", kinds, err)
		}
	}
	if _, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: f.op.URL(), Audience: logto.OrganizationURN("org1")}); !errors.Is(err, logto.ErrInvalidConfig) {
		t.Errorf("organization URN as Audience: %v", err)
	}
}

// TestResourceServerAllowOrganizationTokensIgnored: the deprecated field no
// longer lets organization tokens through user routes, and says so in the log.
func TestResourceServerAllowOrganizationTokensIgnored(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	var logs syncBuffer
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint: f.op.URL(), Audience: apiResource, Now: f.clock.Now,
		AllowOrganizationTokens: true, //nolint:staticcheck // the deprecated field under test
		Logger:                  slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "AllowOrganizationTokens is deprecated") {
		t.Errorf("no deprecation warning in %q", logs.String())
	}
	for name, edit := range map[string]func(map[string]any){
		"organization token":                 func(c map[string]any) { c["aud"] = logto.OrganizationURN("org1") },
		"organization-scoped resource token": func(c map[string]any) { c["organization_id"] = "org1" },
	} {
		if _, err := rs.Verify(t.Context(), f.token(t, nil, edit)); err == nil {
			t.Errorf("%s accepted by Verify", name)
		}
		r := httptest.NewRequest(http.MethodGet, "/items", nil)
		r.Header.Set("Authorization", "Bearer "+f.token(t, nil, edit))
		w := httptest.NewRecorder()
		rs.Middleware()(http.NotFoundHandler()).ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Errorf("%s on a user route: %d", name, w.Code)
		}
	}
}

func TestAccessTokenClaimsKind(t *testing.T) {
	t.Parallel()
	urn := logto.OrganizationURN
	for _, tc := range []struct {
		claims logto.AccessTokenClaims
		want   logto.TokenKind
	}{
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource}}, logto.UserToken},
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource, "https://other.example.com"}}, logto.UserToken},
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource}, OrganizationID: "o1"}, logto.OrganizationResourceToken},
		{logto.AccessTokenClaims{Aud: logto.Audience{urn("o1")}}, logto.OrganizationToken},
		{logto.AccessTokenClaims{Aud: logto.Audience{urn("o1")}, OrganizationID: "o1"}, logto.OrganizationToken},
		{logto.AccessTokenClaims{Aud: logto.Audience{urn("o1")}, OrganizationID: "o2"}, 0},
		{logto.AccessTokenClaims{Aud: logto.Audience{urn("o1"), urn("o2")}}, 0},
		{logto.AccessTokenClaims{Aud: logto.Audience{apiResource, urn("o1")}}, 0},
		{logto.AccessTokenClaims{Aud: logto.Audience{logto.OrganizationURNPrefix}}, 0},
		{logto.AccessTokenClaims{Aud: logto.Audience{"https://other.example.com"}}, 0},
		{logto.AccessTokenClaims{}, 0},
	} {
		if got := tc.claims.Kind(apiResource); got != tc.want {
			t.Errorf("Kind(%+v) = %v, want %v", tc.claims, got, tc.want)
		}
	}
	if got := (logto.AccessTokenClaims{Aud: logto.Audience{""}}).Kind(""); got != 0 {
		t.Errorf("Kind with an empty audience = %v, want none", got)
	}
	for k, want := range map[logto.TokenKind]string{
		0: "none", logto.UserToken: "user token", both: "organization token|organization-scoped resource token", 1 << 7: "unknown",
	} {
		if got := k.String(); got != want {
			t.Errorf("TokenKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
