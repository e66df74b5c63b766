package logtotest_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/logto-go/logto/logtotest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 11, 15, 50, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestDiscoveryMatchesCapture(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	b, err := json.Marshal(readJSONFile(t, "testdata/discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), "http://localhost:3001", srv.URL())), &want); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		res := get(t, srv.Issuer()+path)
		if res.status != http.StatusOK {
			t.Fatalf("%s: status %d", path, res.status)
		}
		if !reflect.DeepEqual(res.json, want) {
			t.Errorf("%s:\n got %v\nwant %v", path, res.json, want)
		}
	}
}

func TestJWKSThumbprintAndRotation(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	fetch := func() []jose.JSONWebKey {
		res := get(t, srv.Issuer()+"/jwks")
		if got, want := res.header.Get("Cache-Control"), "no-cache, max-age=0, must-revalidate"; got != want {
			t.Errorf("Cache-Control %q, want %q", got, want)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(res.body, &set); err != nil {
			t.Fatal(err)
		}
		var raw struct{ Keys []map[string]any }
		_ = json.Unmarshal(res.body, &raw)
		for _, k := range raw.Keys {
			if !reflect.DeepEqual(shape(k), map[string]string{
				"kty": "string", "use": "string", "kid": "string", "alg": "string",
				"crv": "string", "x": "string", "y": "string",
			}) || k["alg"] != "ES384" || k["crv"] != "P-384" || k["use"] != "sig" {
				t.Errorf("JWK %v does not have Logto's shape", k)
			}
		}
		for _, k := range set.Keys {
			tp, err := k.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(tp); k.KeyID != want {
				t.Errorf("kid %q, want RFC 7638 thumbprint %q", k.KeyID, want)
			}
		}
		return set.Keys
	}
	keys := fetch()
	if len(keys) != 1 || keys[0].KeyID != srv.CurrentKeyID() {
		t.Fatalf("got %d keys, want the current one", len(keys))
	}
	old := keys[0].KeyID
	if err := srv.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	keys = fetch()
	if len(keys) != 2 || keys[1].KeyID != old || keys[0].KeyID != srv.CurrentKeyID() || keys[0].KeyID == old {
		t.Fatalf("after rotation: %v, want [new, %s]", keys, old)
	}
	srv.RemovePreviousKeys()
	if keys = fetch(); len(keys) != 1 || keys[0].KeyID == old {
		t.Fatalf("after RemovePreviousKeys: %d keys", len(keys))
	}
}

func TestCaptureKidIsThumbprint(t *testing.T) {
	t.Parallel()
	// The algorithm the provider uses, checked against the real Logto key.
	var set jose.JSONWebKeySet
	b, _ := json.Marshal(readJSONFile(t, "testdata/jwks.json"))
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	tp, _ := set.Keys[0].Thumbprint(crypto.SHA256)
	if got := base64.RawURLEncoding.EncodeToString(tp); got != set.Keys[0].KeyID {
		t.Fatalf("thumbprint %q, capture kid %q", got, set.Keys[0].KeyID)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, opts := range map[string]logtotest.Options{
		"no URL":       {},
		"relative URL": {URL: "/oidc"},
		"query":        {URL: "http://localhost:3001?x=1"},
		"ftp":          {URL: "ftp://localhost"},
		"P-256 key":    {URL: "http://localhost:3001", SigningKey: p256},
		"empty app ID": {URL: "http://localhost:3001", Apps: []logtotest.App{{}}},
		"empty userID": {URL: "http://localhost:3001", Users: []logtotest.User{{}}},
	} {
		if _, err := logtotest.New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	p, err := logtotest.New(logtotest.Options{URL: "http://localhost:3001/"})
	if err != nil {
		t.Fatal(err)
	}
	if p.URL() != "http://localhost:3001" || p.Issuer() != "http://localhost:3001/oidc" {
		t.Fatalf("URL %q issuer %q", p.URL(), p.Issuer())
	}
}

func TestPathPrefix(t *testing.T) {
	t.Parallel()
	hs := httptest.NewUnstartedServer(nil)
	p, err := logtotest.New(logtotest.Options{URL: "http://" + hs.Listener.Addr().String() + "/tenant"})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = p
	hs.Start()
	defer hs.Close()
	res := get(t, p.Issuer()+"/.well-known/openid-configuration")
	if res.status != http.StatusOK || res.json["token_endpoint"] != p.URL()+"/oidc/token" {
		t.Fatalf("status %d, doc %v", res.status, res.json)
	}
	res = get(t, p.Issuer()+"/auth?"+authParams().Encode())
	if loc := res.header.Get("Location"); !strings.HasPrefix(loc, "/tenant/oidc/auth/") {
		t.Fatalf("Location %q", loc)
	}
	if n := p.CountRequests("/oidc/auth"); n != 1 {
		t.Fatalf("CountRequests without prefix = %d", n)
	}
	if n := p.CountRequests("/tenant/oidc/auth"); n != 1 {
		t.Fatalf("CountRequests with prefix = %d", n)
	}
	if res := get(t, hs.URL+"/oidc/jwks"); res.status != http.StatusNotFound {
		t.Fatalf("unprefixed path: status %d", res.status)
	}
}

func TestNotFoundAndBodyLimit(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	wantError(t, get(t, srv.Issuer()+"/nope"), http.StatusNotFound, "invalid_request",
		"unrecognized route or not allowed method (GET on /oidc/nope)")
	wantError(t, get(t, srv.Issuer()+"/token"), http.StatusNotFound, "invalid_request", "")
	big := url.Values{"grant_type": {strings.Repeat("a", 60*1024)}}
	wantError(t, postForm(t, srv.Issuer()+"/token", big), http.StatusRequestEntityTooLarge, "invalid_request", "")
	nul := url.Values{"client_id": {"a\x00b"}}
	wantError(t, postForm(t, srv.Issuer()+"/token", nul), http.StatusBadRequest, "invalid_request", "")
}

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	c := newClock()
	srv := logtotest.NewServer(t, logtotest.WithClock(c.Now))
	get(t, srv.Issuer()+"/jwks")
	postForm(t, srv.Issuer()+"/token", url.Values{"client_id": {"x"}}, func(r *http.Request) {
		r.Header.Set("X-Test", "1")
	})
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].Method != "GET" || reqs[0].Path != "/oidc/jwks" || !reqs[0].Time.Equal(c.Now()) {
		t.Errorf("first request %+v", reqs[0])
	}
	if reqs[1].Form.Get("client_id") != "x" || reqs[1].Header.Get("X-Test") != "1" {
		t.Errorf("second request %+v", reqs[1])
	}
	if srv.CountRequests("/oidc/token") != 1 {
		t.Errorf("CountRequests(/oidc/token) = %d", srv.CountRequests("/oidc/token"))
	}
	srv.ResetRequests()
	if len(srv.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}

func TestJSONBody(t *testing.T) {
	t.Parallel()
	srv := logtotest.NewServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer()+"/token",
		strings.NewReader(`{"grant_type":"refresh_token","refresh_token":"nope","client_id":"`+logtotest.DefaultAppID+
			`","client_secret":"`+logtotest.DefaultAppSecret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	wantError(t, do(t, req), http.StatusBadRequest, "invalid_grant", "grant request is invalid")
}
