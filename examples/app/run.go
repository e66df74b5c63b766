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
	"slices"
	"strings"
	"time"

	"github.com/logto-go/logto/examples/internal/serve"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

const (
	defaultBaseURL = "http://localhost:3000"
	// demoProviderURL is where the in-process dev provider (logtodev) runs
	// when LOGTO_ENDPOINT is unset.
	demoProviderURL = "http://localhost:3001"

	shutdownTimeout = 10 * time.Second
)

// settings is the app configuration read from the environment.
type settings struct {
	Config logto.Config
	// Demo is true when LOGTO_ENDPOINT is unset and the app runs its own
	// dev provider (logtodev) at Config.Endpoint.
	Demo bool
	// SMS is the dev provider's SMS connector spec, LOGTO_DEV_SMS (see
	// sms.LoadConnector): "" is the console.
	SMS string
	// RandomCookieSecret is true when LOGTO_COOKIE_SECRET was unset.
	RandomCookieSecret bool
	// API is the API the home page's "Call the API" button calls (zero:
	// none): API_RESOURCE, and API_URL (default API_RESOURCE). With the demo
	// provider API_RESOURCE defaults to defaultAPIResource.
	API apiTarget
	// ServeAPI is true when the app serves examples/api's handler itself at
	// API.URL: with the demo provider, unless API_URL is set.
	ServeAPI bool
}

// loadSettings reads the LOGTO_* variables through env. providerURL is the
// endpoint used when LOGTO_ENDPOINT is unset.
func loadSettings(env func(string) string, providerURL string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	s := settings{Config: logto.Config{
		Endpoint:     get("LOGTO_ENDPOINT"),
		AppID:        get("LOGTO_APP_ID"),
		AppSecret:    get("LOGTO_APP_SECRET"),
		BaseURL:      get("LOGTO_BASE_URL"),
		CookieSecret: env("LOGTO_COOKIE_SECRET"),
		Scopes:       strings.Fields(env("LOGTO_SCOPES")),
		Resources:    strings.Fields(env("LOGTO_RESOURCES")),
	}}
	c := &s.Config
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL
	}
	apiResource, apiURL := get("API_RESOURCE"), get("API_URL")
	if c.Endpoint == "" {
		s.Demo = true
		s.SMS = get("LOGTO_DEV_SMS")
		c.Endpoint = providerURL
		if c.AppID == "" && c.AppSecret == "" {
			c.AppID, c.AppSecret = logtotest.DefaultAppID, logtotest.DefaultAppSecret
		}
		// The demo provider knows the demo API, a role and an organization:
		// ask for them unless LOGTO_SCOPES / LOGTO_RESOURCES say otherwise.
		if apiResource == "" {
			apiResource = defaultAPIResource
		}
		if get("LOGTO_SCOPES") == "" {
			c.Scopes = slices.Clone(demoScopes)
		}
		if get("LOGTO_RESOURCES") == "" {
			c.Resources = []string{apiResource}
		}
		s.ServeAPI = apiURL == ""
	}
	if apiResource != "" {
		if apiURL == "" {
			apiURL = apiResource
		}
		if _, err := serve.ListenAddr(apiURL); err != nil {
			return s, fmt.Errorf("API_URL (default API_RESOURCE): %w", err)
		}
		s.API = apiTarget{Resource: apiResource, URL: strings.TrimRight(apiURL, "/")}
		if get("API_RESOURCE") != "" && !slices.Contains(c.Resources, apiResource) {
			c.Resources = append(c.Resources, apiResource)
		}
	}
	switch {
	case c.AppID == "":
		return s, errors.New("LOGTO_APP_ID is required")
	case c.AppSecret == "":
		return s, errors.New("LOGTO_APP_SECRET is required")
	}
	if c.CookieSecret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return s, err
		}
		c.CookieSecret = base64.RawURLEncoding.EncodeToString(b)
		s.RandomCookieSecret = true
	}
	return s, nil
}

// runOptions are knobs for tests; the zero value is what main uses.
type runOptions struct {
	// providerURL is the demo provider's endpoint; default demoProviderURL.
	providerURL string
	// appListener, providerListener and apiListener replace listening on
	// the addresses derived from LOGTO_BASE_URL, providerURL and API_URL.
	appListener, providerListener, apiListener net.Listener
	// stderr receives the logs; default os.Stderr.
	stderr io.Writer
	// devServer, when set, is given the demo provider before it serves.
	devServer func(*logtodev.Server)
	// ready is called once every server accepts connections.
	ready func()
}

// run starts the app (and the demo provider when LOGTO_ENDPOINT is unset)
// and serves until ctx is done, then shuts down gracefully. stdout gets the
// instructions and, with the console SMS connector, the verification codes.
func run(ctx context.Context, env func(string) string, stdout io.Writer) error {
	return runWith(ctx, env, stdout, runOptions{})
}

