package logtotest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"
	"github.com/logto-go/logto/logtotest"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func deviceServer(t *testing.T, opts ...logtotest.Option) *logtotest.Server {
	t.Helper()
	opts = append([]logtotest.Option{logtotest.WithApps(logtotest.DefaultApp(), logtotest.DefaultDeviceApp()),
		logtotest.WithResources(logtotest.Resource{Indicator: "https://api.example.com", Scopes: []string{"read:x", "write:x"}})}, opts...)
	return logtotest.NewServer(t, opts...)
}

func deviceAuth(t *testing.T, srv *logtotest.Server, form url.Values) response {
	t.Helper()
	if form.Get("client_id") == "" {
		form.Set("client_id", logtotest.DefaultDeviceAppID)
	}
	return postForm(t, srv.Issuer()+"/device/auth", form)
}

func pollDevice(t *testing.T, srv *logtotest.Server, deviceCode string, extra ...string) response {
	t.Helper()
	form := url.Values{"grant_type": {deviceGrant}, "device_code": {deviceCode}, "client_id": {logtotest.DefaultDeviceAppID}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return postForm(t, srv.Issuer()+"/token", form)
}

// TestDeviceFlow: a device authorization has oidc-provider's shape (no
// interval), polls answer authorization_pending until the user code page
// approves it for the sign-in user, then tokens: an ID token, an opaque
// access token and a refresh token without any prompt=consent; a second
// redemption is invalid_grant and revokes the grant, refresh token and all;
// the refresh token rotates on every use with a full lifetime.
func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	c := testkit.NewClock()
	srv := deviceServer(t, logtotest.WithClock(c.Now))
	res := deviceAuth(t, srv, url.Values{"scope": {"openid offline_access profile read:x"}, "resource": {"https://api.example.com"}})
	if res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("device auth: %d %s", res.status, res.body)
	}
	j := res.json
	userCode, _ := j["user_code"].(string)
	if !userCodeShape.MatchString(userCode) || j["verification_uri"] != srv.Issuer()+"/device" ||
		j["verification_uri_complete"] != srv.Issuer()+"/device?user_code="+userCode || j["expires_in"] != 600.0 || j["interval"] != nil {
		t.Fatalf("device auth response %s", res.body)
	}
	dc := j["device_code"].(string)
	wantError(t, pollDevice(t, srv, dc), 400, "authorization_pending",
		"authorization request is still pending as the end-user hasn't yet completed the user interaction steps")

	page := get(t, srv.Issuer()+"/device")
	if page.status != 200 || !strings.Contains(string(page.body), `name="user_code"`) {
		t.Fatalf("device page: %d %s", page.status, page.body)
	}
	if r := get(t, srv.Issuer()+"/device?user_code=BBBB-BBBB"); r.status != 400 || !strings.Contains(string(r.body), "incorrect") {
		t.Fatalf("unknown code: %d %s", r.status, r.body)
	}
	// Case and dash do not matter, as in oidc-provider.
	page = get(t, srv.Issuer()+"/device?user_code="+strings.ToLower(strings.ReplaceAll(userCode, "-", "")))
	if page.status != 200 || !strings.Contains(string(page.body), "Sign-in Success") {
		t.Fatalf("approval page: %d %s", page.status, page.body)
	}
	if err := srv.ApproveDeviceCode(userCode, logtotest.DefaultUserID); err != logtotest.ErrDeviceCodeNotFound {
		t.Fatalf("approving twice: %v", err)
	}

	res = pollDevice(t, srv, dc)
	if res.status != 200 {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	if res.json["scope"] != "openid offline_access profile" || res.json["refresh_token"] == nil || len(res.json["access_token"].(string)) != 43 {
		t.Fatalf("token response %s", res.body)
	}
	_, claims := verifyJWT(t, srv, res.json["id_token"].(string))
	if claims["sub"] != logtotest.DefaultUserID || claims["aud"] != logtotest.DefaultDeviceAppID || claims["name"] != "Probe User" {
		t.Fatalf("ID token claims %v", claims)
	}
	rt := res.json["refresh_token"].(string)

	// The refresh token gives an API token, rotated.
	c.Advance(time.Minute)
	r2 := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {logtotest.DefaultDeviceAppID}, "resource": {"https://api.example.com"}})
	if r2.status != 200 || r2.json["refresh_token"] == rt || r2.json["scope"] != "read:x" {
		t.Fatalf("refresh: %d %s", r2.status, r2.body)
	}
	_, at := verifyJWT(t, srv, r2.json["access_token"].(string))
	if at["aud"] != "https://api.example.com" || at["client_id"] != logtotest.DefaultDeviceAppID {
		t.Fatalf("API token %v", at)
	}

	// Redeemed twice: invalid_grant, and the grant is gone.
	wantError(t, pollDevice(t, srv, dc), 400, "invalid_grant", "grant request is invalid")
	r3 := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2.json["refresh_token"].(string)},
		"client_id": {logtotest.DefaultDeviceAppID}})
	wantError(t, r3, 400, "invalid_grant", "grant request is invalid")
}

