package logtotest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/logtotest"
)

const (
	rolesAPI = "https://api.probe.local"
	orgScope = "urn:logto:scope:organizations"
)

// Users of the role-model fixture, selected with login_hint = username.
var (
	alice = logtotest.User{ID: "aliceuser001", Username: "alice", Roles: []string{"reader"},
		Organizations: []string{"org1"}, OrganizationRoles: []string{"org1:member"}}
	bob   = logtotest.User{ID: "bobuser00001", Username: "bob"}
	carol = logtotest.User{ID: "caroluser001", Username: "carol", Roles: []string{"writer", "unknown-role"},
		Organizations: []string{"org1", "org2", "orgx"}, OrganizationRoles: []string{"org1:admin", "org2:member", "org3:member"}}
	// dave claims an org1 role without being a member.
	dave = logtotest.User{ID: "daveuser0001", Username: "dave", OrganizationRoles: []string{"org1:admin"}}
)

var userIDs = map[string]any{"alice": alice.ID, "bob": bob.ID, "carol": carol.ID, "dave": dave.ID}

// roleServer starts a provider with global roles, organizations and
// organization roles (the role model).
func roleServer(t *testing.T, opts ...logtotest.Option) *logtotest.Server {
	t.Helper()
	opts = append([]logtotest.Option{
		logtotest.WithUsers(alice, bob, carol, dave),
		logtotest.WithResources(logtotest.Resource{Indicator: rolesAPI, Scopes: []string{"read:probe", "write:probe", "admin:probe"}}),
		logtotest.WithRoles(
			logtotest.Role{Name: "reader", Scopes: map[string][]string{rolesAPI: {"read:probe"}}},
			logtotest.Role{Name: "writer", Scopes: map[string][]string{rolesAPI: {"read:probe", "write:probe", "not:defined"}}},
		),
		logtotest.WithOrganizations(
			logtotest.Organization{ID: "org1", Name: "Org One", Description: "the first", Roles: []logtotest.OrganizationRole{
				{Name: "member", Scopes: []string{"read:org"}, ResourceScopes: map[string][]string{rolesAPI: {"admin:probe"}}},
				{Name: "admin", Scopes: []string{"read:org", "write:org"}},
			}},
			logtotest.Organization{ID: "org2", Name: "Org Two", Roles: []logtotest.OrganizationRole{
				{Name: "member", Scopes: []string{"read:org"}, ResourceScopes: map[string][]string{rolesAPI: {"write:probe"}}},
			}},
		),
	}, opts...)
	return logtotest.NewServer(t, opts...)
}

// signInAs signs user in with scope and resources (comma-separated) and
// exchanges the code without a resource.
func signInAs(t *testing.T, srv *logtotest.Server, user, scope, resources string) map[string]any {
	t.Helper()
	q := authParams()
	q.Set("login_hint", user)
	q.Set("scope", scope)
	if resources != "" {
		q.Set("resource", resources)
	}
	return exchange(t, srv, q)
}

// jwtScope returns the scope claim of a JWT access token, and whether it is
// present.
func jwtScope(t *testing.T, srv *logtotest.Server, token string) (string, map[string]any, bool) {
	t.Helper()
	_, claims := verifyJWT(t, srv, token)
	s, ok := claims["scope"].(string)
	return s, claims, ok
}

