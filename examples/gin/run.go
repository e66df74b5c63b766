package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/internal/serve"
	"github.com/logto-go/logto/logtotest"
)

const (
	defaultBaseURL = "http://localhost:3000"
	// demoProviderURL is where the in-process logtotest provider runs when
	// LOGTO_ENDPOINT is unset.
	demoProviderURL = "http://localhost:3001"
)

// settings is what the environment says.
type settings struct {
	Config logto.Config
	API    string // API_RESOURCE
	Demo   bool   // LOGTO_ENDPOINT unset: run logtotest at Config.Endpoint
}

// loadSettings reads the variables listed in the package documentation.
func loadSettings(env func(string) string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	s := settings{Config: logto.Config{
		Endpoint:     get("LOGTO_ENDPOINT"),
		AppID:        get("LOGTO_APP_ID"),
		AppSecret:    get("LOGTO_APP_SECRET"),
		BaseURL:      strings.TrimRight(get("LOGTO_BASE_URL"), "/"),
		CookieSecret: env("LOGTO_COOKIE_SECRET"),
		Scopes:       []string{scopeRead},
	}, API: get("API_RESOURCE")}
	c := &s.Config
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL
	}
	if u, err := url.Parse(c.BaseURL); err != nil || u.Path != "" {
		return s, fmt.Errorf("LOGTO_BASE_URL %q: want an origin such as %s (the routes are at the root)", c.BaseURL, defaultBaseURL)
	}
	if s.API == "" {
		s.API = c.BaseURL + "/api"
	}
	c.Resources = []string{s.API}
	if c.Endpoint == "" {
		s.Demo, c.Endpoint = true, demoProviderURL
		if c.AppID == "" && c.AppSecret == "" {
			c.AppID, c.AppSecret = logtotest.DefaultAppID, logtotest.DefaultAppSecret
		}
	}
	if c.AppID == "" || c.AppSecret == "" {
		return s, errors.New("LOGTO_APP_ID and LOGTO_APP_SECRET are required with LOGTO_ENDPOINT")
	}
	if c.CookieSecret == "" {
		c.CookieSecret = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	}
	return s, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// run serves the app (and the in-process provider when LOGTO_ENDPOINT is
// unset) until ctx is done.
func run(ctx context.Context, env func(string) string, stdout io.Writer) error {
	s, err := loadSettings(env)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s.Config.Logger = logger
	client, err := logto.New(s.Config)
	if err != nil {
		return err
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: s.Config.Endpoint, Audience: s.API, Logger: logger})
	if err != nil {
		return err
	}
	if gin.Mode() == gin.DebugMode && os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode) // no route listing on start; GIN_MODE=debug brings it back
	}
	handlers := map[string]http.Handler{s.Config.BaseURL: newRouter(client, rs, s.API)}
	if s.Demo {
		app := logtotest.DefaultApp()
		app.ID, app.Secret = s.Config.AppID, s.Config.AppSecret
		app.RedirectURIs = []string{client.RedirectURI()}
		app.PostLogoutRedirectURIs = []string{client.PostLogoutRedirectURI()}
		op, err := logtotest.New(logtotest.Options{
			URL:       s.Config.Endpoint,
			Apps:      []logtotest.App{app},
			Resources: []logtotest.Resource{{Indicator: s.API, Scopes: []string{scopeRead}}},
		})
		if err != nil {
			return err
		}
		handlers[s.Config.Endpoint] = op
		fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: the test provider logtotest runs at %s and signs you in as %s without asking.\n",
			s.Config.Endpoint, logtotest.DefaultUserID)
	}
	fmt.Fprintf(stdout, "Open %s/ (API: GET %s/api/messages with a token for %s)\n", s.Config.BaseURL, s.Config.BaseURL, s.API)
	return serve.All(ctx, handlers, logger, nil)
}
