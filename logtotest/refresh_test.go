package logtotest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/logto-go/logto/logtotest"
)

func orgSetup(t *testing.T, opts ...logtotest.Option) (*logtotest.Server, map[string]any) {
	u := logtotest.DefaultUser()
	u.Organizations = []string{"org1"}
	opts = append([]logtotest.Option{
		logtotest.WithUsers(u),
		logtotest.WithResources(
			logtotest.Resource{Indicator: "https://api.probe.local", Scopes: []string{"read:probe"}},
			logtotest.Resource{Indicator: logtotest.ReservedOrganizationResource, Scopes: []string{"read:org"}},
		),
	}, opts...)
	srv := logtotest.NewServer(t, opts...)
	q := authParams()
	q.Set("scope", "openid offline_access profile email phone urn:logto:scope:organizations read:probe read:org")
	q.Set("resource", "https://api.probe.local,"+logtotest.ReservedOrganizationResource)
	return srv, exchange(t, srv, q)
}

func TestRefreshNoResourceNotRotated(t *testing.T) {
	t.Parallel()
	srv, tok := orgSetup(t)
	rt := tok["refresh_token"].(string)
	for i := 0; i < 2; i++ { // confidential: not rotated, reuse keeps working
		res := refresh(t, srv, rt, nil)
		if res.status != 200 {
			t.Fatalf("refresh %d: %d %s", i, res.status, res.body)
		}
		if res.json["refresh_token"] != rt {
			t.Errorf("confidential refresh token rotated")
		}
		if res.json["scope"] != "openid offline_access profile email phone urn:logto:scope:organizations" {
			t.Errorf("scope %q", res.json["scope"])
		}
		if at := res.json["access_token"].(string); len(at) != 43 {
			t.Errorf("access token %q not opaque", at)
		}
		_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
		if claims["nonce"] != "nonce-1" || claims["sub"] != logtotest.DefaultUserID || claims["aud"] != logtotest.DefaultAppID {
			t.Errorf("refreshed ID token %v", claims)
		}
	}
	// Narrowing scope drops claims and can drop the ID token.
	res := refresh(t, srv, rt, url.Values{"scope": {"openid email"}})
	_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
	if _, ok := claims["name"]; ok || claims["email"] == nil || res.json["scope"] != "openid email" {
		t.Errorf("narrowed: %v %v", res.json["scope"], claims)
	}
	res = refresh(t, srv, rt, url.Values{"scope": {"openid admin"}})
	wantError(t, res, 400, "invalid_scope", "refresh token missing requested scope(s)")
	if res.json["scope"] != "admin" {
		t.Errorf("invalid_scope body %s", res.body)
	}
}

func TestRefreshResourceToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	srv, tok := orgSetup(t, logtotest.WithClock(c.Now))
	res := refresh(t, srv, tok["refresh_token"].(string), url.Values{"resource": {"https://api.probe.local"}})
	if res.status != 200 || res.json["scope"] != "read:probe" || res.json["id_token"] == nil || res.json["refresh_token"] == nil {
		t.Fatalf("%d %s", res.status, res.body)
	}
	header, claims := verifyJWT(t, srv, res.json["access_token"].(string))
	want := readJSONFile(t, "testdata/password-access_token.resource.decoded.json")
	if !reflect.DeepEqual(shape(header), shape(want["header"].(map[string]any))) || header["typ"] != "at+jwt" {
		t.Errorf("header %v", header)
	}
	if !reflect.DeepEqual(shape(claims), shape(want["claims"].(map[string]any))) {
		t.Errorf("claims %v, want shape of %v", claims, want["claims"])
	}
	now := float64(c.Now().Unix())
	if claims["aud"] != "https://api.probe.local" || claims["client_id"] != logtotest.DefaultAppID ||
		claims["iss"] != srv.Issuer() || claims["iat"] != now || claims["exp"] != now+3600 || len(claims["jti"].(string)) < 20 {
		t.Errorf("claims %v", claims)
	}
	wantError(t, refresh(t, srv, tok["refresh_token"].(string), url.Values{"resource": {"https://unknown.local"}}),
		400, "invalid_target", "resource indicator is missing, or unknown")
	wantError(t, refresh(t, srv, tok["refresh_token"].(string), url.Values{"resource": {"https://api.probe.local", "https://x"}}),
		400, "invalid_target", "")
}