func TestRoleBasedResourceScopes(t *testing.T) {
	t.Parallel()
	srv := roleServer(t)
	legacy := logtotest.NewServer(t, logtotest.WithUsers(bob),
		logtotest.WithResources(logtotest.Resource{Indicator: rolesAPI, Scopes: []string{"read:probe", "write:probe"}}))
	const base = "openid offline_access "
	for _, tc := range []struct {
		name, user, scope string
		legacy            bool
		want              string
	}{
		{"global role grants its scopes", "alice", base + "read:probe write:probe", false, "read:probe"},
		{"no role, no scopes", "bob", base + "read:probe write:probe admin:probe", false, ""},
		{"union of roles in request order", "carol", base + "write:probe admin:probe read:probe", false, "write:probe read:probe"},
		{"requested-scope intersection", "carol", base + "write:probe", false, "write:probe"},
		{"organization role resource scopes are inherited", "alice", base + "admin:probe read:probe", false, "admin:probe read:probe"},
		{"membership required for org-role scopes", "dave", base + "read:probe write:probe admin:probe", false, ""},
		{"no roles configured: every scope", "bob", base + "write:probe read:probe unknown", true, "write:probe read:probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := srv
			if tc.legacy {
				s = legacy
			}
			tok := signInAs(t, s, tc.user, tc.scope, rolesAPI)
			res := refresh(t, s, tok["refresh_token"].(string), url.Values{"resource": {rolesAPI}})
			if res.status != http.StatusOK || res.json["scope"] != tc.want {
				t.Fatalf("scope %q, want %q (%d %s)", res.json["scope"], tc.want, res.status, res.body)
			}
			got, claims, ok := jwtScope(t, s, res.json["access_token"].(string))
			if got != tc.want || ok != (tc.want != "") || claims["aud"] != rolesAPI || claims["organization_id"] != nil {
				t.Errorf("claims %v, want scope %q", claims, tc.want)
			}
		})
	}
}

func TestRoleScopesAtCodeExchangeAndReevaluation(t *testing.T) {
	t.Parallel()
	srv := roleServer(t)
	q := authParams()
	q.Set("login_hint", "alice")
	q.Set("scope", "openid offline_access read:probe write:probe")
	q.Set("resource", rolesAPI)
	cb, _ := signIn(t, srv, q)
	res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"code_verifier": {testVerifier}, "resource": {rolesAPI}}, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
	if res.status != 200 || res.json["scope"] != "read:probe" {
		t.Fatalf("code exchange with resource: %d %s", res.status, res.body)
	}
	// Roles are re-evaluated at every refresh.
	srv.AddRole(logtotest.Role{Name: "reader"})
	res = refresh(t, srv, res.json["refresh_token"].(string), url.Values{"resource": {rolesAPI}})
	if res.status != 200 || res.json["scope"] != "" {
		t.Fatalf("after removing the role's scopes: %d %s", res.status, res.body)
	}
	if _, claims, ok := jwtScope(t, srv, res.json["access_token"].(string)); ok {
		t.Errorf("scope claim present: %v", claims)
	}
}

func TestRoleModelRefreshScopeParameter(t *testing.T) {
	t.Parallel()
	srv := roleServer(t)
	tok := signInAs(t, srv, "carol", "openid offline_access profile read:probe write:probe admin:probe", rolesAPI)
	rt := tok["refresh_token"].(string)
	for _, tc := range []struct {
		name, resource, scope string
		status                int
		want                  string // scope, or invalid_scope's scope field
	}{
		{"narrowed to one", rolesAPI, "write:probe", 200, "write:probe"},
		{"narrowed to OIDC scopes only", rolesAPI, "openid", 200, ""},
		{"opaque token narrowed", "", "openid profile", 200, "openid profile"},
		{"scope the user lacked at sign-in", rolesAPI, "read:probe admin:probe", 400, "admin:probe"},
		{"scope never requested", "", "openid email", 400, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			extra := url.Values{"scope": {tc.scope}}
			if tc.resource != "" {
				extra.Set("resource", tc.resource)
			}
			res := refresh(t, srv, rt, extra)
			if tc.status != 200 {
				wantError(t, res, tc.status, "invalid_scope", "refresh token missing requested scope(s)")
				if res.json["scope"] != tc.want {
					t.Errorf("invalid_scope scope %v, want %q", res.json["scope"], tc.want)
				}
				return
			}
			if res.status != 200 || res.json["scope"] != tc.want {
				t.Fatalf("scope %q, want %q (%d %s)", res.json["scope"], tc.want, res.status, res.body)
			}
		})
	}
}

