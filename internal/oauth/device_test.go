package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/logto-go/logto/internal/oauth"
)

// TestDeviceAuthorize: a public client posts client_id, scope and resource
// in the form (no Authorization header) and gets the response as sent,
// oidc-provider's shape (no interval); the interval is read when present.
func TestDeviceAuthorize(t *testing.T) {
	t.Parallel()
	e := &endpoint{status: 200, body: `{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://localhost:3001/oidc/device",` +
		`"verification_uri_complete":"http://localhost:3001/oidc/device?user_code=WDJB-MJHT","expires_in":600}`}
	srv := e.serve(t)
	da, err := client(srv, "").DeviceAuthorize(context.Background(), srv.URL, url.Values{"scope": {"openid offline_access"}, "resource": {"https://api"}})
	if err != nil {
		t.Fatal(err)
	}
	want := oauth.DeviceAuthorization{DeviceCode: "dc", UserCode: "WDJB-MJHT", VerificationURI: "http://localhost:3001/oidc/device",
		VerificationURIComplete: "http://localhost:3001/oidc/device?user_code=WDJB-MJHT", ExpiresIn: 600, IssuedAt: 1000}
	if *da != want {
		t.Fatalf("got %+v, want %+v", *da, want)
	}
	if e.last.Header.Get("Authorization") != "" || e.form.Get("client_id") != "app id" || e.form.Get("scope") != "openid offline_access" || e.form.Get("resource") != "https://api" {
		t.Fatalf("request: Authorization %q, form %v", e.last.Header.Get("Authorization"), e.form)
	}

	e.body = `{"device_code":"dc","user_code":"U","verification_uri":"https://x/device","expires_in":"1800","interval":10}`
	if da, err = client(srv, "").DeviceAuthorize(context.Background(), srv.URL, url.Values{}); err != nil || da.Interval != 10 || da.ExpiresIn != 1800 {
		t.Fatalf("with interval: %+v, %v", da, err)
	}
}

// TestDeviceAuthorizeRejects: unusable responses are KindInvalidJSON
// errors of stage device_authorization that echo nothing of the body; an
// OAuth error is classified like the token endpoint's.
func TestDeviceAuthorizeRejects(t *testing.T) {
	t.Parallel()
	const ok = `"device_code":"secretdc","user_code":"ABCD-EFGH","verification_uri":"https://x/device"`
	for _, tc := range []struct{ name, body string }{
		{"not JSON", `oops`},
		{"no device_code", `{"user_code":"A","verification_uri":"https://x/device","expires_in":600}`},
		{"no user_code", `{"device_code":"secretdc","verification_uri":"https://x/device","expires_in":600}`},
		{"no verification_uri", `{"device_code":"secretdc","user_code":"A","expires_in":600}`},
		{"no expires_in", `{` + ok + `}`},
		{"expires_in 0", `{` + ok + `,"expires_in":0}`},
		{"expires_in negative", `{` + ok + `,"expires_in":-1}`},
		{"interval string", `{` + ok + `,"expires_in":600,"interval":"soon"}`},
		{"javascript URI", `{"device_code":"secretdc","user_code":"A","verification_uri":"javascript:alert(1)","expires_in":600}`},
		{"bad complete URI", `{` + ok + `,"verification_uri_complete":"data:x","expires_in":600}`},
		{"user_code with a newline", `{"device_code":"secretdc","user_code":"A\nB","verification_uri":"https://x/device","expires_in":600}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &endpoint{status: 200, body: tc.body}
			srv := e.serve(t)
			_, err := client(srv, "").DeviceAuthorize(context.Background(), srv.URL, url.Values{})
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Kind != oauth.KindInvalidJSON || oe.Stage != "device_authorization" {
				t.Fatalf("err = %v, want invalid_json of stage device_authorization", err)
			}
			if strings.Contains(err.Error(), "secretdc") {
				t.Fatalf("error echoes the device code: %v", err)
			}
		})
	}
	e := &endpoint{status: 400, body: `{"code":"oidc.invalid_request","error":"invalid_request","error_description":"urn:ietf:params:oauth:grant-type:device_code is not allowed for this client"}`}
	srv := e.serve(t)
	_, err := client(srv, "").DeviceAuthorize(context.Background(), srv.URL, url.Values{})
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Kind != oauth.KindOAuth || oe.Code != "invalid_request" || oe.StatusCode != 400 {
		t.Fatalf("err = %v, want an invalid_request OAuth error", err)
	}
}