func TestRefreshOrganizationToken(t *testing.T) {
	t.Parallel()
	srv, tok := orgSetup(t)
	rt := tok["refresh_token"].(string)

	res := refresh(t, srv, rt, url.Values{"organization_id": {"org1"}})
	if res.status != 200 || res.json["scope"] != "read:org" || res.json["id_token"] == nil {
		t.Fatalf("%d %s", res.status, res.body)
	}
	_, claims := verifyJWT(t, srv, res.json["access_token"].(string))
	if claims["aud"] != "urn:logto:organization:org1" || claims["scope"] != "read:org" || claims["organization_id"] != nil {
		t.Errorf("organization token claims %v", claims)
	}

	res = refresh(t, srv, rt, url.Values{"organization_id": {"org1"}, "resource": {"https://api.probe.local"}})
	_, claims = verifyJWT(t, srv, res.json["access_token"].(string))
	if claims["aud"] != "https://api.probe.local" || claims["organization_id"] != "org1" {
		t.Errorf("organization API resource token claims %v", claims)
	}

	res = refresh(t, srv, rt, url.Values{"organization_id": {"org2"}})
	wantError(t, res, http.StatusForbidden, "access_denied", "user is not a member of the organization")

	// Without the organizations scope: 403 insufficient_scope.
	u := logtotest.DefaultUser()
	u.Organizations = []string{"org1"}
	srv2 := logtotest.NewServer(t, logtotest.WithUsers(u))
	tok2 := exchange(t, srv2, authParams())
	res = refresh(t, srv2, tok2["refresh_token"].(string), url.Values{"organization_id": {"org1"}})
	wantError(t, res, http.StatusForbidden, "insufficient_scope", "refresh token missing required scope")
	if res.json["scope"] != "urn:logto:scope:organizations" {
		t.Errorf("body %s", res.body)
	}
}

func TestRefreshPublicClientRotation(t *testing.T) {
	t.Parallel()
	c := newClock()
	spa := logtotest.App{ID: "publicspaapp000000001", Public: true, RedirectURIs: []string{"http://localhost:3000/spa"}}
	srv := logtotest.NewServer(t, logtotest.WithClock(c.Now), logtotest.WithApps(spa))
	q := authParams()
	q.Set("client_id", spa.ID)
	q.Del("redirect_uri") // a single registered URI may be omitted
	cb, _ := signIn(t, srv, q)
	res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {spa.ID},
		"code": {cb.Get("code")}, "code_verifier": {testVerifier}})
	if res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	rt0 := res.json["refresh_token"].(string)
	pubRefresh := func(rt string) response {
		return postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {spa.ID}, "refresh_token": {rt}})
	}
	res = pubRefresh(rt0)
	rt1, _ := res.json["refresh_token"].(string)
	if res.status != 200 || rt1 == "" || rt1 == rt0 {
		t.Fatalf("public refresh not rotated: %d %s", res.status, res.body)
	}
	c.Advance(2 * time.Second)
	if res = pubRefresh(rt0); res.status != 200 { // within the 3 s grace
		t.Fatalf("replay within grace: %d %s", res.status, res.body)
	}
	c.Advance(2 * time.Second)
	wantError(t, pubRefresh(rt0), 400, "invalid_grant", "grant request is invalid")
	// The whole grant is revoked.
	wantError(t, pubRefresh(rt1), 400, "invalid_grant", "")
}

func TestRefreshExpiryAndConfidentialRotation(t *testing.T) {
	t.Parallel()
	c := newClock()
	srv := logtotest.NewServer(t, logtotest.WithClock(c.Now))
	tok := exchange(t, srv, authParams())
	rt := tok["refresh_token"].(string)
	c.Advance(10 * 24 * time.Hour) // > 70 % of 14 days: rotated
	res := refresh(t, srv, rt, nil)
	if res.status != 200 || res.json["refresh_token"] == rt {
		t.Fatalf("not rotated after 70%%: %d %s", res.status, res.body)
	}
	rt2 := res.json["refresh_token"].(string)
	c.Advance(13 * 24 * time.Hour)
	if res := refresh(t, srv, rt2, nil); res.status != 200 {
		t.Fatalf("rotated token lives 14 days: %d", res.status)
	}
	c.Advance(2 * 24 * time.Hour)
	wantError(t, refresh(t, srv, rt2, nil), 400, "invalid_grant", "")
	wantError(t, refresh(t, srv, "", nil), 400, "invalid_request", "missing required parameter 'refresh_token'")
}