func TestOrganizationTokensWithRoles(t *testing.T) {
	t.Parallel()
	srv := roleServer(t)
	const signIn = "openid offline_access " + orgScope + " read:org write:org read:probe write:probe admin:probe"
	type tokenCase struct {
		name, user, scope, resources string
		orgID, resource, param       string // token request
		status                       int
		errCode, errDesc             string
		want                         string // scope
	}
	withOrgResource := rolesAPI + "," + logtotest.ReservedOrganizationResource
	for _, tc := range []tokenCase{
		{name: "member role scopes", user: "alice", scope: signIn, resources: withOrgResource, orgID: "org1", status: 200, want: "read:org"},
		{name: "admin role scopes", user: "carol", scope: signIn, resources: withOrgResource, orgID: "org1", status: 200, want: "read:org write:org"},
		{name: "other organization", user: "carol", scope: signIn, resources: withOrgResource, orgID: "org2", status: 200, want: "read:org"},
		{name: "member of an unconfigured organization", user: "carol", scope: signIn, resources: withOrgResource, orgID: "orgx", status: 200, want: ""},
		{name: "scope parameter narrows", user: "carol", scope: signIn, resources: withOrgResource, orgID: "org1", param: "write:org", status: 200, want: "write:org"},
		{name: "scope the role lacks", user: "alice", scope: signIn, resources: withOrgResource, orgID: "org1", param: "write:org", status: 200, want: ""},
		{name: "only requested organization scopes", user: "carol", scope: "openid offline_access " + orgScope + " write:org", resources: withOrgResource, orgID: "org1", status: 200, want: "write:org"},
		{name: "no organization resource at sign-in", user: "carol", scope: signIn, resources: rolesAPI, orgID: "org1", status: 200, want: ""},
		{name: "organization resource token", user: "alice", scope: signIn, resources: withOrgResource, orgID: "org1", resource: rolesAPI, status: 200, want: "admin:probe"},
		{name: "organization resource token, other org's role", user: "carol", scope: signIn, resources: withOrgResource, orgID: "org2", resource: rolesAPI, status: 200, want: "write:probe"},
		{name: "organization resource token, role without resource scopes", user: "carol", scope: signIn, resources: withOrgResource, orgID: "org1", resource: rolesAPI, status: 200, want: ""},
		{name: "non-member", user: "alice", scope: signIn, resources: withOrgResource, orgID: "org2", status: 403, errCode: "access_denied", errDesc: "user is not a member of the organization"},
		{name: "unknown organization", user: "alice", scope: signIn, resources: withOrgResource, orgID: "nope", status: 403, errCode: "access_denied", errDesc: "user is not a member of the organization"},
		{name: "role without membership", user: "dave", scope: signIn, resources: withOrgResource, orgID: "org1", status: 403, errCode: "access_denied", errDesc: "user is not a member of the organization"},
		{name: "non-member resource token", user: "alice", scope: signIn, resources: withOrgResource, orgID: "org2", resource: rolesAPI, status: 403, errCode: "access_denied", errDesc: "user is not a member of the organization"},
		{name: "missing organizations scope", user: "alice", scope: "openid offline_access read:org", resources: withOrgResource, orgID: "org1", status: 403, errCode: "insufficient_scope", errDesc: "refresh token missing required scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := signInAs(t, srv, tc.user, tc.scope, tc.resources)
			extra := url.Values{"organization_id": {tc.orgID}}
			if tc.resource != "" {
				extra.Set("resource", tc.resource)
			}
			if tc.param != "" {
				extra.Set("scope", tc.param)
			}
			res := refresh(t, srv, tok["refresh_token"].(string), extra)
			if tc.status != 200 {
				wantError(t, res, tc.status, tc.errCode, tc.errDesc)
				if tc.errCode == "insufficient_scope" && res.json["scope"] != orgScope {
					t.Errorf("insufficient_scope scope %v", res.json["scope"])
				}
				return
			}
			if res.status != 200 || res.json["scope"] != tc.want || (res.json["id_token"] == nil) != (tc.param != "") || res.json["refresh_token"] == nil {
				t.Fatalf("scope %q, want %q (%d %s)", res.json["scope"], tc.want, res.status, res.body)
			}
			got, claims, ok := jwtScope(t, srv, res.json["access_token"].(string))
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("scope claim %q (present %v), want %q", got, ok, tc.want)
			}
			wantAud, wantOrg := "urn:logto:organization:"+tc.orgID, any(nil)
			if tc.resource != "" {
				wantAud, wantOrg = tc.resource, tc.orgID
			}
			if claims["aud"] != wantAud || claims["organization_id"] != wantOrg || claims["sub"] != userIDs[tc.user] {
				t.Errorf("claims %v, want aud %s organization_id %v", claims, wantAud, wantOrg)
			}
		})
	}
}

