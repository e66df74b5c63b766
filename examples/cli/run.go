package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/examples/internal/serve"
	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

const (
	// demoProviderURL and defaultAPIResource are where the dev provider and
	// the demo API run when LOGTO_ENDPOINT is unset (as for examples/app).
	demoProviderURL    = "http://localhost:3001"
	defaultAPIResource = "http://localhost:3002"
	demoRole           = "reader"

	apiTimeout      = 10 * time.Second
	shutdownTimeout = 5 * time.Second
)

// settings is the CLI configuration read from the environment.
type settings struct {
	Device      logto.DeviceConfig
	Demo        bool // LOGTO_ENDPOINT unset: run logtodev and the API in process
	APIResource string
	APIURL      string
	Key         string // LOGTO_CLI_KEY, or a random one
	RandomKey   bool
	TokenFile   string
}

func loadSettings(env func(string) string, providerURL string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	s := settings{
		Device: logto.DeviceConfig{
			Endpoint: get("LOGTO_ENDPOINT"),
			AppID:    get("LOGTO_APP_ID"),
			Scopes:   strings.Fields(env("LOGTO_SCOPES")),
		},
		APIResource: get("API_RESOURCE"),
		APIURL:      strings.TrimRight(get("API_URL"), "/"),
		Key:         env("LOGTO_CLI_KEY"),
		TokenFile:   get("LOGTO_CLI_TOKENS"),
	}
	if s.Device.Endpoint == "" {
		s.Demo = true
		s.Device.Endpoint = providerURL
		if s.Device.AppID == "" {
			s.Device.AppID = logtotest.DefaultDeviceAppID
		}
	}
	if s.Device.AppID == "" {
		return s, errors.New("LOGTO_APP_ID is required: the ID of a Native application created with the device flow on")
	}
	if len(s.Device.Scopes) == 0 {
		s.Device.Scopes = []string{messages.ScopeRead}
	}
	if s.APIResource == "" {
		s.APIResource = defaultAPIResource
	}
	if s.APIURL == "" {
		s.APIURL = strings.TrimRight(s.APIResource, "/")
	}
	s.Device.Resources = []string{s.APIResource}
	switch {
	case s.Key == "":
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return s, err
		}
		s.Key, s.RandomKey = base64.RawURLEncoding.EncodeToString(b), true
	case len(s.Key) < 32:
		return s, errors.New("LOGTO_CLI_KEY must be at least 32 characters")
	}
	if s.TokenFile == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return s, fmt.Errorf("no user config directory (set LOGTO_CLI_TOKENS): %w", err)
		}
		s.TokenFile = filepath.Join(dir, "logto-go-cli", "session")
	}
	return s, nil
}

// runOptions are knobs for tests; the zero value is what main uses.
type runOptions struct {
	// providerURL is the demo provider's endpoint; default demoProviderURL.
	providerURL string
	// providerListener and apiListener replace listening on the demo
	// provider's and API's addresses.
	providerListener, apiListener net.Listener
	// sleep replaces the wait between two polls (logto.DeviceConfig.Sleep).
	sleep func(context.Context, time.Duration) error
	// now replaces the clock (logto.DeviceConfig.Now).
	now func() time.Time
	// devServer, when set, is given the demo provider before it serves.
	devServer func(*logtodev.Server)
	// stderr receives the logs; default os.Stderr.
	stderr io.Writer
}

// run signs in (or reuses the saved session), greets the user and calls
// the API. args may be ["sign-out"], which deletes the token file.
func run(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, env, stdout, runOptions{})
}

