// Command app is the demo web app of the Logto Go SDK: the Go counterpart of
// @logto/next's sample. It serves a home page with a Sign In / Sign Out
// button, the SDK's /sign-in, /callback and /sign-out endpoints, and
// /api/context, which returns the LogtoContext JSON.
//
// It is configured by environment variables:
//
//	LOGTO_ENDPOINT       Logto endpoint, e.g. https://foo.logto.app. Unset: an
//	                     in-process logtotest provider on http://localhost:3001.
//	LOGTO_APP_ID         Traditional web app ID (default with the demo provider:
//	                     logtotest.DefaultAppID).
//	LOGTO_APP_SECRET     its secret (default with the demo provider:
//	                     logtotest.DefaultAppSecret).
//	LOGTO_BASE_URL       the app's public URL, default http://localhost:3000.
//	                     The app listens on its port (all interfaces when the
//	                     host is localhost).
//	LOGTO_COOKIE_SECRET  32+ characters; unset: a random one per start.
//	LOGTO_SCOPES         extra scopes, space-separated.
//	LOGTO_RESOURCES      API resource indicators, space-separated.
//
// Run it with
//
//	go run ./examples/app
//
// and open http://localhost:3000.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
}