func TestOrganizationDataInUserinfo(t *testing.T) {
	t.Parallel()
	srv := roleServer(t)
	for _, tc := range []struct {
		user string
		want []any
	}{
		{"alice", []any{map[string]any{"id": "org1", "name": "Org One", "description": "the first"}}},
		{"carol", []any{
			map[string]any{"id": "org1", "name": "Org One", "description": "the first"},
			map[string]any{"id": "org2", "name": "Org Two", "description": nil},
			map[string]any{"id": "orgx", "name": "orgx", "description": nil},
		}},
		{"bob", []any{}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			t.Parallel()
			tok := signInAs(t, srv, tc.user, "openid "+orgScope, "")
			res := userinfo(t, srv, tok["access_token"].(string))
			if res.status != 200 || !reflect.DeepEqual(res.json["organization_data"], tc.want) {
				t.Errorf("organization_data %v, want %v (%d)", res.json["organization_data"], tc.want, res.status)
			}
			_, claims := verifyJWT(t, srv, tok["id_token"].(string))
			if _, ok := claims["organization_data"]; ok {
				t.Error("organization_data in the ID token")
			}
		})
	}
}

func TestConfidentialRotationAt70Percent(t *testing.T) {
	t.Parallel()
	const seventy = 14 * 24 * time.Hour * 7 / 10 // 9.8 days
	for _, tc := range []struct {
		name    string
		advance time.Duration
		rotated bool
	}{
		{"fresh", 0, false},
		{"9 days", 9 * 24 * time.Hour, false},
		{"just under 70%", seventy - time.Second, false},
		{"exactly 70%", seventy, true},
		{"13 days", 13 * 24 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			srv := logtotest.NewServer(t, logtotest.WithClock(c.Now))
			tok := exchange(t, srv, authParams())
			rt := tok["refresh_token"].(string)
			c.Advance(tc.advance)
			res := refresh(t, srv, rt, nil)
			if res.status != 200 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			next := res.json["refresh_token"].(string)
			if (next != rt) != tc.rotated {
				t.Fatalf("rotated %v, want %v", next != rt, tc.rotated)
			}
			_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
			if claims["nonce"] != "nonce-1" {
				t.Errorf("refreshed ID token nonce %v, want the original", claims["nonce"])
			}
			if !tc.rotated {
				return
			}
			// The consumed token works for 3 s, each time with another
			// new token; after that a replay revokes the whole grant.
			c.Advance(3 * time.Second)
			res = refresh(t, srv, rt, nil)
			if again, _ := res.json["refresh_token"].(string); res.status != 200 || again == rt || again == next || again == "" {
				t.Fatalf("replay within 3 s: %d %s", res.status, res.body)
			}
			c.Advance(time.Millisecond)
			wantError(t, refresh(t, srv, rt, nil), 400, "invalid_grant", "grant request is invalid")
			wantError(t, refresh(t, srv, next, nil), 400, "invalid_grant", "grant request is invalid")
		})
	}
}

