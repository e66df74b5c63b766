// Command service is a Go job that calls an API with its own identity: it
// gets a machine-to-machine token from Logto (OAuth 2.0 client credentials,
// [logto.M2M]) for the demo API (examples/api), lists the messages, posts
// one, and, when an organization is given, lists the organization's messages
// with an organization token. It exits with status 1 when a step fails.
//
// It is configured by environment variables:
//
//	LOGTO_ENDPOINT         the Logto endpoint. Unset: the job runs the
//	                       in-process dev provider (logtodev) on
//	                       http://localhost:3001 with a demo
//	                       machine-to-machine app, and serves the demo API
//	                       itself unless API_URL is set.
//	LOGTO_M2M_APP_ID       App ID and App Secret of a Logto application of
//	LOGTO_M2M_APP_SECRET   type "Machine-to-machine" (demo: logtotest's).
//	API_RESOURCE           the API resource indicator (default
//	                       http://localhost:3002).
//	API_URL                where the API listens (default API_RESOURCE).
//	LOGTO_M2M_SCOPES       the permissions to ask for, space-separated
//	                       (default "read:messages write:messages").
//	LOGTO_ORGANIZATION_ID  an organization the app is a member of (demo
//	                       default: demo-org; "-" skips the step).
//
// Run it with
//
//	go run ./examples/service
//
// In the Logto Console: create the API resource with the permissions
// read:messages and write:messages, a machine-to-machine role holding them,
// and an application of type "Machine-to-machine" with that role; for the
// organization step, add the application to the organization with a role
// granting the organization permission read:messages.
//
// README: https://github.com/logto-go/logto#machine-to-machine
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
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}