func runWith(ctx context.Context, args []string, env func(string) string, stdout io.Writer, o runOptions) (err error) {
	for _, l := range []net.Listener{o.providerListener, o.apiListener} {
		if l != nil {
			defer l.Close()
		}
	}
	if o.providerURL == "" {
		o.providerURL = demoProviderURL
	}
	if o.stderr == nil {
		o.stderr = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(o.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := loadSettings(env, o.providerURL)
	if err != nil {
		return err
	}
	switch {
	case len(args) == 1 && args[0] == "sign-out":
		if err := os.Remove(s.TokenFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		fmt.Fprintf(stdout, "Signed out: %s deleted.\n", s.TokenFile)
		return nil
	case len(args) > 0:
		return fmt.Errorf("usage: cli [sign-out]")
	}

	if s.Demo {
		stop, err := startDemo(ctx, s, stdout, logger, o)
		if err != nil {
			return err
		}
		defer stop()
	}
	if s.RandomKey {
		fmt.Fprintln(stdout, "LOGTO_CLI_KEY is not set: using a random key, so the next run signs in again.")
	}

	cfg := s.Device
	cfg.Logger = logger
	cfg.Sleep, cfg.Now = o.sleep, o.now
	cfg.OnSessionChange = func(_ context.Context, sess *logto.DeviceSession) error {
		return saveSession(s.TokenFile, s.Key, sess)
	}
	device, err := logto.NewDevice(cfg)
	if err != nil {
		return err
	}

	sess, tok, err := savedSession(ctx, device, s, stdout)
	if err != nil {
		return err
	}
	if sess == nil {
		if sess, err = signIn(ctx, device, stdout); err != nil {
			return err
		}
		if tok, err = sess.AccessToken(ctx, s.APIResource); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Hello, %s\n", sess.Claims().Sub)
	return callAPI(ctx, s.APIURL+"/api/messages", tok, stdout)
}

// savedSession opens the token file and gets an API token with it. No file,
// one that cannot be opened, or a session Logto has ended give a nil
// session: sign in again. With the demo provider the file is not read: the
// provider forgets everything when the CLI exits.
func savedSession(ctx context.Context, device *logto.Device, s settings, stdout io.Writer) (*logto.DeviceSession, string, error) {
	if s.Demo {
		return nil, "", nil
	}
	b, err := os.ReadFile(s.TokenFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	sess, err := device.OpenSession(s.Key, b)
	if err != nil {
		fmt.Fprintf(stdout, "The saved sign-in in %s cannot be read with this LOGTO_CLI_KEY: signing in again.\n", s.TokenFile)
		return nil, "", nil
	}
	tok, err := sess.AccessToken(ctx, s.APIResource)
	switch {
	case errors.Is(err, logto.ErrNotAuthenticated):
		fmt.Fprintln(stdout, "Your saved sign-in has ended: signing in again.")
		_ = os.Remove(s.TokenFile)
		return nil, "", nil
	case err != nil:
		return nil, "", err
	}
	return sess, tok, nil
}

// signIn runs the device flow, showing the code on stdout.
func signIn(ctx context.Context, device *logto.Device, stdout io.Writer) (*logto.DeviceSession, error) {
	sess, err := device.SignIn(ctx, func(code logto.DeviceCode) error {
		link := code.VerificationURIComplete
		if link == "" {
			link = code.VerificationURI
		}
		fmt.Fprintf(stdout, "To sign in, open this link in a browser:\n  %s\nor open %s and enter the code %s.\n",
			link, code.VerificationURI, code.UserCode)
		fmt.Fprintf(stdout, "Waiting for you to sign in (the code expires at %s)...\n", code.ExpiresAt.Format(time.Kitchen))
		return nil
	})
	switch {
	case errors.Is(err, logto.ErrAuthorization):
		return nil, errors.New("the sign-in was denied")
	case errors.Is(err, logto.ErrDeviceCodeExpired):
		return nil, errors.New("the code expired before you signed in; run the command again")
	}
	return sess, err
}

// saveSession seals sess into file, mode 0600, atomically (a crash never
// leaves half a file, so a rotated refresh token is either saved or not).
func saveSession(file, key string, sess *logto.DeviceSession) error {
	b, err := sess.Seal(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".session-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := f.Chmod(0o600); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Rename(f.Name(), file)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}

// callAPI calls the demo API with tok and prints its answer.
func callAPI(ctx context.Context, u, tok string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("calling the API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("reading the API's answer: %w", err)
	}
	fmt.Fprintf(stdout, "GET %s: %s\n%s\n", u, resp.Status, strings.TrimSpace(string(body)))
	return nil
}

// startDemo serves the dev provider (with the device app, the demo user and
// the API) and the demo API in process, and returns a function that stops
// them.
func startDemo(ctx context.Context, s settings, stdout io.Writer, logger *slog.Logger, o runOptions) (func(), error) {
	user := logtotest.DefaultUser()
	user.Roles = []string{demoRole}
	app := logtotest.DefaultDeviceApp()
	app.ID, app.Name = s.Device.AppID, "Logto Go CLI example"
	dev, err := logtodev.New(logtodev.Options{
		Provider: logtotest.Options{
			URL:       s.Device.Endpoint,
			Apps:      []logtotest.App{app},
			Users:     []logtotest.User{user},
			Resources: []logtotest.Resource{{Indicator: s.APIResource, Scopes: []string{messages.ScopeRead, messages.ScopeWrite}}},
			Roles:     []logtotest.Role{{Name: demoRole, Scopes: map[string][]string{s.APIResource: {messages.ScopeRead}}}},
		},
		SMS:    sms.NewConsole(stdout),
		Logger: logger.With("component", "logtodev"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo provider: %w", err)
	}
	if o.devServer != nil {
		o.devServer(dev)
	}
	api, err := messages.New(messages.Config{Endpoint: s.Device.Endpoint, Audience: s.APIResource, Logger: logger.With("component", "api")})
	if err != nil {
		return nil, fmt.Errorf("demo API: %w", err)
	}
	var servers []*http.Server
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(sctx)
		}
	}
	for _, svc := range []struct {
		l    net.Listener
		url  string
		h    http.Handler
		name string
	}{{o.providerListener, s.Device.Endpoint, dev, "demo provider"}, {o.apiListener, s.APIURL, api, "demo API"}} {
		l := svc.l
		if l == nil {
			addr, err := serve.ListenAddr(svc.url)
			if err == nil {
				l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
			}
			if err != nil {
				stop()
				return nil, fmt.Errorf("%s: %w", svc.name, err)
			}
		}
		srv := serve.NewServer(svc.h, logger)
		servers = append(servers, srv)
		go func() { _ = srv.Serve(l) }()
	}
	fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: running the Logto dev provider (logtodev) at %s and the demo API at %s.\n", s.Device.Endpoint, s.APIURL)
	fmt.Fprintf(stdout, "Sign in with username %s and password %s, or with phone %s: the code appears below as 'SMS to %s: ...'.\n",
		user.Username, user.Password, user.Phone, user.Phone)
	return stop, nil
}
