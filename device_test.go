package logto_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/internal/testkit"
	"github.com/logto-go/logto/logtotest"
)

const (
	nativeAppID  = "logtotestnativeapp001"
	deviceAPI    = "https://api.example.com"
	deviceSecret = "a-device-session-secret-of-32-characters"
)

// deviceHarness is a logtotest provider with a device app and the demo
// API, a fake clock, and a Sleep that advances it and runs onSleep first,
// so that no test waits.
type deviceHarness struct {
	t      *testing.T
	srv    *logtotest.Server
	clock  *testkit.Clock
	mu     sync.Mutex
	sleeps []time.Duration
	// onSleep runs at the start of the n-th sleep (from 1) with the code
	// shown to the user.
	onSleep func(n int, code logto.DeviceCode)
	code    logto.DeviceCode
	saves   int
	saved   []byte
}

func newDeviceHarness(t *testing.T) *deviceHarness {
	t.Helper()
	h := &deviceHarness{t: t, clock: testkit.NewClock()}
	h.srv = logtotest.NewServer(t, logtotest.WithClock(h.clock.Now),
		logtotest.WithApps(logtotest.DefaultDeviceApp(), logtotest.DefaultApp(), logtotest.App{ID: nativeAppID, Public: true}),
		logtotest.WithResources(logtotest.Resource{Indicator: deviceAPI, Scopes: []string{"read:messages"}}))
	return h
}

func (h *deviceHarness) config() logto.DeviceConfig {
	return logto.DeviceConfig{
		Endpoint:  h.srv.URL(),
		AppID:     logtotest.DefaultDeviceAppID,
		Scopes:    []string{"read:messages"},
		Resources: []string{deviceAPI},
		Now:       h.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			n, code, f := len(h.sleeps), h.code, h.onSleep
			h.mu.Unlock()
			if f != nil {
				f(n, code)
			}
			h.clock.Advance(d)
			return ctx.Err()
		},
		OnSessionChange: func(_ context.Context, s *logto.DeviceSession) error {
			b, err := s.Seal(deviceSecret)
			h.mu.Lock()
			h.saves++
			h.saved = b
			h.mu.Unlock()
			return err
		},
	}
}

