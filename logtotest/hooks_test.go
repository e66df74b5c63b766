package logtotest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto/logtotest"
)

func TestHooks(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)

	t.Run("discovery", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{Discovery: func(doc map[string]any) { doc["issuer"] = "https://evil" }})
		defer srv.SetHooks(logtotest.Hooks{})
		if got := get(t, srv.Issuer()+"/.well-known/openid-configuration").json["issuer"]; got != "https://evil" {
			t.Errorf("issuer %v", got)
		}
	})
	t.Run("jwks", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{JWKS: func([]map[string]any) []map[string]any { return nil }})
		defer srv.SetHooks(logtotest.Hooks{})
		if got := string(get(t, srv.Issuer()+"/jwks").body); got != `{"keys":[]}` {
			t.Errorf("jwks %s", got)
		}
	})
	t.Run("auth response", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{AuthResponse: func(q url.Values) { q.Del("iss"); q.Add("state", "second") }})
		defer srv.SetHooks(logtotest.Hooks{})
		q, _ := signIn(t, srv, authParams())
		if q.Has("iss") || len(q["state"]) != 2 {
			t.Errorf("callback %v", q)
		}
	})
	t.Run("id token", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{
			IDTokenHeader: func(h map[string]any) { delete(h, "kid"); h["typ"] = "JWT" },
			IDTokenClaims: func(c map[string]any) { c["aud"] = "someone-else"; delete(c, "nonce") },
		})
		defer srv.SetHooks(logtotest.Hooks{})
		tok := exchange(t, srv, authParams())
		parts := strings.Split(tok["id_token"].(string), ".")
		var header, claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(hb, &header)
		_ = json.Unmarshal(cb, &claims)
		if _, ok := header["kid"]; ok || header["typ"] != "JWT" || claims["aud"] != "someone-else" || claims["nonce"] != nil {
			t.Errorf("header %v claims %v", header, claims)
		}
	})
	t.Run("token response", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{TokenResponse: func(status *int, body map[string]any) {
			*status = http.StatusBadGateway
			delete(body, "id_token")
		}})
		defer srv.SetHooks(logtotest.Hooks{})
		q, _ := signIn(t, srv, authParams())
		res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"code_verifier": {testVerifier}}, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
		if res.status != http.StatusBadGateway || res.json["id_token"] != nil || res.json["access_token"] == nil {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("raw token response", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{RawTokenResponse: func(w http.ResponseWriter) bool {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"access_token":`))
			return true
		}})
		defer srv.SetHooks(logtotest.Hooks{})
		res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"refresh_token"}})
		if res.status != 500 || string(res.body) != `{"access_token":` {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		tok := exchange(t, srv, authParams())
		srv.SetHooks(logtotest.Hooks{Userinfo: func(b map[string]any) { b["sub"] = "impostor" }})
		defer srv.SetHooks(logtotest.Hooks{})
		if got := userinfo(t, srv, tok["access_token"].(string)).json["sub"]; got != "impostor" {
			t.Errorf("sub %v", got)
		}
	})
	t.Run("delay respects cancellation", func(t *testing.T) {
		srv.SetHooks(logtotest.Hooks{Delay: func(path string) time.Duration {
			if path == "/oidc/jwks" {
				return time.Minute
			}
			return 0
		}})
		defer srv.SetHooks(logtotest.Hooks{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Issuer()+"/jwks", nil)
		start := time.Now()
		_, err := http.DefaultClient.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Errorf("err %v after %v", err, time.Since(start))
		}
		if res := get(t, srv.Issuer()+"/.well-known/openid-configuration"); res.status != 200 {
			t.Errorf("undelayed path: %d", res.status)
		}
	})
}

func TestSign(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	tok, err := srv.Sign(map[string]any{"typ": "JWT"}, map[string]any{"sub": "x", "iss": srv.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	header, claims := verifyJWT(t, srv, tok)
	if header["alg"] != "ES384" || header["kid"] != srv.CurrentKeyID() || header["typ"] != "JWT" || claims["sub"] != "x" {
		t.Errorf("header %v claims %v", header, claims)
	}
	// Present header values are kept.
	tok, _ = srv.Sign(map[string]any{"alg": "RS256", "kid": "forged"}, nil)
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if string(hb) != `{"alg":"RS256","kid":"forged"}` {
		t.Errorf("header %s", hb)
	}
	// Tokens signed before a rotation still verify against the JWKS.
	old := exchange(t, srv, authParams())["id_token"].(string)
	if err := srv.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	verifyJWT(t, srv, old)
	header, _ = verifyJWT(t, srv, exchange(t, srv, authParams())["id_token"].(string))
	if header["kid"] != srv.CurrentKeyID() {
		t.Errorf("new ID token kid %v", header["kid"])
	}
}

// TestConcurrentFlows runs complete flows and admin calls in parallel; run
// with -race.
func TestConcurrentFlows(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t, logtotest.WithResources(logtotest.Resource{Indicator: "https://api.probe.local", Scopes: []string{"read"}}))
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			q := authParams()
			q.Set("state", "st-"+string(rune('a'+i)))
			q.Set("nonce", "n-"+string(rune('a'+i)))
			cb, _ := signIn(t, srv, q)
			if cb.Get("state") != q.Get("state") {
				t.Errorf("state cross-wired: %v", cb)
				return
			}
			res := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
				"code_verifier": {testVerifier}}, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
			if res.status != 200 {
				t.Errorf("token %d %s", res.status, res.body)
				return
			}
			_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
			if claims["nonce"] != q.Get("nonce") {
				t.Errorf("nonce cross-wired: %v", claims["nonce"])
			}
			refresh(t, srv, res.json["refresh_token"].(string), url.Values{"resource": {"https://api.probe.local"}})
			userinfo(t, srv, res.json["access_token"].(string))
		}(i)
	}
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			srv.SetHooks(logtotest.Hooks{Userinfo: func(map[string]any) {}})
			srv.AddUser(logtotest.DefaultUser())
			srv.AddApp(logtotest.DefaultApp())
			_ = srv.Requests()
			_ = srv.CountRequests("/oidc/token")
			if i == 0 { // one rotation: the old key stays published as previous
				if err := srv.RotateSigningKey(); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
}
