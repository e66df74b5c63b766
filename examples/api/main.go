// Command api is the demo API of the Logto Go SDK: a small JSON API that
// accepts Logto access tokens, verified with [logto.ResourceServer]. Sign in
// with examples/app and press "Call the API" to see the two work together.
//
// Routes (see package [github.com/logto-go/logto/examples/api/messages]):
//
//	GET  /healthz                           open
//	GET  /api/messages                      needs a user token with read:messages
//	POST /api/messages                      needs a user token with write:messages, body {"text":"..."}
//	GET  /api/organizations/{id}/messages   needs a token for organization {id}
//
// It is configured by environment variables:
//
//	LOGTO_ENDPOINT  Logto endpoint, default http://localhost:3001 (the demo
//	                provider of examples/app).
//	API_RESOURCE    the API resource indicator registered in Logto: tokens
//	                must be issued for it (aud). Default http://localhost:3002.
//	API_ADDR        listen address; default: API_RESOURCE's port on all
//	                interfaces when its host is localhost, e.g. :3002.
//
// Run it with
//
//	go run ./examples/api
//
// and try
//
//	curl -i http://localhost:3002/api/messages
//
// (401 with WWW-Authenticate: Bearer realm="http://localhost:3002"). When
// examples/app runs its demo provider it serves this API in process on
// API_RESOURCE's port already; run this command with a real Logto, or with
// examples/app started with API_URL set.
//
// README: https://github.com/logto-go/logto#calling-your-api
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
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}