// TestDeviceFlowAnswers: denied, expired, slow_down, unknown and foreign
// codes, and the grant-type rules of device apps, with oidc-provider's
// errors in Logto's body.
func TestDeviceFlowAnswers(t *testing.T) {
	t.Parallel()
	c := testkit.NewClock()
	srv := deviceServer(t, logtotest.WithClock(c.Now))
	start := func() (deviceCode, userCode string) {
		t.Helper()
		res := deviceAuth(t, srv, url.Values{"scope": {"openid offline_access"}})
		if res.status != 200 {
			t.Fatalf("device auth: %d %s", res.status, res.body)
		}
		return res.json["device_code"].(string), res.json["user_code"].(string)
	}

	t.Run("denied", func(t *testing.T) {
		dc, uc := start()
		if r := postForm(t, srv.Issuer()+"/device", url.Values{"user_code": {uc}, "abort": {"yes"}}); r.status != 200 || !strings.Contains(string(r.body), "interrupted") {
			t.Fatalf("abort: %d %s", r.status, r.body)
		}
		wantError(t, pollDevice(t, srv, dc), 400, "access_denied", "End-User aborted interaction")
		wantError(t, pollDevice(t, srv, dc), 400, "invalid_grant", "grant request is invalid")
	})
	t.Run("expired", func(t *testing.T) {
		dc, uc := start()
		c.Advance(601 * time.Second)
		wantError(t, pollDevice(t, srv, dc), 400, "expired_token", "device code is expired")
		if err := srv.ApproveDeviceCode(uc, logtotest.DefaultUserID); err != logtotest.ErrDeviceCodeNotFound {
			t.Fatalf("approving an expired code: %v", err)
		}
	})
	t.Run("slow_down", func(t *testing.T) {
		srv.SetDevicePollInterval(5 * time.Second)
		defer srv.SetDevicePollInterval(0)
		res := deviceAuth(t, srv, url.Values{"scope": {"openid"}})
		if res.json["interval"] != 5.0 {
			t.Fatalf("interval %v", res.json["interval"])
		}
		dc := res.json["device_code"].(string)
		wantError(t, pollDevice(t, srv, dc), 400, "authorization_pending", "")
		c.Advance(4 * time.Second)
		wantError(t, pollDevice(t, srv, dc), 400, "slow_down", "you are polling too quickly and should back off at a reasonable rate")
		c.Advance(9 * time.Second) // the interval is 10 s now
		wantError(t, pollDevice(t, srv, dc), 400, "slow_down", "")
		c.Advance(15 * time.Second)
		wantError(t, pollDevice(t, srv, dc), 400, "authorization_pending", "")
		if err := srv.ApproveDeviceCode(res.json["user_code"].(string), logtotest.DefaultUserID); err != nil {
			t.Fatal(err)
		}
		if r := pollDevice(t, srv, dc); r.status != 200 || r.json["refresh_token"] != nil {
			t.Fatalf("approved without offline_access: %d %s", r.status, r.body)
		}
	})
	t.Run("unknown and foreign codes", func(t *testing.T) {
		wantError(t, pollDevice(t, srv, "nope"), 400, "invalid_grant", "grant request is invalid")
		wantError(t, pollDevice(t, srv, ""), 400, "invalid_request", "missing required parameter 'device_code'")
		dc, _ := start()
		r := postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {deviceGrant}, "device_code": {dc}},
			basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
		wantError(t, r, 400, "invalid_request", "requested grant type is not allowed for this client")
	})
	t.Run("grant types", func(t *testing.T) {
		r := postForm(t, srv.Issuer()+"/device/auth", url.Values{"scope": {"openid"}}, basicAuth(logtotest.DefaultAppID, logtotest.DefaultAppSecret))
		wantError(t, r, 400, "invalid_request", deviceGrant+" is not allowed for this client")
		r = postForm(t, srv.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {logtotest.DefaultDeviceAppID}})
		wantError(t, r, 400, "invalid_request", "requested grant type is not allowed for this client")
		r = postForm(t, srv.Issuer()+"/device/auth", url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "client_secret": {"x"}})
		wantError(t, r, 401, "invalid_client", "client authentication failed")
		r = deviceAuth(t, srv, url.Values{"scope": {"openid"}, "resource": {"https://unknown.example.com"}})
		wantError(t, r, 400, "invalid_target", "resource indicator is missing, or unknown")
	})
}

// TestDeviceFlowExperience: with an Experience, the user code page without
// a provider session sends the browser to the experience's first screen;
// completing the interaction approves the code and shows the success page,
// and the provider session it leaves approves the next code at once.
func TestDeviceFlowExperience(t *testing.T) {
	t.Parallel()
	srv := deviceServer(t)
	srv.SetExperience(experienceFunc(func(in logtotest.Interaction) string { return "/sign-in?app_id=" + in.ClientID }))
	res := deviceAuth(t, srv, url.Values{"scope": {"openid offline_access"}})
	dc := res.json["device_code"].(string)
	page := get(t, res.json["verification_uri_complete"].(string))
	if page.status != http.StatusSeeOther || page.header.Get("Location") != "/sign-in?app_id="+logtotest.DefaultDeviceAppID {
		t.Fatalf("device page: %d %v", page.status, page.header)
	}
	uid := cookieNamed(page, logtotest.InteractionCookie)
	if uid == nil {
		t.Fatal("no _interaction cookie")
	}
	wantError(t, pollDevice(t, srv, dc), 400, "authorization_pending", "")
	next, err := srv.CompleteInteraction(uid.Value, logtotest.DefaultUserID)
	if err != nil {
		t.Fatal(err)
	}
	done := get(t, next)
	sess := cookieNamed(done, "_session")
	if done.status != 200 || !strings.Contains(string(done.body), "Sign-in Success") || sess == nil {
		t.Fatalf("resume: %d %s", done.status, done.body)
	}
	if r := pollDevice(t, srv, dc); r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}

	res = deviceAuth(t, srv, url.Values{"scope": {"openid"}})
	if r := get(t, res.json["verification_uri_complete"].(string), sess); r.status != 200 {
		t.Fatalf("second code with a session: %d %s", r.status, r.body)
	}
	if r := pollDevice(t, srv, res.json["device_code"].(string)); r.status != 200 {
		t.Fatalf("second token: %d %s", r.status, r.body)
	}
}

type experienceFunc func(logtotest.Interaction) string

func (f experienceFunc) Location(in logtotest.Interaction) string { return f(in) }
