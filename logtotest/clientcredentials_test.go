package logtotest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

// m2mServer starts the role-model fixture plus machine-to-machine apps:
// "service" holds the global role writer and the org1 role member,
// "lonely" holds nothing.
func m2mServer(t *testing.T, opts ...logtotest.Option) (*logtotest.Server, logtotest.App, logtotest.App) {
	t.Helper()
	service := logtotest.DefaultM2MApp()
	service.Roles = []string{"writer", "unknown-role"}
	service.Organizations = []string{"org1", "org9"}
	service.OrganizationRoles = []string{"org1:member", "org1:admin", "org2:member"}
	lonely := logtotest.App{ID: "lonelym2mapp000000001", Secret: "LonelyM2MSecret00000000000000001", MachineToMachine: true}
	opts = append([]logtotest.Option{logtotest.WithApps(logtotest.DefaultApp(), service, lonely)}, opts...)
	return roleServer(t, opts...), service, lonely
}

func clientCredentials(t *testing.T, srv *logtotest.Server, app logtotest.App, form url.Values) response {
	t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range form {
		f[k] = v
	}
	return postForm(t, srv.Issuer()+"/token", f, basicAuth(app.ID, app.Secret))
}

// TestClientCredentialsResourceToken: the token for an API resource carries
// the requested scopes the app's global roles grant, in the requested
// order, and has the shape of Logto's captured at+jwt with sub = client_id.
func TestClientCredentialsResourceToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	srv, service, _ := m2mServer(t, logtotest.WithClock(c.Now))
	res := clientCredentials(t, srv, service, url.Values{
		"resource": {rolesAPI}, "scope": {"write:probe admin:probe  read:probe write:probe not:defined"},
	})
	if res.status != http.StatusOK {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	wantBody := map[string]string{"expires_in": "number", "access_token": "string", "token_type": "string", "scope": "string"}
	if got := shape(res.json); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("body shape %v, want %v", got, wantBody)
	}
	if res.json["scope"] != "write:probe read:probe" || res.json["token_type"] != "Bearer" || res.json["expires_in"] != 3600.0 {
		t.Errorf("body %s", res.body)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	header, claims := verifyJWT(t, srv, res.json["access_token"].(string))
	want := readJSONFile(t, "testdata/password-access_token.resource.decoded.json")
	if !reflect.DeepEqual(shape(header), shape(want["header"].(map[string]any))) || header["typ"] != "at+jwt" || header["alg"] != "ES384" {
		t.Errorf("header %v", header)
	}
	if !reflect.DeepEqual(shape(claims), shape(want["claims"].(map[string]any))) {
		t.Errorf("claims %v, want the shape of %v", claims, want["claims"])
	}
	now := float64(c.Now().Unix())
	if claims["sub"] != service.ID || claims["client_id"] != service.ID || claims["aud"] != rolesAPI ||
		claims["scope"] != "write:probe read:probe" || claims["iss"] != srv.Issuer() ||
		claims["iat"] != now || claims["exp"] != now+3600 || len(claims["jti"].(string)) < 20 {
		t.Errorf("claims %v", claims)
	}

	// client_secret_post works as well, as in Logto.
	res = postForm(t, srv.Issuer()+"/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {service.ID}, "client_secret": {service.Secret},
		"resource": {rolesAPI}, "scope": {"read:probe"},
	})
	if res.status != http.StatusOK || res.json["scope"] != "read:probe" {
		t.Errorf("client_secret_post: %d %s", res.status, res.body)
	}
}

// TestClientCredentialsNoScopes: without requested scopes, or without a
// role granting them, the token carries none, and neither the body nor the
// token has a scope.
func TestClientCredentialsNoScopes(t *testing.T) {
	t.Parallel()
	srv, service, lonely := m2mServer(t)
	for name, tc := range map[string]struct {
		app  logtotest.App
		form url.Values
	}{
		"none requested":     {service, url.Values{"resource": {rolesAPI}}},
		"no role grants any": {lonely, url.Values{"resource": {rolesAPI}, "scope": {"read:probe"}}},
	} {
		res := clientCredentials(t, srv, tc.app, tc.form)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, res.status, res.body)
		}
		if _, ok := res.json["scope"]; ok {
			t.Errorf("%s: body has a scope: %s", name, res.body)
		}
		if _, claims := verifyJWT(t, srv, res.json["access_token"].(string)); claims["scope"] != nil || claims["aud"] != rolesAPI {
			t.Errorf("%s: claims %v", name, claims)
		}
	}
}

