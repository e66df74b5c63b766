// Command app is the demo web app of the Logto Go SDK: the Go counterpart of
// @logto/next's sample. It serves a home page with a Sign In / Sign Out
// button, the SDK's /sign-in, /callback and /sign-out endpoints, and
// /api/context, which returns the LogtoContext JSON. Query parameters ask for
// more, as @logto/next's getLogtoContext does:
//
//	/api/context?fetchUserInfo=1                          + userInfo
//	/api/context?getAccessToken=1[&resource=R]            + accessToken (R's, or the default one)
//	/api/context?getAccessToken=1&organizationId=O        + accessToken: O's organization token
//	/api/context?getAccessToken=1&resource=R&organizationId=O  + accessToken: R's, scoped to O
//	/api/context?organizationId=O                         + organizationTokens[O]
//
// When signed in, the home page's "Call the API" button (POST /call-api)
// gets an access token for the API resource and calls examples/api with it.
//
// It is configured by environment variables:
//
//	LOGTO_ENDPOINT       Logto endpoint, e.g. https://foo.logto.app. Unset: the
//	                     in-process dev provider (package logtodev) on
//	                     http://localhost:3001, with sign-in pages.
//	LOGTO_APP_ID         Traditional web app ID (default with the demo provider:
//	                     logtotest.DefaultAppID).
//	LOGTO_APP_SECRET     its secret (default with the demo provider:
//	                     logtotest.DefaultAppSecret).
//	LOGTO_BASE_URL       the app's public URL, default http://localhost:3000.
//	                     The app listens on its port (all interfaces when the
//	                     host is localhost).
//	LOGTO_COOKIE_SECRET  32+ characters; unset: a random one per start.
//	LOGTO_SCOPES         extra scopes, space-separated (default with the demo
//	                     provider: phone, roles, organizations, organization_roles,
//	                     read:messages, write:messages).
//	LOGTO_RESOURCES      API resource indicators, space-separated (default with
//	                     the demo provider: API_RESOURCE).
//	API_RESOURCE         the resource indicator of examples/api (added to the
//	                     resources when set); enables "Call the API". Default
//	                     with the demo provider: http://localhost:3002.
//	API_URL              where examples/api listens, default API_RESOURCE.
//	                     With the demo provider and API_URL unset, the app
//	                     serves examples/api itself on API_RESOURCE's port.
//	LOGTO_DEV_SMS        with the demo provider: how verification codes are
//	                     sent (sms.LoadConnector): "" or "console" prints
//	                     "SMS to <number>: <text>" on stdout,
//	                     "console:<record-file>" also writes Logto's mock
//	                     SMS record file, "smsaero:<config.json>" sends real
//	                     SMS through SMS Aero.
//
// Run it with
//
//	go run ./examples/app
//
// open http://localhost:3000 and press Sign In: the dev provider's sign-in
// page asks for a phone number and sends a verification code (printed on
// stdout), or a username and password. The demo user is
// logtotest.DefaultUser (phone 15551234567, username probeuser, password
// Passw0rd!probe); any other phone number registers a new user. The demo
// provider also knows the API resource http://localhost:3002
// (read:messages, write:messages), a role "reader" granting read:messages to
// the demo user, and an organization "demo-org" the demo user is a member
// of.
//
// README: https://github.com/logto-go/logto#the-demo-apps-contract
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