func TestPublicRotationGraceAndRevocation(t *testing.T) {
	t.Parallel()
	spa := logtotest.App{ID: "publicspaapp000000002", Public: true, RedirectURIs: []string{"http://localhost:3000/spa"}}
	for _, tc := range []struct {
		name   string
		replay time.Duration // after the first refresh
		ok     bool
	}{
		{"immediate replay", 0, true},
		{"replay at 3 s", 3 * time.Second, true},
		{"replay after 3 s", 3*time.Second + time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			srv := logtotest.NewServer(t, logtotest.WithClock(c.Now), logtotest.WithApps(spa))
			q := authParams()
			q.Set("client_id", spa.ID)
			q.Del("redirect_uri")
			cb, _ := signIn(t, srv, q)
			pub := func(form url.Values) response {
				form.Set("client_id", spa.ID)
				return postForm(t, srv.Issuer()+"/token", form)
			}
			res := pub(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "code_verifier": {testVerifier}})
			rt0 := res.json["refresh_token"].(string)
			c.Advance(time.Minute)
			res = pub(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt0}})
			rt1, _ := res.json["refresh_token"].(string)
			if res.status != 200 || rt1 == "" || rt1 == rt0 {
				t.Fatalf("not rotated on use: %d %s", res.status, res.body)
			}
			_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
			if claims["nonce"] != "nonce-1" {
				t.Errorf("nonce %v", claims["nonce"])
			}
			c.Advance(tc.replay)
			res = pub(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt0}})
			if !tc.ok {
				wantError(t, res, 400, "invalid_grant", "grant request is invalid")
				wantError(t, pub(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}), 400, "invalid_grant", "")
				return
			}
			rt2, _ := res.json["refresh_token"].(string)
			if res.status != 200 || rt2 == "" || rt2 == rt0 || rt2 == rt1 {
				t.Fatalf("replay within grace: %d %s", res.status, res.body)
			}
			// Both new tokens live on.
			for _, rt := range []string{rt1, rt2} {
				if res := pub(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); res.status != 200 {
					t.Fatalf("new token after grace replay: %d %s", res.status, res.body)
				}
			}
		})
	}
}

func TestTokenHooksForRefresh(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	tok := exchange(t, srv, authParams())
	var (
		mu     sync.Mutex
		grants []string
		paths  []string
	)
	srv.SetHooks(logtotest.Hooks{
		Delay: func(path string) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			paths = append(paths, path)
			return 20 * time.Millisecond
		},
		TokenResponseFor: func(grantType string, status *int, body map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			grants = append(grants, grantType)
			if grantType == "refresh_token" {
				*status = http.StatusServiceUnavailable
				delete(body, "id_token")
			}
		},
	})
	start := time.Now()
	res := refresh(t, srv, tok["refresh_token"].(string), nil)
	if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
		t.Errorf("refresh answered after %v, before the delay", elapsed)
	}
	if res.status != http.StatusServiceUnavailable || res.json["id_token"] != nil || res.json["access_token"] == nil {
		t.Errorf("%d %s", res.status, res.body)
	}
	wantError(t, postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}},
		basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret)), 400, "invalid_grant", "")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(grants, ",") != "refresh_token,authorization_code" || strings.Join(paths, ",") != "/oidc/token,/oidc/token" {
		t.Errorf("grants %v paths %v", grants, paths)
	}
}

func TestNewValidatesRolesAndOrganizations(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]logtotest.Options{
		"empty role name": {URL: "http://localhost:3001", Roles: []logtotest.Role{{}}},
		"empty org ID":    {URL: "http://localhost:3001", Organizations: []logtotest.Organization{{Name: "x"}}},
	} {
		if _, err := logtotest.New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