// TestClientCredentialsOrganization: an app associated with an
// organization gets an organization token with the requested permissions
// of its roles there (in the roles' order), or an organization-scoped
// resource token with the organization_id claim; an app that is not gets
// 403 access_denied, checked before the resource.
func TestClientCredentialsOrganization(t *testing.T) {
	t.Parallel()
	srv, service, lonely := m2mServer(t)

	res := clientCredentials(t, srv, service, url.Values{"organization_id": {"org1"}, "scope": {"write:org read:org read:probe"}})
	if res.status != http.StatusOK || res.json["scope"] != "read:org write:org" {
		t.Fatalf("organization token: %d %s", res.status, res.body)
	}
	_, claims := verifyJWT(t, srv, res.json["access_token"].(string))
	if claims["aud"] != "urn:logto:organization:org1" || claims["sub"] != service.ID || claims["scope"] != "read:org write:org" || claims["organization_id"] != nil {
		t.Errorf("organization token claims %v", claims)
	}

	// Nothing requested: "" in the body (Logto's organization branch), no
	// scope claim.
	res = clientCredentials(t, srv, service, url.Values{"organization_id": {"org1"}})
	if s, ok := res.json["scope"]; res.status != http.StatusOK || !ok || s != "" {
		t.Errorf("organization token without scopes: %d %s", res.status, res.body)
	}
	// Associated (org9) but no role there, and no such organization
	// configured: a token without permissions.
	res = clientCredentials(t, srv, service, url.Values{"organization_id": {"org9"}, "scope": {"read:org"}})
	if res.status != http.StatusOK || res.json["scope"] != "" {
		t.Errorf("org9: %d %s", res.status, res.body)
	}

	res = clientCredentials(t, srv, service, url.Values{"organization_id": {"org1"}, "resource": {rolesAPI}, "scope": {"admin:probe write:probe"}})
	if res.status != http.StatusOK || res.json["scope"] != "admin:probe" {
		t.Fatalf("organization resource token: %d %s", res.status, res.body)
	}
	_, claims = verifyJWT(t, srv, res.json["access_token"].(string))
	if claims["aud"] != rolesAPI || claims["organization_id"] != "org1" || claims["scope"] != "admin:probe" {
		t.Errorf("organization resource token claims %v", claims)
	}

	for name, form := range map[string]url.Values{
		"org2, a role but not associated": {"organization_id": {"org2"}},
		"not associated, with a resource": {"organization_id": {"org2"}, "resource": {"https://unknown.local"}},
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, clientCredentials(t, srv, service, form), http.StatusForbidden, "access_denied", "app has not associated with the organization")
		})
	}
	wantError(t, clientCredentials(t, srv, lonely, url.Values{"organization_id": {"org1"}}),
		http.StatusForbidden, "access_denied", "app has not associated with the organization")
}

// TestClientCredentialsErrors: Logto's answers to bad requests.
func TestClientCredentialsErrors(t *testing.T) {
	t.Parallel()
	srv, service, _ := m2mServer(t)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{"neither resource nor organization", url.Values{"scope": {"read:probe"}}, 400, "invalid_target", "both `resource` and `organization_id` are not provided"},
		{"unknown resource", url.Values{"resource": {"https://unknown.local"}}, 400, "invalid_target", "resource indicator is missing, or unknown"},
		{"relative resource", url.Values{"resource": {"api"}}, 400, "invalid_target", "resource indicator must be an absolute URI"},
		{"fragment", url.Values{"resource": {rolesAPI + "#x"}}, 400, "invalid_target", "resource indicator must not contain a fragment component"},
		{"two resources", url.Values{"resource": {rolesAPI, logtotest.ReservedOrganizationResource}}, 400, "invalid_target", "only a single resource indicator value is supported for this grant type"},
		{"duplicate scope", url.Values{"resource": {rolesAPI}, "scope": {"a", "b"}}, 400, "invalid_request", "'scope' parameter must not be provided twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, clientCredentials(t, srv, service, tc.form), tc.status, tc.code, tc.desc)
		})
	}

	t.Run("bad secret", func(t *testing.T) {
		res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"}, "resource": {rolesAPI}},
			basicAuth(service.ID, "wrong-secret"))
		wantError(t, res, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		if strings.Contains(string(res.body), "wrong-secret") {
			t.Errorf("body echoes the secret: %s", res.body)
		}
	})
	t.Run("not a machine-to-machine app", func(t *testing.T) {
		res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"}, "resource": {rolesAPI}},
			basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
		wantError(t, res, http.StatusBadRequest, "invalid_request", "requested grant type is not allowed for this client")
	})
	t.Run("M2M app at the authorization endpoint", func(t *testing.T) {
		p := authParams()
		p.Set("client_id", service.ID)
		p.Del("redirect_uri")
		if res := get(t, srv.Issuer()+"/auth?"+p.Encode()); res.status != http.StatusBadRequest {
			t.Errorf("status %d, body %s", res.status, res.body)
		}
	})
}