func runWith(ctx context.Context, env func(string) string, stdout io.Writer, o runOptions) (err error) {
	if o.providerURL == "" {
		o.providerURL = demoProviderURL
	}
	if o.stderr == nil {
		o.stderr = os.Stderr
	}
	// Listeners handed in are ours to close, whatever happens.
	for _, l := range []net.Listener{o.appListener, o.providerListener, o.apiListener} {
		if l != nil {
			defer l.Close()
		}
	}
	logger := slog.New(slog.NewTextHandler(o.stderr, nil))

	s, err := loadSettings(env, o.providerURL)
	if err != nil {
		return err
	}
	s.Config.Logger = logger
	a, err := newApp(s.Config, s.API)
	if err != nil {
		return err
	}

	var servers []*http.Server
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	listen := func(l net.Listener, publicURL string, h http.Handler) error {
		if l == nil {
			addr, err := serve.ListenAddr(publicURL)
			if err != nil {
				return err
			}
			if l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err != nil {
				return err
			}
		}
		listeners = append(listeners, l)
		servers = append(servers, serve.NewServer(h, logger))
		return nil
	}

	var user logtotest.User
	var smsConsole bool
	if s.Demo {
		demo := newDemoDirectory(s.API.Resource)
		user = demo.User
		app := logtotest.DefaultApp()
		app.ID, app.Secret, app.Name = s.Config.AppID, s.Config.AppSecret, "Logto Go demo app"
		app.RedirectURIs = []string{a.client.RedirectURI()}
		app.PostLogoutRedirectURIs = []string{a.client.PostLogoutRedirectURI()}
		conn, err := sms.LoadConnector(s.SMS, stdout)
		if err != nil {
			return fmt.Errorf("LOGTO_DEV_SMS: %w", err)
		}
		_, smsConsole = conn.(*sms.Console)
		dev, err := logtodev.New(logtodev.Options{
			Provider: demo.providerOptions(o.providerURL, app),
			SMS:      conn,
			Logger:   logger.With("component", "logtodev"),
		})
		if err != nil {
			return fmt.Errorf("demo provider: %w", err)
		}
		if o.devServer != nil {
			o.devServer(dev)
		}
		if err := listen(o.providerListener, o.providerURL, dev); err != nil {
			return fmt.Errorf("demo provider: %w", err)
		}
	}
	if s.ServeAPI {
		h, err := messages.New(messages.Config{Endpoint: s.Config.Endpoint, Audience: s.API.Resource, Logger: logger.With("component", "api")})
		if err != nil {
			return fmt.Errorf("demo API: %w", err)
		}
		if err := listen(o.apiListener, s.API.URL, h); err != nil {
			return fmt.Errorf("demo API (set API_URL to use one running elsewhere): %w", err)
		}
	}
	if err := listen(o.appListener, s.Config.BaseURL, a); err != nil {
		return fmt.Errorf("app: %w", err)
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		l := listeners[i]
		go func() { errc <- srv.Serve(l) }()
	}
	listeners = nil // the servers own them now

	home := strings.TrimRight(s.Config.BaseURL, "/") + "/"
	if s.Demo {
		fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: running the Logto dev provider (logtodev) at %s (issuer %s/oidc).\n", o.providerURL, o.providerURL)
		fmt.Fprintf(stdout, "Demo user %s: phone %s, username %s, password %s\n", user.ID, user.Phone, user.Username, user.Password)
		fmt.Fprintf(stdout, "It holds %s for the API resource %s and is a member of the organization %q (%s).\n", messages.ScopeRead, s.API.Resource, demoOrgID, demoOrgName)
	}
	if s.ServeAPI {
		fmt.Fprintf(stdout, "Serving the demo API (examples/api) at %s.\n", s.API.URL)
	}
	if s.RandomCookieSecret {
		fmt.Fprintln(stdout, "LOGTO_COOKIE_SECRET is not set: using a random secret, so sessions won't survive a restart.")
	}
	switch {
	case !s.Demo:
		fmt.Fprintf(stdout, "Open %s\n", home)
	case smsConsole:
		fmt.Fprintf(stdout, "Open %s and press Sign In. Sign in with phone %s: the verification code appears below as 'SMS to %s: ...'. "+
			"(Or use username %s / password %s. Any other phone number registers a new user.)\n",
			home, user.Phone, user.Phone, user.Username, user.Password)
	default:
		fmt.Fprintf(stdout, "Open %s and press Sign In. Sign in with your phone number: the verification code is sent by SMS (LOGTO_DEV_SMS); "+
			"a number without an account registers a new user. (Or use username %s / password %s.)\n",
			home, user.Username, user.Password)
	}
	logger.Info("listening", "base_url", s.Config.BaseURL, "endpoint", s.Config.Endpoint, "demo", s.Demo)
	if o.ready != nil {
		o.ready()
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", serr)
		}
	}
	return err
}
