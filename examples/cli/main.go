// Command cli is the device sign-in example of the Logto Go SDK (RFC 8628,
// [logto.Device]): a command-line tool that signs you in the way `gh auth
// login` does. It prints a short code and a URL, you sign in on any
// browser, and it gets your tokens; then it prints "Hello, <your user ID>"
// and calls the demo API (examples/api) with an access token for it.
//
// Its tokens are kept in a file with mode 0600, sealed with LOGTO_CLI_KEY
// (or a fresh random key, so that the next run signs in again), so the
// next run does not sign in again; a refresh token rotated by Logto is
// saved before it is used.
//
// It is configured by environment variables:
//
//	LOGTO_ENDPOINT    Logto endpoint, e.g. https://foo.logto.app. Unset: the
//	                  CLI runs the Logto dev provider (logtodev) in process
//	                  at http://localhost:3001 and the demo API at
//	                  http://localhost:3002, and you sign in on its pages.
//	LOGTO_APP_ID      a Native application created with the device flow
//	                  on (required with LOGTO_ENDPOINT).
//	LOGTO_SCOPES      extra scopes, space-separated (default read:messages)
//	API_RESOURCE      the API resource indicator (default http://localhost:3002)
//	API_URL           where the API is served (default API_RESOURCE)
//	LOGTO_CLI_KEY     the secret sealing the token file, 32 characters or more
//	LOGTO_CLI_TOKENS  the token file (default <user config dir>/logto-go-cli/session)
//
// Run it with
//
//	go run ./examples/cli
//
// and "go run ./examples/cli sign-out" to delete the token file.
//
// README: https://github.com/logto-go/logto#device-sign-in-clis
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
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cli:", err)
		os.Exit(1)
	}
}
