// Command logto-dev runs the Logto-like development provider of package
// [github.com/logto-go/logto/logtodev]: an OpenID Connect provider with
// sign-in pages where you sign in with a phone number and a code (printed to
// the console by default) or with a username and password.
//
// Usage:
//
//	logto-dev [flags]
//
// Flags (environment variables in brackets; flags win):
//
//	-addr string                      listen address [LOGTO_DEV_ADDR] (default "localhost:3001")
//	-url string                       public base URL; the issuer is <url>/oidc [LOGTO_DEV_URL]
//	                                  (default http://<addr>, i.e. http://localhost:3001)
//	-sms string                       SMS connector: "console", "console:<record-file>" or
//	                                  "smsaero:<config.json>" [LOGTO_DEV_SMS] (default console)
//	-app-id string                    client ID (default logtotest.DefaultAppID)
//	-app-secret string                client secret (default logtotest.DefaultAppSecret)
//	-redirect-uri string              redirect URIs, comma-separated (default http://localhost:3000/callback)
//	-post-logout-redirect-uri string  post-logout redirect URIs, comma-separated (default http://localhost:3000/)
//	-disable-registration             unknown phone numbers cannot register
//	-v                                log debug messages
//
// It stops gracefully on SIGINT or SIGTERM.
//
// README: https://github.com/logto-go/logto#the-dev-provider-and-sms
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
		fmt.Fprintln(os.Stderr, "logto-dev:", err)
		os.Exit(1)
	}
}
