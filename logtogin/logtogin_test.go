package logtogin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtogin"
	"github.com/logto-go/logto/logtotest"
)

const api = "https://api.example.com"

func init() { gin.SetMode(gin.ReleaseMode) }

// fixture is a logtotest provider, a Client and a gin app using Wrap.
type fixture struct {
	op     *logtotest.Server
	app    *httptest.Server
	client *logto.Client
	ran    map[string]int // handler runs by path
}

func newFixture(t *testing.T, now func() time.Time) *fixture {
	t.Helper()
	op := logtotest.NewServer(t, logtotest.WithClock(now),
		logtotest.WithResources(logtotest.Resource{Indicator: api, Scopes: []string{"read:items"}}))
	f := &fixture{op: op, app: httptest.NewUnstartedServer(nil), ran: map[string]int{}}
	base := "http://" + f.app.Listener.Addr().String()
	app := logtotest.DefaultApp()
	app.RedirectURIs, app.PostLogoutRedirectURIs = []string{base + "/callback"}, []string{base + "/"}
	op.AddApp(app)
	var err error
	f.client, err = logto.New(logto.Config{
		AppID: app.ID, AppSecret: app.Secret, Endpoint: op.URL(), BaseURL: base, Now: now,
		CookieSecret: "a-random-secret-of-at-least-32-characters", Resources: []string{api}, Scopes: []string{"read:items"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL(), Audience: api, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	sdk := gin.WrapH(f.client.Handler())
	r.GET("/sign-in", sdk)
	r.GET("/callback", sdk)
	r.GET("/token", logtogin.Wrap(f.client.RequireAuth), func(c *gin.Context) {
		f.ran["/token"]++
		tok, err := f.client.GetAccessToken(c.Writer, c.Request, api)
		if err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "%s %s", logto.FromContext(c.Request.Context()).Claims.Sub, tok[:8])
	})
	r.GET("/api", logtogin.Wrap(rs.Middleware("read:items")), func(c *gin.Context) {
		f.ran["/api"]++
		claims, _ := logto.AccessTokenFromContext(c.Request.Context())
		c.String(http.StatusOK, claims.Sub)
	})
	f.app.Config.Handler = r
	f.app.Start()
	t.Cleanup(f.app.Close)
	return f
}

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestWrapSharesTheSession: through Wrap(client.RequireAuth), a signed-out
// request is refused without running the handler, and a token refreshed in
// the handler reaches the session cookie of the same response (the next
// request makes no refresh).
func TestWrapSharesTheSession(t *testing.T) {
	t.Parallel()
	var offset time.Duration
	now := func() time.Time { return time.Now().Add(offset) }
	f := newFixture(t, now)
	b := browser()
	if resp, _ := get(t, b, f.app.URL+"/token"); resp.StatusCode != http.StatusUnauthorized || f.ran["/token"] != 0 {
		t.Fatalf("signed out: %d, handler ran %d times", resp.StatusCode, f.ran["/token"])
	}
	next := f.app.URL + "/sign-in"
	for i := 0; i < 10 && !strings.HasPrefix(next, f.app.URL+"/token") && !strings.HasPrefix(next, f.app.URL+"/?") && next != f.app.URL+"/"; i++ {
		resp, _ := get(t, b, next)
		loc, err := resp.Location()
		if err != nil {
			break
		}
		next = loc.String()
	}
	refreshes := func() int {
		n := 0
		for _, r := range f.op.Requests() {
			if r.Path == "/oidc/token" && r.Form.Get("grant_type") == "refresh_token" {
				n++
			}
		}
		return n
	}
	resp, body := get(t, b, f.app.URL+"/token")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, logtotest.DefaultUserID) {
		t.Fatalf("signed in: %d %q", resp.StatusCode, body)
	}
	wrote := false
	for _, ck := range resp.Cookies() {
		wrote = wrote || ck.MaxAge >= 0 && ck.Value != "" && strings.HasPrefix(ck.Name, "logto_")
	}
	if !wrote || refreshes() != 1 {
		t.Fatalf("the refreshed session was not written in the handler's response (refreshes %d)", refreshes())
	}
	offset = 11 * time.Second // past the SDK's reuse of a refresh result
	if resp, _ := get(t, b, f.app.URL+"/token"); resp.StatusCode != http.StatusOK || refreshes() != 1 {
		t.Fatalf("second request: %d, refreshes %d (the cookie lacked the token)", resp.StatusCode, refreshes())
	}
}

// TestWrapAbortsWhenRefused: a ResourceServer that refuses the token writes
// its 401/403 and the chain stops; a good token reaches the handler with
// its claims.
func TestWrapAbortsWhenRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Now)
	mint := func(scope string) string {
		now := time.Now().Unix()
		tok, err := f.op.Sign(map[string]any{"typ": "at+jwt"}, map[string]any{
			"iss": f.op.Issuer(), "aud": api, "sub": "user1", "iat": now, "exp": now + 600, "scope": scope, "client_id": "app",
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	c := browser()
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer " + mint("other"), http.StatusForbidden},
		{"Bearer " + mint("read:items"), http.StatusOK},
	} {
		before := f.ran["/api"]
		resp, body := get(t, c, f.app.URL+"/api", "Authorization", tc.auth)
		if resp.StatusCode != tc.status {
			t.Fatalf("%q: %d %s", tc.auth, resp.StatusCode, body)
		}
		if ran := f.ran["/api"] - before; (tc.status == http.StatusOK) != (ran == 1) || tc.status == http.StatusOK && body != "user1" {
			t.Fatalf("%q: handler ran %d times, body %q", tc.auth, ran, body)
		}
	}
}
