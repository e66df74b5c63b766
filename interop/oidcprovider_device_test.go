package interop_test

// Device sign-in (RFC 8628) against oidc-provider's device flow, configured
// like Logto's (server.mjs: the public client interop-device-app, a Native
// app with the device flow on). The user's part is played by a browser on
// oidc-provider's own user code pages: the link with the code, the
// confirmation form (confirm or abort), the sign-in interaction and the
// success page.

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

const (
	interopDeviceApp = "interop-device-app" // server.mjs's device client
	deviceGrantType  = "urn:ietf:params:oauth:grant-type:device_code"
)

var userCodeRE = regexp.MustCompile(`<input[^>]*name="user_code"[^>]*value="([^"]*)"`)

// deviceUser walks oidc-provider's user code pages for code as a person
// would: open verification_uri_complete (a page that posts the code with
// its xsrf token), then confirm (or abort) on the confirmation page. A
// confirmation continues through the sign-in interaction to the success
// page.
func deviceUser(t *testing.T, op *oidcProvider, code logto.DeviceCode, abort bool) {
	t.Helper()
	b := newBrowser(t)
	page := b.get(code.VerificationURIComplete)
	xsrf := xsrfRE.FindStringSubmatch(page.body)
	if page.StatusCode != 200 || xsrf == nil || !strings.Contains(page.body, code.UserCode) {
		t.Fatalf("user code link: status %d: %s", page.StatusCode, page.body)
	}
	action := op.Issuer + "/device"
	confirm := b.postForm(action, "", url.Values{"xsrf": {xsrf[1]}, "user_code": {code.UserCode}})
	xsrf = xsrfRE.FindStringSubmatch(confirm.body)
	uc := userCodeRE.FindStringSubmatch(confirm.body)
	if confirm.StatusCode != 200 || xsrf == nil || uc == nil || !strings.Contains(confirm.body, "Confirm Device") {
		t.Fatalf("confirmation page: status %d: %s", confirm.StatusCode, confirm.body)
	}
	form := url.Values{"xsrf": {xsrf[1]}, "user_code": {uc[1]}}
	if abort {
		form.Set("abort", "yes")
		if r := b.postForm(action, "", form); r.StatusCode >= 500 || !strings.Contains(r.body, "interrupted") {
			t.Fatalf("abort: status %d: %s", r.StatusCode, r.body)
		}
		return
	}
	form.Set("confirm", "yes")
	r := b.postForm(action, "", form)
	for range 5 { // -> /interaction/<uid> -> /oidc/device/<uid>: signed in
		if r.StatusCode != 303 && r.StatusCode != 302 {
			break
		}
		r = b.get(op.URL + location(t, r).RequestURI())
	}
	if r.StatusCode != 200 || !strings.Contains(r.body, "Sign-in Success") {
		t.Fatalf("after confirming: status %d: %s", r.StatusCode, r.body)
	}
}

// deviceRun is one device sign-in against op: the code shown, what the
// SDK's Sleep was asked to wait (it does not wait), and what was saved.
type deviceRun struct {
	t     *testing.T
	op    *oidcProvider
	mu    sync.Mutex
	code  logto.DeviceCode
	waits []time.Duration
	saved [][]byte
	// user runs at the start of the n-th wait (from 1).
	user func(n int, code logto.DeviceCode)
}

const interopDeviceSecret = "an-interop-device-secret-of-32-characters"

func (r *deviceRun) config() logto.DeviceConfig {
	return logto.DeviceConfig{
		Endpoint:  r.op.URL,
		AppID:     interopDeviceApp,
		Scopes:    []string{logto.UserScopeEmail, interopScope},
		Resources: []string{interopResource},
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			r.waits = append(r.waits, d)
			n, code := len(r.waits), r.code
			r.mu.Unlock()
			if r.user != nil {
				r.user(n, code)
			}
			return ctx.Err()
		},
		OnSessionChange: func(_ context.Context, s *logto.DeviceSession) error {
			b, err := s.Seal(interopDeviceSecret)
			r.mu.Lock()
			r.saved = append(r.saved, b)
			r.mu.Unlock()
			return err
		},
	}
}

