package logtotest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/logtotest"
)

// client is a cookie-jar-less client that does not follow redirects.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-logtotest"

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams returns a valid authorization request for the default app with
// PKCE, prompt=consent and the scopes of the Logto captures.
func authParams() url.Values {
	return url.Values{
		"client_id":             {logtotest.DefaultAppID},
		"redirect_uri":          {logtotest.DefaultRedirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid offline_access profile email phone"},
		"state":                 {"st-1"},
		"nonce":                 {"nonce-1"},
		"prompt":                {"consent"},
		"code_challenge":        {challengeOf(testVerifier)},
		"code_challenge_method": {"S256"},
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func do(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: b}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.json); err != nil {
			t.Fatalf("bad JSON %q: %v", b, err)
		}
	}
	return out
}

func get(t testing.TB, u string, cookies ...*http.Cookie) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return do(t, req)
}

func postForm(t testing.TB, u string, form url.Values, mutate ...func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, m := range mutate {
		m(req)
	}
	return do(t, req)
}

func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	}
}

func withCookie(c *http.Cookie) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(c) }
}

func cookieNamed(res response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn walks /oidc/auth -> /oidc/auth/<uid> -> redirect_uri and returns
// the callback query and the provider session cookie.
func signIn(t testing.TB, srv *logtotest.Server, params url.Values, cookies ...*http.Cookie) (url.Values, *http.Cookie) {
	t.Helper()
	res := get(t, srv.Issuer()+"/auth?"+params.Encode(), cookies...)
	if res.status != http.StatusSeeOther {
		t.Fatalf("auth: status %d, body %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	if !strings.HasPrefix(loc, "/oidc/auth/") {
		t.Fatalf("auth: Location %q, want relative /oidc/auth/<uid>", loc)
	}
	sess := cookieNamed(res, "_session")
	if sess == nil {
		t.Fatal("auth: no _session cookie")
	}
	res = get(t, srv.URL()+loc)
	if res.status != http.StatusSeeOther {
		t.Fatalf("resume: status %d, body %s", res.status, res.body)
	}
	cb, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return cb.Query(), sess
}

// exchange signs in with the default app and exchanges the code.
func exchange(t testing.TB, srv *logtotest.Server, params url.Values, cookies ...*http.Cookie) map[string]any {
	t.Helper()
	q, _ := signIn(t, srv, params, cookies...)
	res := postForm(t, srv.Issuer()+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {logtotest.DefaultRedirectURI}, "code_verifier": {testVerifier},
	}, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
	if res.status != http.StatusOK {
		t.Fatalf("token: status %d, body %s", res.status, res.body)
	}
	return res.json
}

func refresh(t testing.TB, srv *logtotest.Server, rt string, extra url.Values) response {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	return postForm(t, srv.Issuer()+"/token", form, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
}

// verifyJWT verifies token with go-jose (ES384 only) against the provider
// JWKS and returns header and claims.
func verifyJWT(t testing.TB, srv *logtotest.Server, token string) (map[string]any, map[string]any) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(get(t, srv.Issuer()+"/jwks").body, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES384})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in JWKS", kid, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify JWT: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var header map[string]any
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	return header, claims
}

func readJSONFile(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// shape maps each key to its JSON type name, for comparing against captures.
func shape(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		switch v.(type) {
		case nil:
			out[k] = "null"
		case string:
			out[k] = "string"
		case float64:
			out[k] = "number"
		case bool:
			out[k] = "bool"
		case []any:
			out[k] = "array"
		default:
			out[k] = "object"
		}
	}
	return out
}

func wantError(t testing.TB, res response, status int, code, desc string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d (body %s)", res.status, status, res.body)
	}
	if res.json["error"] != code || (desc != "" && res.json["error_description"] != desc) {
		t.Fatalf("error %v: %v, want %s: %s", res.json["error"], res.json["error_description"], code, desc)
	}
	if res.json["code"] != "oidc."+code && res.json["code"] != "session.not_found" {
		t.Fatalf("Logto code %v, want oidc.%s", res.json["code"], code)
	}
	if _, ok := res.json["message"].(string); !ok {
		t.Fatalf("no message in %s", res.body)
	}
}
