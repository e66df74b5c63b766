// Command logto-dev runs the Logto-like development provider of package
// [github.com/logto-go/logto/logtodev]: an OpenID Connect provider with
// sign-in pages where you sign in with a phone number and a code (printed to
// the console by default) or with a username and password.
//
// Usage:
//
//	logto-dev [flags]
//	logto-dev -config cmd/logto-dev/example.json
//
// Flags (environment variables in brackets):
//
//	-config string                    JSON config file, see below [LOGTO_DEV_CONFIG]
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
// A setting given as a flag wins over its environment variable, which wins
// over the config file, which wins over the default.
//
// # Config file
//
// The -config file declares what
// [github.com/logto-go/logto/logtotest.Options] holds, in JSON with camelCase
// keys: apps, users, API resources with their scopes, global roles granting
// resource scopes, and organizations with their roles; plus "addr", "url",
// "sms" (a connector spec as -sms takes; a relative file in it is relative to
// the config file) and "disableRegistration". Every key is optional.
// cmd/logto-dev/example.json is the set-up of the demo in examples/app
// (abridged):
//
//	{
//	  "sms": "console",
//	  "apps": [{"id": "logtotestdefaultapp01", "secret": "LogtoTestDefaultAppSecret0123456",
//	            "name": "Logto Go demo app",
//	            "redirectUris": ["http://localhost:3000/callback"],
//	            "postLogoutRedirectUris": ["http://localhost:3000/"]}],
//	  "resources": [{"indicator": "http://localhost:3002", "scopes": ["read:messages", "write:messages"]}],
//	  "roles": [{"name": "reader", "scopes": {"http://localhost:3002": ["read:messages"]}}],
//	  "organizations": [{"id": "demo-org", "name": "Demo Org",
//	                     "roles": [{"name": "member", "scopes": ["read:messages"],
//	                                "resourceScopes": {"http://localhost:3002": ["read:messages"]}}]}],
//	  "users": [{"id": "defaultuser1", "username": "probeuser", "phone": "15551234567",
//	             "password": "Passw0rd!probe", "roles": ["reader"],
//	             "organizations": ["demo-org"], "organizationRoles": ["demo-org:member"]}]
//	}
//
// Keys:
//
//	apps[]           id, secret (unless "public": true), name, redirectUris (required),
//	                 postLogoutRedirectUris, public
//	users[]          id, username, name, email, phone (digits with the country code, no '+'),
//	                 picture, password, roles, organizations, organizationRoles
//	                 ("<organization id>:<role name>"), customData
//	resources[]      indicator (an absolute URI), scopes
//	roles[]          name, scopes ({"<indicator>": ["<scope>", ...]})
//	organizations[]  id, name, description, roles[] (name, scopes: organization
//	                 permissions, resourceScopes: {"<indicator>": [...]})
//
// Without "apps" the app is the one of the -app-* flags. With one app in the
// file, -app-id, -app-secret, -redirect-uri and -post-logout-redirect-uri
// replace its fields; with several they are an error. Without "users" the
// user is logtotest.DefaultUser; "users": [] means none (people register
// with a phone number). As in Logto, a user holds an API's scopes through
// roles once any role is declared, and a token carries only the scopes
// requested at sign-in: an app must ask for the API's permissions in its
// scopes (logto.Config.Scopes) as well as the API in its resources.
//
// Decoding is strict: keys match exactly, an unknown key, a null or a value
// of the wrong type is an error naming its path (apps[1]: unknown field
// "redirectUri"). Validation names the entry (users[0] "alice": role
// "admin" is not declared in roles): IDs are required and unique, and every
// role, organization, organization role, resource and scope an entry names
// must be declared. Neither errors nor the start-up banner print a secret:
// an app secret or password is shown only when it is logtotest's published
// default.
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