func (r *deviceRun) device(edit ...func(*logto.DeviceConfig)) *logto.Device {
	r.t.Helper()
	cfg := r.config()
	for _, e := range edit {
		e(&cfg)
	}
	d, err := logto.NewDevice(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *deviceRun) signIn(d *logto.Device) (*logto.DeviceSession, error) {
	return d.SignIn(context.Background(), func(code logto.DeviceCode) error {
		r.mu.Lock()
		r.code = code
		r.mu.Unlock()
		return nil
	})
}

// TestOIDCProviderDeviceFlow: pending -> approved. oidc-provider sends no
// interval (the SDK polls every 5 s) and keeps offline_access for a device
// request without prompt=consent, so a refresh token comes with the ID
// token, which the SDK verifies. The session's API token comes from a
// refresh with resource; oidc-provider rotates a public client's refresh
// token on every use, the SDK saves each rotation, and a copy that missed
// one gets invalid_grant, which ends it (ErrNotAuthenticated) and, the
// grant being revoked, the saved session too.
func TestOIDCProviderDeviceFlow(t *testing.T) {
	t.Parallel()
	d := requireNode(t)
	op := startOIDCProvider(t, d, randomString(21), randomString(32), "http://127.0.0.1:1/callback", "http://127.0.0.1:1/")
	r := &deviceRun{t: t, op: op}
	r.user = func(n int, code logto.DeviceCode) {
		if n == 2 {
			deviceUser(t, op, code, false)
		}
	}
	dev := r.device()
	started := time.Now()
	s, err := r.signIn(dev)
	if err != nil {
		t.Fatal(err)
	}
	c := r.code
	if c.VerificationURI != op.Issuer+"/device" || !strings.HasPrefix(c.VerificationURIComplete, op.Issuer+"/device?user_code=") ||
		c.Interval != 5*time.Second || c.ExpiresAt.Sub(started) < 599*time.Second || c.ExpiresAt.Sub(started) > 601*time.Second {
		t.Fatalf("device code %+v", c)
	}
	if !slices.Equal(r.waits, []time.Duration{5 * time.Second, 5 * time.Second}) {
		t.Fatalf("waits %v", r.waits)
	}
	st := op.stats(t)
	if st.Token[deviceGrantType] != 2 || st.TokenErrors[deviceGrantType+" authorization_pending"] != 1 || st.Requests["/oidc/device/auth"] != 1 {
		t.Fatalf("provider saw %+v", st)
	}
	if cl := s.Claims(); cl.Sub != interopAccount || cl.Iss != op.Issuer || cl.Email != "interop-user@example.test" || !slices.Equal(cl.Aud, logto.Audience{interopDeviceApp}) {
		t.Fatalf("claims %+v", cl)
	}

	ctx := context.Background()
	tok, err := s.AccessToken(ctx, interopResource)
	if err != nil {
		t.Fatalf("API token (needs the refresh token oidc-provider issued without prompt=consent): %v", err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := rs.Verify(ctx, tok)
	if err != nil || claims.Sub != interopAccount || claims.ClientID != interopDeviceApp || !claims.HasScopes(interopScope) {
		t.Fatalf("API token: %+v, %v", claims, err)
	}
	if len(r.saved) != 2 {
		t.Fatalf("%d saves, want 2 (sign-in, rotation)", len(r.saved))
	}

	// The saved session, reopened by a Device that refreshes every time.
	eager := r.device(func(c *logto.DeviceConfig) { c.AccessTokenRefreshMargin = 2 * time.Hour })
	reopened, err := eager.OpenSession(interopDeviceSecret, r.saved[1])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := reopened.AccessToken(ctx, interopResource); err != nil {
			t.Fatalf("refresh %d of the reopened session: %v", i+1, err)
		}
	}
	if len(r.saved) != 4 || st.Token["refresh_token"] != 0 || op.stats(t).Token["refresh_token"] != 3 {
		t.Fatalf("%d saves, stats %+v", len(r.saved), op.stats(t))
	}

	// The first save's refresh token was rotated long ago: replaying it
	// ends that copy and revokes the grant.
	stale, err := eager.OpenSession(interopDeviceSecret, r.saved[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = stale.AccessToken(ctx, interopResource)
	var pe *logto.ProviderError
	if !errors.Is(err, logto.ErrNotAuthenticated) || !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("replayed refresh token: %v", err)
	}
	if _, err := reopened.AccessToken(ctx, interopResource); !errors.Is(err, logto.ErrNotAuthenticated) {
		t.Fatalf("after the grant was revoked: %v", err)
	}
}

// TestOIDCProviderDeviceFlowEnds: the user aborts on the confirmation page
// (access_denied), and a code that expires before anyone approves it
// (expired_token, with DEVICE_CODE_TTL=1 and one real wait of 1.2 s).
func TestOIDCProviderDeviceFlowEnds(t *testing.T) {
	t.Parallel()
	d := requireNode(t)
	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		op := startOIDCProvider(t, d, randomString(21), randomString(32), "http://127.0.0.1:1/callback", "http://127.0.0.1:1/")
		r := &deviceRun{t: t, op: op}
		r.user = func(n int, code logto.DeviceCode) {
			if n == 1 {
				deviceUser(t, op, code, true)
			}
		}
		s, err := r.signIn(r.device())
		var ae *logto.AuthorizationError
		if s != nil || !errors.Is(err, logto.ErrAuthorization) || !errors.As(err, &ae) || ae.Code != "access_denied" {
			t.Fatalf("SignIn: %v, %v; want access_denied", s, err)
		}
		if st := op.stats(t); st.TokenErrors[deviceGrantType+" access_denied"] != 1 || len(r.saved) != 0 {
			t.Fatalf("provider saw %+v", st)
		}
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		op := startOIDCProvider(t, d, randomString(21), randomString(32), "http://127.0.0.1:1/callback", "http://127.0.0.1:1/", "DEVICE_CODE_TTL=1")
		r := &deviceRun{t: t, op: op}
		r.user = func(n int, _ logto.DeviceCode) {
			if n == 1 {
				time.Sleep(1200 * time.Millisecond)
			}
		}
		s, err := r.signIn(r.device())
		if s != nil || !errors.Is(err, logto.ErrDeviceCodeExpired) {
			t.Fatalf("SignIn: %v, %v; want ErrDeviceCodeExpired", s, err)
		}
		if st := op.stats(t); st.TokenErrors[deviceGrantType+" expired_token"] != 1 {
			t.Fatalf("provider saw %+v", st)
		}
	})
}
