// Package logtotest is an in-process OpenID Connect provider that behaves
// like a Logto 1.42 server as an OIDC client sees it.
//
// It exists so that the SDK's unit and integration tests, and the demo app,
// can run a complete sign-in, token, refresh, userinfo and sign-out cycle
// without a real Logto instance. It is not a security boundary: it signs
// users in without any UI and keeps all state in memory. It MUST NOT be used
// to protect anything real.
//
// # Quick start
//
// In tests, [NewServer] starts an [httptest.Server] on 127.0.0.1 and closes
// it when the test ends:
//
//	srv := logtotest.NewServer(t)
//	issuer := srv.Issuer() // http://127.0.0.1:<port>/oidc
//
// Outside tests, [New] builds a [Provider], which is an [http.Handler]:
//
//	p, err := logtotest.New(logtotest.Options{URL: "http://localhost:3001"})
//	...
//	http.ListenAndServe("localhost:3001", p)
//
// # What it mirrors
//
// Paths, the discovery document, ES384 signing keys with RFC 7638 key IDs,
// token lifetimes (code 60 s, access and ID tokens 3600 s, refresh tokens
// 14 days), token and claim shapes, Logto's error body
// ({"code":"oidc.<error>","message":...,"error":...,"error_description":...}),
// client authentication (client_secret_basic and client_secret_post for
// Traditional apps, none plus PKCE for public apps), resource indicators,
// organization tokens, the refresh-token rotation policy with its 3-second
// reuse grace, and the two-step end-session page.
//
// The sign-in itself is automatic: /oidc/auth answers 303 to
// /oidc/auth/<uid>, which answers 303 to the redirect URI with code, state
// and iss. The signed-in user is chosen with [Provider.SetSignInUser] or with
// a login_hint equal to a user's phone, email or username.
//
// # Simplifications
//
//   - Redirect URIs and post-logout redirect URIs match exactly; wildcards and
//     the loopback-port exception for native apps are not implemented.
//   - A user holds every scope of every configured [Resource]; scopes of the
//     reserved resource urn:logto:resource:organizations (configure it as a
//     Resource to give it scopes) stand in for organization-role scopes.
//   - There is no consent, MFA, third-party app, device flow, client
//     credentials, token exchange or introspection.
//
// # Misbehaving on purpose
//
// [Hooks], set with [Provider.SetHooks], change a response at the last moment
// so a test can make the provider wrong in exactly one way: a bad discovery
// field, a foreign JWKS, a tampered ID token, an error status, a truncated
// body, a slow answer. [Provider.Sign] mints arbitrary JWTs with the current
// key, [Provider.RotateSigningKey] rotates keys, and [Provider.Requests]
// records every request received, so a test can assert which calls a client
// did or did not make.
//
// # Clock
//
// Every expiry and timestamp is taken from [Options.Now], so tests can expire
// codes and tokens without sleeping.
package logtotest