func (h *deviceHarness) device(edit ...func(*logto.DeviceConfig)) *logto.Device {
	h.t.Helper()
	cfg := h.config()
	for _, e := range edit {
		e(&cfg)
	}
	d, err := logto.NewDevice(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *deviceHarness) prompt(code logto.DeviceCode) error {
	h.mu.Lock()
	h.code = code
	h.mu.Unlock()
	return nil
}

func (h *deviceHarness) approveAt(n int) {
	h.onSleep = func(i int, code logto.DeviceCode) {
		if i == n {
			if err := h.srv.ApproveDeviceCode(code.UserCode, logtotest.DefaultUserID); err != nil {
				h.t.Error(err)
			}
		}
	}
}

func (h *deviceHarness) signIn(d *logto.Device) *logto.DeviceSession {
	h.t.Helper()
	h.approveAt(2)
	s, err := d.SignIn(context.Background(), h.prompt)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// TestDeviceSignIn: pending -> approved. The code handed to the prompt is
// Logto's (10 minutes, the default 5 s interval as Logto sends none); the
// SDK polls once per interval, gets the tokens once the user approved on
// the second wait, verifies the ID token and saves the session; the
// default access token is served from the session without a request, an
// API token comes from a refresh with resource, whose rotated refresh
// token is saved before the token is handed out.
func TestDeviceSignIn(t *testing.T) {
	t.Parallel()
	h := newDeviceHarness(t)
	d := h.device()
	start := h.clock.Now()
	s := h.signIn(d)

	if h.code.UserCode == "" || h.code.VerificationURI != h.srv.Issuer()+"/device" ||
		h.code.VerificationURIComplete != h.srv.Issuer()+"/device?user_code="+h.code.UserCode ||
		!h.code.ExpiresAt.Equal(start.Add(10*time.Minute)) || h.code.Interval != 5*time.Second {
		t.Fatalf("device code %+v", h.code)
	}
	if !slices.Equal(h.sleeps, []time.Duration{5 * time.Second, 5 * time.Second}) {
		t.Fatalf("sleeps %v, want two of 5s", h.sleeps)
	}
	var form map[string][]string
	for _, r := range h.srv.Requests() {
		if r.Path == "/oidc/device/auth" {
			form = r.Form
		}
	}
	if got := strings.Join(form["scope"], "|"); got != "openid offline_access profile read:messages" ||
		!slices.Equal(form["resource"], []string{deviceAPI}) || form["prompt"] != nil || form["client_id"][0] != logtotest.DefaultDeviceAppID {
		t.Fatalf("device authorization form %v", form)
	}
	if n := h.srv.CountRequests("/oidc/token"); n != 2 {
		t.Fatalf("%d token requests, want 2 (pending, then tokens)", n)
	}
	if c := s.Claims(); c.Sub != logtotest.DefaultUserID || c.Name != "Probe User" || c.Iss != h.srv.Issuer() {
		t.Fatalf("claims %+v", c)
	}
	if h.saves != 1 {
		t.Fatalf("%d saves after sign-in, want 1", h.saves)
	}

	ctx := context.Background()
	if tok, err := s.AccessToken(ctx, ""); err != nil || len(tok) != 43 {
		t.Fatalf("default token %q, %v", tok, err)
	}
	if n := h.srv.CountRequests("/oidc/token"); n != 2 {
		t.Fatalf("the default token made a request (%d)", n)
	}
	tok, err := s.AccessToken(ctx, deviceAPI)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: h.srv.URL(), Audience: deviceAPI, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := rs.Verify(ctx, tok)
	if err != nil || claims.Sub != logtotest.DefaultUserID || !slices.Contains(claims.Scopes(), "read:messages") || claims.ClientID != logtotest.DefaultDeviceAppID {
		t.Fatalf("API token: %+v, %v", claims, err)
	}
	if h.saves != 2 {
		t.Fatalf("%d saves after the refresh, want 2", h.saves)
	}
	if again, err := s.AccessToken(ctx, deviceAPI); err != nil || again != tok {
		t.Fatalf("cached API token: %v", err)
	}
	if _, err := s.AccessToken(ctx, "https://other.example.com"); !errors.Is(err, logto.ErrInvalidResource) {
		t.Fatalf("unconfigured resource: %v", err)
	}

	// What was saved opens to the same user, with the rotated refresh
	// token: it refreshes fine after the old one is dead.
	opened, err := d.OpenSession(deviceSecret, h.saved)
	if err != nil || opened.Claims().Sub != logtotest.DefaultUserID {
		t.Fatalf("OpenSession: %v, %v", opened, err)
	}
	h.clock.Advance(2 * time.Hour)
	if _, err := opened.AccessToken(ctx, deviceAPI); err != nil {
		t.Fatalf("refresh of the reopened session: %v", err)
	}
	if opened.String() != `logto.DeviceSession{sub: "defaultuser1"}` {
		t.Fatalf("String shows a token: %s", opened)
	}
}

// TestDeviceSignInPollInterval: Logto's interval is used when it sends one,
// and each slow_down adds 5 s to it for the rest of the sign-in (measured
// on the injected clock); the provider saw the polls that far apart.
func TestDeviceSignInPollInterval(t *testing.T) {
	t.Parallel()
	h := newDeviceHarness(t)
	h.srv.SetDevicePollInterval(7 * time.Second)
	slowDowns := 2
	h.srv.SetHooks(logtotest.Hooks{TokenResponseFor: func(grantType string, status *int, body map[string]any) {
		if grantType == "urn:ietf:params:oauth:grant-type:device_code" && body["error"] == "authorization_pending" && slowDowns > 0 {
			slowDowns--
			body["error"], body["code"] = "slow_down", "oidc.slow_down"
			body["error_description"] = "you are polling too quickly and should back off at a reasonable rate"
		}
	}})
	h.approveAt(4)
	if _, err := h.device().SignIn(context.Background(), h.prompt); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{7 * time.Second, 12 * time.Second, 17 * time.Second, 17 * time.Second}
	if h.code.Interval != 7*time.Second || !slices.Equal(h.sleeps, want) {
		t.Fatalf("interval %v, sleeps %v, want %v", h.code.Interval, h.sleeps, want)
	}
	var polls []time.Time
	for _, r := range h.srv.Requests() {
		if r.Path == "/oidc/token" {
			polls = append(polls, r.Time)
		}
	}
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap != want[i] {
			t.Fatalf("poll %d came %v after the previous one, want %v", i+1, gap, want[i])
		}
	}
}

// TestDeviceSignInEnds: denied, expired (by Logto's expired_token and by the
// code's own expiry), cancelled, a failing prompt, an app that is not a
// device app, and an ID token that fails verification: typed errors, and
// nothing secret in them.
func TestDeviceSignInEnds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		setup   func(h *deviceHarness, cancel context.CancelFunc)
		edit    func(*logto.DeviceConfig)
		prompt  func(logto.DeviceCode) error
		want    error
		check   func(t *testing.T, err error)
		maxPoll int
	}{
		{name: "denied", setup: func(h *deviceHarness, _ context.CancelFunc) {
			h.onSleep = func(n int, code logto.DeviceCode) {
				if n == 2 {
					_ = h.srv.DenyDeviceCode(code.UserCode)
				}
			}
		}, want: logto.ErrAuthorization, check: func(t *testing.T, err error) {
			var ae *logto.AuthorizationError
			if !errors.As(err, &ae) || ae.Code != "access_denied" {
				t.Fatalf("err %v, want an AuthorizationError access_denied", err)
			}
		}, maxPoll: 2},
		{name: "expired_token", setup: func(h *deviceHarness, _ context.CancelFunc) {
			h.onSleep = func(n int, _ logto.DeviceCode) {
				if n == 2 {
					h.clock.Advance(10 * time.Minute)
				}
			}
		}, want: logto.ErrDeviceCodeExpired, maxPoll: 2},
		{name: "expired locally", setup: func(h *deviceHarness, _ context.CancelFunc) {
			h.srv.SetDevicePollInterval(time.Minute)
		}, want: logto.ErrDeviceCodeExpired, maxPoll: 10},
		{name: "cancelled while waiting", setup: func(h *deviceHarness, cancel context.CancelFunc) {
			h.onSleep = func(n int, _ logto.DeviceCode) {
				if n == 3 {
					cancel()
				}
			}
		}, want: context.Canceled, maxPoll: 2},
		{name: "prompt fails", prompt: func(logto.DeviceCode) error { return errPrompt }, want: errPrompt},
		{name: "a Native app without the device flow", edit: func(c *logto.DeviceConfig) { c.AppID = nativeAppID }, want: logto.ErrProviderResponse,
			check: func(t *testing.T, err error) {
				var pe *logto.ProviderError
				if !errors.As(err, &pe) || pe.Code != "invalid_request" || pe.Stage != "device_authorization" {
					t.Fatalf("err %v, want invalid_request at device_authorization", err)
				}
			}},
		{name: "a Traditional app", edit: func(c *logto.DeviceConfig) { c.AppID = logtotest.DefaultAppID }, want: logto.ErrProviderResponse,
			check: func(t *testing.T, err error) {
				var pe *logto.ProviderError
				if !errors.As(err, &pe) || pe.Code != "invalid_client" || pe.StatusCode != http.StatusUnauthorized {
					t.Fatalf("err %v, want 401 invalid_client", err)
				}
			}},
		{name: "ID token for another app", setup: func(h *deviceHarness, _ context.CancelFunc) {
			h.approveAt(1)
			h.srv.SetHooks(logtotest.Hooks{IDTokenClaims: func(c map[string]any) { c["aud"] = "someone-else" }})
		}, want: logto.ErrProviderResponse, check: func(t *testing.T, err error) {
			var pe *logto.ProviderError
			if !errors.As(err, &pe) || pe.Stage != "id_token" || pe.Reason != logto.ReasonAudience {
				t.Fatalf("err %v, want an id_token aud failure", err)
			}
		}, maxPoll: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newDeviceHarness(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.setup != nil {
				tc.setup(h, cancel)
			}
			edits := []func(*logto.DeviceConfig){}
			if tc.edit != nil {
				edits = append(edits, tc.edit)
			}
			prompt := tc.prompt
			if prompt == nil {
				prompt = h.prompt
			}
			s, err := h.device(edits...).SignIn(ctx, prompt)
			if s != nil || !errors.Is(err, tc.want) {
				t.Fatalf("SignIn: %v, %v; want %v", s, err, tc.want)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			if n := h.srv.CountRequests("/oidc/token"); n != tc.maxPoll {
				t.Fatalf("%d polls, want %d", n, tc.maxPoll)
			}
			for _, r := range h.srv.Requests() {
				if dc := r.Form.Get("device_code"); dc != "" && strings.Contains(err.Error(), dc) {
					t.Fatalf("the error shows the device code: %v", err)
				}
			}
			if h.saves != 0 {
				t.Fatal("a failed sign-in was saved")
			}
		})
	}
}

