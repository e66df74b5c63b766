package logto_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/internal/testkit"
	"github.com/logto-go/logto/logtotest"
)

func fuzzClient(f *testing.F) *logto.Client {
	c, err := logto.New(logto.Config{
		AppID: "fuzzapp", AppSecret: "secret", Endpoint: "http://127.0.0.1:1", BaseURL: "http://localhost:3000",
		CookieSecret: canaryCookieSecret,
	})
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzSessionCookie: no Cookie header can panic GetContext or forge a session.
func FuzzSessionCookie(f *testing.F) {
	c := fuzzClient(f)
	for _, s := range []string{
		"logto_fuzzapp=abc", "logto_fuzzapp.0=a; logto_fuzzapp.1=b", `_logto={"appId":"x"}; logto_fuzzapp=""`,
		"logto_fuzzapp=MTcwMDAwMDAwMHxhYmN8ZGVm", "logto_fuzzapp.0=; logto_fuzzapp.7=x", "=;;==;",
		"logto_fuzzapp=" + strings.Repeat("A", 5000), "logto_fuzzapp.0=a; logto_fuzzapp.1=" + strings.Repeat("A", 5000),
		strings.Repeat("logto_fuzzapp.99=a; logto_fuzzapp.3=b; ", 200), "logto_fuzzapp.01=a; logto_fuzzapp.+1=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		lc, err := c.GetContext(w, r)
		if err != nil || lc.IsAuthenticated {
			t.Fatalf("GetContext = %+v, %v", lc, err)
		}
		// Whatever the Cookie header holds, the answer only clears cookies,
		// at most the session cookie and its 12 chunk names.
		lines := w.Header().Values("Set-Cookie")
		if len(lines) > 13 {
			t.Fatalf("%d Set-Cookie lines", len(lines))
		}
		for _, ck := range w.Result().Cookies() {
			if ck.MaxAge >= 0 || ck.Value != "" {
				t.Fatalf("cookie written: %v", ck)
			}
		}
	})
}

// FuzzCallback: no callback query or cookie can panic HandleSignIn, reach the
// provider, or give anything but a 400. And the bounds hold exactly: the
// answer is parameter_too_large if and only if the query is over
// callbackQueryLimit or one of the OAuth parameters is over
// callbackParamLimit, malformed_query if and only if a query within the
// limit does not parse, and either of them is refused before any work: not
// even the transaction cookie is deleted.
func FuzzCallback(f *testing.F) {
	c := fuzzClient(f)
	for _, s := range [][2]string{
		{"code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A1%2Foidc", "logto_fuzzapp_tx_abc=def"},
		{"state=&state=", ""},
		{"error=access_denied&error_description=%3Cscript%3E", ""},
		{"%zz&state=%00", "logto_fuzzapp_tx_=x"},
		{"code=" + strings.Repeat("a", callbackParamLimit+1) + "&state=xyz", "logto_fuzzapp_tx_abc=def"},
		{"state=" + strings.Repeat("s", callbackParamLimit+1), ""},
		{"state=x&code=y&iss=" + strings.Repeat("%2F", callbackParamLimit+1), ""},
		{"state=x&error=e&error_description=" + strings.Repeat("d", callbackParamLimit+1), ""},
		{"state=x&error=e&error_uri=" + strings.Repeat("u", callbackParamLimit), ""},
		{"state=x&pad=" + strings.Repeat("p", callbackQueryLimit), ""},
		{"state=x;code=y", ""},
		{"%zz&code=" + strings.Repeat("c", callbackParamLimit+1), ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, cookie string) {
		r := httptest.NewRequest("GET", "/callback", nil)
		r.URL.RawQuery = query
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		err := c.HandleSignIn(w, r)
		if !errors.Is(err, logto.ErrInvalidCallback) || logto.StatusCode(err) != http.StatusBadRequest {
			t.Fatalf("HandleSignIn(%q) = %v", query, err)
		}
		for _, ck := range w.Result().Cookies() {
			if ck.MaxAge >= 0 {
				t.Fatalf("cookie written: %v", ck)
			}
		}

		// The order of the checks: the raw length, then parsing, then each
		// parameter of a query that parses.
		q, perr := url.ParseQuery(query)
		tooLarge := len(query) > callbackQueryLimit
		for _, k := range []string{"state", "code", "iss", "error", "error_description", "error_uri"} {
			for _, v := range q[k] {
				tooLarge = tooLarge || (perr == nil && len(v) > callbackParamLimit)
			}
		}
		malformed := len(query) <= callbackQueryLimit && perr != nil
		reason := callbackReason(err)
		if (reason == logto.ReasonParameterTooLarge) != tooLarge || (reason == logto.ReasonMalformedQuery) != malformed {
			t.Fatalf("HandleSignIn(%.200q) = %v; over a bound: %v, malformed: %v", query, err, tooLarge, malformed)
		}
		if (tooLarge || malformed) && len(w.Header().Values("Set-Cookie")) != 0 {
			t.Fatalf("refused before any work, yet wrote %q", w.Header().Values("Set-Cookie"))
		}
	})
}

// FuzzIDTokenClaims: claim decoding never panics and round-trips.
func FuzzIDTokenClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"http://localhost:3001/oidc","sub":"u","aud":"a","exp":1,"iat":1,"picture":null,"roles":["x"],"custom":{"a":1}}`,
		`{"aud":["a","b"],"email_verified":"true"}`, `[]`, `null`, `{"sub":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c logto.IDTokenClaims
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal after Unmarshal: %v", err)
		}
		var again logto.IDTokenClaims
		if err := json.Unmarshal(out, &again); err != nil || again.Sub != c.Sub {
			t.Fatalf("round trip: %v, sub %q vs %q", err, again.Sub, c.Sub)
		}
	})
}

// FuzzResourceServerVerify: no Bearer token panics the verifier, and no
// error implies the token is one the provider signed for the test
// (testkit.SignedBy with its key): a mutated signature, header or payload is
// refused even when its sub is unchanged. The provider runs in process at a
// fixed URL, with a fixed key and clock, so seeds verify in every fuzz
// process.
func FuzzResourceServerVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	key := testkit.FuzzKeyP384()
	op, err := logtotest.New(logtotest.Options{URL: "http://127.0.0.1:1", SigningKey: key, Now: clock})
	if err != nil {
		f.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint: op.URL(), Audience: "https://api.example.com", Now: clock,
		HTTPClient: &http.Client{Transport: inProcess{op}},
	})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := op.Sign(map[string]any{"typ": "at+jwt"}, map[string]any{"iss": op.Issuer(), "aud": "https://api.example.com", "sub": "u", "exp": now.Unix() + 3600, "iat": now.Unix()})
	f.Add(good)
	f.Add(otherLastChar(good)) // a mutated signature keeps sub
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ1In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := rs.Verify(context.Background(), token)
		if err == nil && !testkit.SignedBy(token, &key.PublicKey) {
			t.Fatalf("a token the provider did not sign verified: %q (sub %q)", token, claims.Sub)
		}
	})
}

// inProcess serves requests with a handler, without a network.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// otherLastChar changes the last character of token, in its signature:
// the same claims with another signature (or another encoding of it).
func otherLastChar(token string) string {
	if token[len(token)-1] == 'A' {
		return token[:len(token)-1] + "B"
	}
	return token[:len(token)-1] + "A"
}
