// Command echo is the Logto Go SDK in an Echo app
// (github.com/labstack/echo/v4): the SDK's sign-in, callback, sign-out and
// back-channel logout endpoints mounted with echo.WrapHandler, a page for
// everyone and a page for signed-in users behind the SDK's net/http
// middleware turned into echo.MiddlewareFunc with echo.WrapMiddleware, and
// an API route protected by a logto.ResourceServer the same way. See
// newRouter, and the README's "Quick start" and "Calling your API"
// sections for the net/http equivalents.
//
// It is configured by the environment variables of examples/app:
//
//	LOGTO_ENDPOINT       Logto endpoint, e.g. https://foo.logto.app. Unset: an
//	                     in-process logtotest provider on http://localhost:3001
//	                     that signs the demo user in without asking.
//	LOGTO_APP_ID         Traditional web app ID (default with the demo provider:
//	                     logtotest.DefaultAppID).
//	LOGTO_APP_SECRET     its secret (default with the demo provider:
//	                     logtotest.DefaultAppSecret).
//	LOGTO_BASE_URL       the app's public origin, default http://localhost:3000
//	                     (no path: the routes are at the root).
//	LOGTO_COOKIE_SECRET  32+ characters; unset: a random one per start.
//	API_RESOURCE         the API resource indicator this app's /api routes
//	                     accept tokens for, and asks a token for at sign-in;
//	                     default LOGTO_BASE_URL + "/api". With a real Logto,
//	                     create it (permission read:messages) and grant it
//	                     through a role.
//
// Run it with
//
//	go run ./examples/echo
//
// and open http://localhost:3000.
package main

import (
	"context"
	"crypto/rand"
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// run serves the recipe (and the demo provider when LOGTO_ENDPOINT is unset)
// until ctx is done.
func run(ctx context.Context, env func(string) string, stdout io.Writer) error {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := logto.Config{
		Endpoint:     get("LOGTO_ENDPOINT"),
		AppID:        get("LOGTO_APP_ID"),
		AppSecret:    get("LOGTO_APP_SECRET"),
		BaseURL:      get("LOGTO_BASE_URL"),
		CookieSecret: env("LOGTO_COOKIE_SECRET"),
		Scopes:       []string{scopeRead},
		Logger:       logger,
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL
	}
	apiResource := get("API_RESOURCE")
	if apiResource == "" {
		apiResource = strings.TrimRight(cfg.BaseURL, "/") + "/api"
	}
	cfg.Resources = []string{apiResource}
	demo := cfg.Endpoint == ""
	if demo {
		cfg.Endpoint = demoProviderURL
		if cfg.AppID == "" && cfg.AppSecret == "" {
			cfg.AppID, cfg.AppSecret = logtotest.DefaultAppID, logtotest.DefaultAppSecret
		}
	}
	if cfg.CookieSecret == "" {
		cfg.CookieSecret = rand.Text() + rand.Text() // 2 × 26 base32 characters
	}
	client, err := logto.New(cfg)
	if err != nil {
		return err
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: cfg.Endpoint, Audience: apiResource, Logger: logger})
	if err != nil {
		return err
	}

	handlers := map[string]http.Handler{cfg.BaseURL: newRouter(client, rs, apiResource)}
	if demo {
		// The demo provider knows this app and the API resource; with no
		// role configured, its user holds every scope of the resource.
		app := logtotest.DefaultApp()
		app.RedirectURIs = []string{client.RedirectURI()}
		app.PostLogoutRedirectURIs = []string{client.PostLogoutRedirectURI()}
		app.ID, app.Secret = cfg.AppID, cfg.AppSecret
		p, err := logtotest.New(logtotest.Options{
			URL:       demoProviderURL,
			Apps:      []logtotest.App{app},
			Resources: []logtotest.Resource{{Indicator: apiResource, Scopes: []string{scopeRead}}},
		})
		if err != nil {
			return err
		}
		handlers[demoProviderURL] = p
		fmt.Fprintf(stdout, "LOGTO_ENDPOINT is not set: a logtotest provider at %s signs in user %s without asking.\n", demoProviderURL, logtotest.DefaultUserID)
	}
	return serve.All(ctx, handlers, logger, func() { fmt.Fprintf(stdout, "Open %s\n", cfg.BaseURL) })
}
