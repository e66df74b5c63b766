// Command chi is the chi recipe of the Logto Go SDK: a
// [github.com/go-chi/chi/v5] router that mounts the SDK's sign-in, callback,
// sign-out and back-channel logout endpoints, a page for signed-in users
// (client.RequireAuth) and a JSON API that takes Logto access tokens
// (logto.ResourceServer), with the SDK's net/http middleware used as chi
// middleware as it is. The routes are built by newRouter, in router.go.
//
// It is configured by environment variables, like examples/app:
//
//	LOGTO_ENDPOINT       Logto endpoint, e.g. https://foo.logto.app. Unset: an
//	                     in-process test provider (package logtotest) on
//	                     http://localhost:3001 that signs the demo user in
//	                     without asking anything.
//	LOGTO_APP_ID         Traditional web app ID (demo: logtotest.DefaultAppID).
//	LOGTO_APP_SECRET     its secret (demo: logtotest.DefaultAppSecret).
//	LOGTO_BASE_URL       the app's public URL, default http://localhost:3000;
//	                     the app listens on its port.
//	LOGTO_COOKIE_SECRET  32+ characters; unset: a random one per start.
//	API_RESOURCE         the API resource indicator the /api routes accept
//	                     tokens for, and the app asks a token for (required
//	                     with LOGTO_ENDPOINT; demo: LOGTO_BASE_URL + "/api").
//
// Run it with
//
//	go run ./examples/chi
//
// open http://localhost:3000 and press Sign In, and try the API:
//
//	curl -i http://localhost:3000/api/messages   # 401, WWW-Authenticate: Bearer ...
//
// See the "chi" section of examples/README.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/internal/serve"
	"github.com/logto-go/logto/logtotest"
)

const (
	defaultBaseURL  = "http://localhost:3000"
	demoProviderURL = "http://localhost:3001"
	demoRole        = "reader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chi:", err)
		os.Exit(1)
	}
}

// settings is the configuration read from the environment.
type settings struct {
	Config      logto.Config
	APIResource string
	// Demo is true without LOGTO_ENDPOINT: the app runs a logtotest
	// provider at Config.Endpoint.
	Demo bool
}

func loadSettings(getenv func(string) string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	s := settings{APIResource: get("API_RESOURCE"), Config: logto.Config{
		Endpoint:     get("LOGTO_ENDPOINT"),
		AppID:        get("LOGTO_APP_ID"),
		AppSecret:    get("LOGTO_APP_SECRET"),
		BaseURL:      get("LOGTO_BASE_URL"),
		CookieSecret: getenv("LOGTO_COOKIE_SECRET"),
	}}
	c := &s.Config
	if c.BaseURL == "" {
		c.BaseURL = defaultBaseURL
	}
	if c.Endpoint == "" {
		s.Demo, c.Endpoint = true, demoProviderURL
		if c.AppID == "" && c.AppSecret == "" {
			c.AppID, c.AppSecret = logtotest.DefaultAppID, logtotest.DefaultAppSecret
		}
		if s.APIResource == "" {
			s.APIResource = strings.TrimRight(c.BaseURL, "/") + "/api"
		}
	}
	switch {
	case c.AppID == "" || c.AppSecret == "":
		return s, errors.New("LOGTO_APP_ID and LOGTO_APP_SECRET are required with LOGTO_ENDPOINT")
	case s.APIResource == "":
		return s, errors.New("API_RESOURCE is required with LOGTO_ENDPOINT")
	}
	// Ask for a token for the API, with its permission, at sign-in.
	c.Resources, c.Scopes = []string{s.APIResource}, []string{scopeRead}
	if c.CookieSecret == "" {
		c.CookieSecret = rand.Text() + rand.Text() // 52 characters
	}
	return s, nil
}

// demoProviderOptions configure the in-process provider at providerURL: app
// is the one application, the demo user (logtotest.DefaultUser) holds the
// role "reader", which grants read:messages (not write:messages) for
// apiResource.
func demoProviderOptions(providerURL string, app logtotest.App, apiResource string) logtotest.Options {
	user := logtotest.DefaultUser()
	user.Roles = []string{demoRole}
	return logtotest.Options{
		URL:       providerURL,
		Apps:      []logtotest.App{app},
		Users:     []logtotest.User{user},
		Resources: []logtotest.Resource{{Indicator: apiResource, Scopes: []string{scopeRead, "write:messages"}}},
		Roles:     []logtotest.Role{{Name: demoRole, Scopes: map[string][]string{apiResource: {scopeRead}}}},
	}
}

// run serves the app (and the demo provider) until ctx is done.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	s.Config.Logger = logger
	client, err := logto.New(s.Config)
	if err != nil {
		return err
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: s.Config.Endpoint, Audience: s.APIResource, Logger: logger})
	if err != nil {
		return err
	}

	handlers := map[string]http.Handler{s.Config.BaseURL: newRouter(client, rs, s.APIResource)}
	if s.Demo {
		app := logtotest.DefaultApp()
		app.RedirectURIs = []string{client.RedirectURI()}
		app.PostLogoutRedirectURIs = []string{client.PostLogoutRedirectURI()}
		p, err := logtotest.New(demoProviderOptions(demoProviderURL, app, s.APIResource))
		if err != nil {
			return err
		}
		handlers[demoProviderURL] = p
		fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: a test provider (logtotest) runs at %s and signs in %s without asking.\n", demoProviderURL, logtotest.DefaultUserID)
	}
	return serve.All(ctx, handlers, logger, func() {
		fmt.Fprintf(stdout, "Open %s (API: %s/api/messages, resource %s)\n", s.Config.BaseURL, strings.TrimRight(s.Config.BaseURL, "/"), s.APIResource)
	})
}
