package logtotest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtotest"
)

// FuzzServeHTTP sends hostile requests; the provider must never panic and
// must always answer with a status.
func FuzzServeHTTP(f *testing.F) {
	p, err := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ method, target, ctype, auth, body string }{
		{"GET", "/oidc/auth?client_id=" + logtotest.DefaultAppID + "&response_type=code&scope=openid&resource=%00,,#", "", "", ""},
		{"POST", "/oidc/token", "application/x-www-form-urlencoded", "Basic %%%", "grant_type=authorization_code&code=x"},
		{"POST", "/oidc/token", "application/json", "", `{"grant_type":["a","b"],"x":{"y":1}}`},
		{"POST", "/oidc/token", "application/x-www-form-urlencoded", "Basic " + "bG9ndG90ZXN0ZGVmYXVsdGFwcDAxOg==", "grant_type=refresh_token&refresh_token=a&resource=a&resource=b"},
		{"POST", "/oidc/me", "application/x-www-form-urlencoded", "Bearer a.b.c", "access_token=x"},
		{"GET", "/oidc/session/end?id_token_hint=a.b.c&client_id=x", "", "", ""},
		{"POST", "/oidc/session/end/confirm", "application/x-www-form-urlencoded", "", "xsrf=&logout=yes"},
		{"GET", "/oidc/auth/../../jwks", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ctype, s.auth, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype, auth, body string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://localhost:3001"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", auth)
		req.AddCookie(&http.Cookie{Name: "_session", Value: "x"})
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
