package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
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
	// demoProviderURL is where the in-process dev provider runs when
	// LOGTO_ENDPOINT is unset.
	demoProviderURL    = "http://localhost:3001"
	defaultAPIResource = "http://localhost:3002"
	demoOrgID          = "demo-org"
	demoRole           = "message-service"
	demoOrgRole        = "service"

	shutdownTimeout = 10 * time.Second
)

// defaultScopes are the API permissions asked for unless LOGTO_M2M_SCOPES
// says otherwise.
var defaultScopes = []string{messages.ScopeRead, messages.ScopeWrite}

// settings is the job configuration read from the environment.
type settings struct {
	// M2M is the token configuration for the API (Resource is
	// API_RESOURCE).
	M2M logto.M2MConfig
	// APIURL is where the API is called: API_URL, default API_RESOURCE.
	APIURL string
	// OrganizationID is LOGTO_ORGANIZATION_ID ("" skips the organization
	// step).
	OrganizationID string
	// Demo is true when LOGTO_ENDPOINT is unset: the job runs the dev
	// provider at M2M.Endpoint.
	Demo bool
	// ServeAPI is true when the job serves examples/api's handler itself at
	// APIURL: in the demo, unless API_URL is set.
	ServeAPI bool
}

// loadSettings reads the variables through env. providerURL is the
// endpoint used when LOGTO_ENDPOINT is unset.
func loadSettings(env func(string) string, providerURL string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	s := settings{
		M2M: logto.M2MConfig{
			Endpoint:  get("LOGTO_ENDPOINT"),
			AppID:     get("LOGTO_M2M_APP_ID"),
			AppSecret: get("LOGTO_M2M_APP_SECRET"),
			Resource:  get("API_RESOURCE"),
			Scopes:    strings.Fields(env("LOGTO_M2M_SCOPES")),
		},
		APIURL:         get("API_URL"),
		OrganizationID: get("LOGTO_ORGANIZATION_ID"),
	}
	c := &s.M2M
	if c.Resource == "" {
		c.Resource = defaultAPIResource
	}
	if len(c.Scopes) == 0 {
		c.Scopes = slices.Clone(defaultScopes)
	}
	if c.Endpoint == "" {
		s.Demo = true
		c.Endpoint = providerURL
		if c.AppID == "" && c.AppSecret == "" {
			c.AppID, c.AppSecret = logtotest.DefaultM2MAppID, logtotest.DefaultM2MAppSecret
		}
		if s.OrganizationID == "" {
			s.OrganizationID = demoOrgID
		}
		s.ServeAPI = s.APIURL == ""
	}
	if s.OrganizationID == "-" {
		s.OrganizationID = ""
	}
	if s.APIURL == "" {
		s.APIURL = c.Resource
	}
	s.APIURL = strings.TrimRight(s.APIURL, "/")
	if _, err := serve.ListenAddr(s.APIURL); err != nil {
		return s, fmt.Errorf("API_URL (default API_RESOURCE): %w", err)
	}
	switch {
	case c.AppID == "":
		return s, fmt.Errorf("LOGTO_M2M_APP_ID is required (a Machine-to-machine application's App ID)")
	case c.AppSecret == "":
		return s, fmt.Errorf("LOGTO_M2M_APP_SECRET is required")
	}
	return s, nil
}

// demoOptions is what the dev provider knows: the API with its two
// permissions, a machine-to-machine role granting both to the app, and the
// organization demo-org, of which the app is a member with a role granting
// the organization permission read:messages.
func demoOptions(s settings) logtotest.Options {
	app := logtotest.DefaultM2MApp()
	app.ID, app.Secret, app.Name = s.M2M.AppID, s.M2M.AppSecret, "Logto Go demo service"
	app.Roles = []string{demoRole}
	app.Organizations = []string{demoOrgID}
	app.OrganizationRoles = []string{demoOrgID + ":" + demoOrgRole}
	api := s.M2M.Resource
	return logtotest.Options{
		URL:       s.M2M.Endpoint,
		Apps:      []logtotest.App{app},
		Resources: []logtotest.Resource{{Indicator: api, Scopes: []string{messages.ScopeRead, messages.ScopeWrite}}},
		Roles:     []logtotest.Role{{Name: demoRole, Scopes: map[string][]string{api: {messages.ScopeRead, messages.ScopeWrite}}}},
		Organizations: []logtotest.Organization{{
			ID: demoOrgID, Name: "Demo Org",
			Roles: []logtotest.OrganizationRole{{Name: demoOrgRole, Scopes: []string{messages.ScopeRead}}},
		}},
	}
}

// runOptions are knobs for tests; the zero value is what main uses.
type runOptions struct {
	// providerURL is the demo provider's endpoint; default demoProviderURL.
	providerURL string
	// providerListener and apiListener replace listening on the addresses
	// of providerURL and API_URL.
	providerListener, apiListener net.Listener
	// stderr receives the logs; default os.Stderr.
	stderr io.Writer
}

// run runs the job once (with the demo provider and API when
// LOGTO_ENDPOINT is unset) and reports on stdout.
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
	for _, l := range []net.Listener{o.providerListener, o.apiListener} {
		if l != nil {
			defer l.Close()
		}
	}
	logger := slog.New(slog.NewTextHandler(o.stderr, nil))
	s, err := loadSettings(env, o.providerURL)
	if err != nil {
		return err
	}
	s.M2M.Logger = logger

	var servers []*http.Server
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		for _, srv := range servers {
			if serr := srv.Shutdown(sctx); serr != nil && err == nil {
				err = fmt.Errorf("shutdown: %w", serr)
			}
		}
	}()
	serveOn := func(l net.Listener, publicURL string, h http.Handler) error {
		if l == nil {
			addr, err := serve.ListenAddr(publicURL)
			if err != nil {
				return err
			}
			if l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err != nil {
				return err
			}
		}
		srv := serve.NewServer(h, logger)
		servers = append(servers, srv)
		go func() { _ = srv.Serve(l) }()
		return nil
	}
	if s.Demo {
		dev, err := logtodev.New(logtodev.Options{
			Provider: demoOptions(s),
			SMS:      sms.NewConsole(io.Discard), // nobody signs in here
			Logger:   logger.With("component", "logtodev"),
		})
		if err != nil {
			return fmt.Errorf("demo provider: %w", err)
		}
		if err := serveOn(o.providerListener, o.providerURL, dev); err != nil {
			return fmt.Errorf("demo provider: %w", err)
		}
		fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: running the Logto dev provider (logtodev) at %s with the machine-to-machine app %s\n"+
			"(role %s granting %s and %s for %s; member of the organization %s with the permission %s).\n",
			o.providerURL, s.M2M.AppID, demoRole, messages.ScopeRead, messages.ScopeWrite, s.M2M.Resource, demoOrgID, messages.ScopeRead)
	}
	if s.ServeAPI {
		h, err := messages.New(messages.Config{Endpoint: s.M2M.Endpoint, Audience: s.M2M.Resource, Logger: logger.With("component", "api")})
		if err != nil {
			return fmt.Errorf("demo API: %w", err)
		}
		if err := serveOn(o.apiListener, s.APIURL, h); err != nil {
			return fmt.Errorf("demo API (set API_URL to use one running elsewhere): %w", err)
		}
		fmt.Fprintf(stdout, "Serving the demo API (examples/api) at %s.\n", s.APIURL)
	}
	return job(ctx, s, stdout)
}