var errPrompt = errors.New("no terminal")

// TestDeviceSessionRefresh: a device session refreshes like a web one.
// Concurrent callers share one refresh; a failure to reach Logto keeps the
// session; a copy that missed a rotation (its refresh token replayed after
// Logto's 3 s grace) gets invalid_grant, which revokes the grant: both
// copies are over (ErrNotAuthenticated) and stay over without requests.
func TestDeviceSessionRefresh(t *testing.T) {
	t.Parallel()
	h := newDeviceHarness(t)
	d := h.device()
	s := h.signIn(d)
	stale, err := d.OpenSession(deviceSecret, h.saved)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	h.srv.ResetRequests()
	var wg sync.WaitGroup
	toks := make([]string, 20)
	for i := range toks {
		wg.Go(func() {
			var err error
			if toks[i], err = s.AccessToken(ctx, deviceAPI); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := h.srv.CountRequests("/oidc/token"); n != 1 || toks[0] == "" || len(slices.Compact(toks)) != 1 {
		t.Fatalf("%d token requests for 20 concurrent callers, want 1", n)
	}

	h.clock.Advance(2 * time.Hour) // the API token expired
	h.srv.SetHooks(logtotest.Hooks{TokenResponse: func(status *int, body map[string]any) {
		*status = http.StatusServiceUnavailable
	}})
	if _, err := s.AccessToken(ctx, deviceAPI); !errors.Is(err, logto.ErrProviderUnavailable) || errors.Is(err, logto.ErrNotAuthenticated) {
		t.Fatalf("Logto down: %v, want ErrProviderUnavailable and the session kept", err)
	}
	h.srv.SetHooks(logtotest.Hooks{})
	if _, err := s.AccessToken(ctx, deviceAPI); err != nil {
		t.Fatalf("after Logto is back: %v", err)
	}

	_, err = stale.AccessToken(ctx, deviceAPI)
	if !errors.Is(err, logto.ErrNotAuthenticated) || !errors.Is(err, logto.ErrProviderResponse) {
		t.Fatalf("replayed refresh token: %v, want ErrNotAuthenticated", err)
	}
	var pe *logto.ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("replayed refresh token: %v, want invalid_grant", err)
	}
	h.clock.Advance(2 * time.Hour)
	if _, err := s.AccessToken(ctx, deviceAPI); !errors.Is(err, logto.ErrNotAuthenticated) {
		t.Fatalf("the grant was revoked, the current session too: %v", err)
	}
	h.srv.ResetRequests()
	if _, err := s.AccessToken(ctx, ""); !errors.Is(err, logto.ErrNotAuthenticated) || h.srv.CountRequests("/oidc/token") != 0 {
		t.Fatalf("an ended session: %v", err)
	}
	if !strings.Contains(s.String(), logtotest.DefaultUserID) {
		t.Fatalf("String %q", s)
	}
}

// TestDeviceSessionSeal: a sealed session opens only with its secret, for
// its app and issuer, and is unreadable without them.
func TestDeviceSessionSeal(t *testing.T) {
	t.Parallel()
	h := newDeviceHarness(t)
	d := h.device()
	s := h.signIn(d)
	sealed, err := s.Seal(deviceSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.AccessToken(context.Background(), "")
	if strings.Contains(string(sealed), tok) || strings.Contains(string(sealed), "Probe") {
		t.Fatal("the sealed session shows a token or a claim")
	}
	other := newDeviceHarness(t)
	for name, open := range map[string]func() (*logto.DeviceSession, error){
		"wrong secret": func() (*logto.DeviceSession, error) {
			return d.OpenSession("another-secret-of-at-least-32-characters", sealed)
		},
		"tampered": func() (*logto.DeviceSession, error) {
			b := slices.Clone(sealed)
			b[len(b)/2] ^= 1
			return d.OpenSession(deviceSecret, b)
		},
		"other app": func() (*logto.DeviceSession, error) {
			return h.device(func(c *logto.DeviceConfig) { c.AppID = "another-device-app" }).OpenSession(deviceSecret, sealed)
		},
		"other issuer": func() (*logto.DeviceSession, error) {
			return other.device().OpenSession(deviceSecret, sealed)
		},
		"empty": func() (*logto.DeviceSession, error) { return d.OpenSession(deviceSecret, nil) },
	} {
		if got, err := open(); got != nil || !errors.Is(err, logto.ErrNotAuthenticated) {
			t.Errorf("%s: %v, %v; want ErrNotAuthenticated", name, got, err)
		}
	}
	if _, err := s.Seal("short"); !errors.Is(err, logto.ErrInvalidConfig) {
		t.Fatalf("short secret: %v", err)
	}
}

func TestNewDeviceValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field string
		cfg   logto.DeviceConfig
	}{
		{"AppID", logto.DeviceConfig{Endpoint: "https://x.logto.app"}},
		{"Endpoint", logto.DeviceConfig{AppID: "a"}},
		{"Endpoint", logto.DeviceConfig{AppID: "a", Endpoint: "http://logto.example.com"}},
		{"Scopes", logto.DeviceConfig{AppID: "a", Endpoint: "https://x.logto.app", Scopes: []string{"a b"}}},
		{"Resources", logto.DeviceConfig{AppID: "a", Endpoint: "https://x.logto.app", Resources: []string{"not a URI"}}},
		{"ClockSkew", logto.DeviceConfig{AppID: "a", Endpoint: "https://x.logto.app", ClockSkew: -1}},
		{"IDTokenSigningAlgs", logto.DeviceConfig{AppID: "a", Endpoint: "https://x.logto.app", IDTokenSigningAlgs: []string{"HS256"}}},
	} {
		var ce *logto.ConfigError
		if _, err := logto.NewDevice(tc.cfg); !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%+v: %v, want a ConfigError for %s", tc.cfg, err, tc.field)
		}
	}
}
