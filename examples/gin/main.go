// Command gin is the gin recipe of the Logto Go SDK: a gin router that
// mounts the Client's sign-in, callback, sign-out and back-channel logout
// handlers, protects a page with the Client's RequireAuth and a JSON API
// route with a ResourceServer, each as a gin.HandlerFunc. newRouter holds all
// of it; logtogin.Wrap (module github.com/logto-go/logto/logtogin) runs the
// SDK's net/http middleware in gin's chain.
//
// Routes:
//
//	GET  /                     home: Sign In, or "Hello, <sub>" and Sign Out
//	GET  /profile              signed in only (others: 303 to sign-in, or 401 JSON)
//	GET  /api/messages         a Bearer access token for API_RESOURCE with read:messages
//	GET  /sign-in              the Client's handlers, at the Client's paths
//	GET  /callback
//	POST /sign-out
//	POST /backchannel-logout
//
// It reads the variables of examples/app that apply:
//
//	LOGTO_ENDPOINT       Logto endpoint, e.g. https://foo.logto.app. Unset: an
//	                     in-process logtotest provider on http://localhost:3001,
//	                     which signs everyone in as logtotest.DefaultUser
//	                     without asking (a test provider: it protects nothing).
//	LOGTO_APP_ID         Traditional web app ID (default with the in-process
//	LOGTO_APP_SECRET     provider: logtotest.DefaultAppID and its secret).
//	LOGTO_BASE_URL       the app's origin, default http://localhost:3000; the
//	                     app listens on its port.
//	LOGTO_COOKIE_SECRET  32+ characters; unset: a random one per start.
//	API_RESOURCE         the API resource indicator: the audience of
//	                     /api/messages' tokens, requested at sign-in. Default
//	                     LOGTO_BASE_URL + "/api". With a real Logto, register it
//	                     as an API resource with the permission read:messages
//	                     and grant that to the user through a role.
//
// Run it with
//
//	go run ./examples/gin
//
// and open http://localhost:3000.
//
// README: https://github.com/logto-go/logto/tree/main/examples#gin
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
		fmt.Fprintln(os.Stderr, "gin:", err)
		os.Exit(1)
	}
}
