package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/oauth"
)

// endpoint answers every request with status and body, and records the
// last request.
type endpoint struct {
	status int
	body   string
	delay  time.Duration
	last   *http.Request
	form   url.Values
}

func (e *endpoint) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.last, e.form = r, r.PostForm
		if e.delay > 0 {
			select {
			case <-time.After(e.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		_, _ = io.WriteString(w, e.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(srv *httptest.Server, secret string) *oauth.Client {
	return &oauth.Client{HTTP: srv.Client(), ClientID: "app id", ClientSecret: secret, Timeout: time.Second, Now: func() time.Time { return time.Unix(1000, 0) }}
}

// TestRequestShape: client_secret_basic with both parts form-urlencoded
// first (RFC 6749 2.3.1), the grant's form untouched; a public client sends
// client_id in the form and no Authorization.
func TestRequestShape(t *testing.T) {
	t.Parallel()
	e := &endpoint{status: 200, body: `{"access_token":"at","token_type":"bearer","expires_in":3600,"id_token":"id","refresh_token":"rt","scope":"openid"}`}
	srv := e.serve(t)
	tr, err := client(srv, "s3cr:t+/").Token(context.Background(), srv.URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := oauth.TokenResponse{AccessToken: "at", TokenType: "bearer", ExpiresIn: 3600, IDToken: "id", RefreshToken: "rt", Scope: "openid", IssuedAt: 1000}
	if *tr != want {
		t.Fatalf("got %+v, want %+v", *tr, want)
	}
	id, secret, ok := e.last.BasicAuth()
	if !ok || id != "app+id" || secret != "s3cr%3At%2B%2F" {
		t.Fatalf("basic auth = %q:%q, want the form-urlencoded parts", id, secret)
	}
	if e.form.Get("client_id") != "" || e.form.Get("refresh_token") != "rt0" || e.last.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("form = %v", e.form)
	}

	if _, err := client(srv, "").Token(context.Background(), srv.URL, url.Values{"grant_type": {"x"}}); err != nil {
		t.Fatal(err)
	}
	if e.last.Header.Get("Authorization") != "" || e.form.Get("client_id") != "app id" {
		t.Fatalf("public client: Authorization %q, form %v", e.last.Header.Get("Authorization"), e.form)
	}
}

// TestErrorsClassifiedByFields: failures are classified from the status,
// the RFC 6749 5.2 error and Logto's code, never from message text.
func TestErrorsClassifiedByFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		kind, code string
	}{
		{"invalid_grant", 400, `{"code":"oidc.invalid_grant","message":"Grant request is invalid.","error":"invalid_grant","error_description":"grant request is invalid"}`, oauth.KindOAuth, "invalid_grant"},
		{"Logto code only", 400, `{"code":"oidc.invalid_target","message":"x"}`, oauth.KindOAuth, "invalid_target"},
		{"Logto code outside oidc", 400, `{"code":"guard.invalid_input","message":"x"}`, oauth.KindHTTPStatus, ""},
		{"access_denied 403", 403, `{"error":"access_denied"}`, oauth.KindOAuth, "access_denied"},
		{"error of the wrong type", 400, `{"error":42}`, oauth.KindHTTPStatus, ""},
		{"HTML 500", 500, `<html>oops</html>`, oauth.KindHTTPStatus, ""},
		{"200 not JSON", 200, `cannot parse json`, oauth.KindInvalidJSON, ""},
		{"200 without access_token", 200, `{"token_type":"Bearer"}`, oauth.KindInvalidJSON, ""},
		{"200 expires_in string", 200, `{"access_token":"a","token_type":"Bearer","expires_in":"soon"}`, oauth.KindInvalidJSON, ""},
		{"200 expires_in negative", 200, `{"access_token":"a","token_type":"Bearer","expires_in":-5}`, oauth.KindInvalidJSON, ""},
		{"token_type mac", 200, `{"access_token":"a","token_type":"mac"}`, oauth.KindTokenType, ""},
		{"body over the cap", 200, `{"access_token":"` + strings.Repeat("a", oauth.MaxBody) + `"}`, oauth.KindInvalidJSON, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &endpoint{status: tc.status, body: tc.body}
			srv := e.serve(t)
			_, err := client(srv, "s").Token(context.Background(), srv.URL, url.Values{"grant_type": {"authorization_code"}})
			var oe *oauth.Error
			if !errors.As(err, &oe) {
				t.Fatalf("err = %v, want *oauth.Error", err)
			}
			if oe.Kind != tc.kind || oe.Code != tc.code || oe.StatusCode != tc.status || oe.Stage != "token" {
				t.Fatalf("got kind %q code %q status %d stage %q, want %q %q %d token", oe.Kind, oe.Code, oe.StatusCode, oe.Stage, tc.kind, tc.code, tc.status)
			}
			if strings.Contains(err.Error(), "oops") || strings.Contains(err.Error(), "aaaa") {
				t.Fatalf("error echoes the body: %v", err)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	e := &endpoint{status: 200, body: `{}`, delay: 5 * time.Second}
	srv := e.serve(t)
	c := client(srv, "s")
	c.Timeout = 50 * time.Millisecond
	_, err := c.Token(context.Background(), srv.URL, url.Values{})
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Kind != oauth.KindTimeout {
		t.Fatalf("slow endpoint: %v, want kind timeout", err)
	}
	_, err = client(srv, "s").Token(context.Background(), "http://127.0.0.1:1/token", url.Values{})
	if !errors.As(err, &oe) || oe.Kind != oauth.KindNetwork {
		t.Fatalf("closed port: %v, want kind network", err)
	}
}

func TestRevokeAndUserInfo(t *testing.T) {
	t.Parallel()
	e := &endpoint{status: 200, body: `{"sub":"u"}`}
	srv := e.serve(t)
	c := client(srv, "s")
	if err := c.Revoke(context.Background(), srv.URL, "rt", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if e.form.Get("token") != "rt" || e.form.Get("token_type_hint") != "refresh_token" || e.last.Header.Get("Authorization") == "" {
		t.Fatalf("revocation request: form %v", e.form)
	}
	body, err := c.UserInfo(context.Background(), srv.URL, "at")
	if err != nil || string(body) != `{"sub":"u"}` {
		t.Fatalf("userinfo: %q %v", body, err)
	}
	if e.last.Method != http.MethodGet || e.last.Header.Get("Authorization") != "Bearer at" || e.last.URL.RawQuery != "" {
		t.Fatalf("userinfo request: %s %q %q", e.last.Method, e.last.Header.Get("Authorization"), e.last.URL.RawQuery)
	}
	e.status, e.body = 401, `{"error":"invalid_token"}`
	_, err = c.UserInfo(context.Background(), srv.URL, "at")
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Stage != "userinfo" || oe.Code != "invalid_token" || oe.StatusCode != 401 {
		t.Fatalf("userinfo 401: %v", err)
	}
}
