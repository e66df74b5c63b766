// Package logtotest is an in-process OpenID Connect provider that behaves
// like a Logto 1.42 server as an OIDC client sees it.
//
// It exists so that the SDK's unit and integration tests, the demo app, and
// the tests of apps built on the SDK can run a complete sign-in, token,
// refresh, userinfo and sign-out cycle without a real Logto instance. It is not a security boundary: it signs
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
// # Testing your app
//
// Three calls give a test of an app built on the SDK everything it needs.
// [Provider.NewAppServer] reserves a port for the app and registers it
// with the provider (redirect URI <URL>/callback, post-logout redirect URI
// <URL>/), so that the app's logto.Config can be built before the app's
// handler exists; [AppServer.Start] then serves that handler. [NewBrowser]
// returns a browser whose [Browser.SignIn] walks /sign-in, the provider
// and the callback, and whose [Browser.SignOut] posts /sign-out and
// completes the provider's end-session form (xsrf and logout=yes), so the
// provider session really ends:
//
//	op := logtotest.NewServer(t)
//	app := op.NewAppServer(t)
//	client, err := logto.New(logto.Config{AppID: app.ID, AppSecret: app.Secret,
//		Endpoint: op.URL(), BaseURL: app.URL, CookieSecret: secret})
//	if err != nil {
//		t.Fatal(err)
//	}
//	app.Start(yourHandler(client))
//	b := logtotest.NewBrowser(t)
//	b.SignIn(app.URL)                   // the default user; AsUser(id) for another
//	page := b.Get(app.URL + "/account") // page.StatusCode, page.Body
//	b.SignOut(app.URL)                  // lands on the post-logout URI
//
// [Browser.Get] and [Browser.Post] make one request each and never follow
// redirects, so a signed-out request to a protected page shows its
// redirect; [Browser.Follow] follows them. The helpers take a [TestingT]
// (a *testing.T, or a *log.Logger in examples) and stop the test on
// failure. With an [Experience] installed, as in the dev provider (package
// logtodev), [Interactive] fills its sign-in pages; logtodev.PasswordSignIn
// and logtodev.PhoneSignIn are ready-made.
//
// # What it mirrors
//
// Paths, the discovery document, ES384 signing keys with RFC 7638 key IDs,
// token lifetimes (code 60 s, access and ID tokens 3600 s, refresh tokens
// 14 days), token and claim shapes, Logto's error body
// ({"code":"oidc.<error>","message":...,"error":...,"error_description":...}),
// client authentication (client_secret_basic and client_secret_post for
// Traditional apps, none plus PKCE for public apps), resource indicators,
// role-based API resource scopes, organization tokens, machine-to-machine
// tokens (client credentials), the refresh-token
// rotation policy with its 3-second reuse grace, and the two-step
// end-session page.
//
// The sign-in itself is automatic: /oidc/auth answers 303 to
// /oidc/auth/<uid>, which answers 303 to the redirect URI with code, state
// and iss. The signed-in user is chosen with [Provider.SetSignInUser], with
// a login_hint equal to a user's phone, email or username, or per browser
// with the [SignInUserHeader] that [AsUser] sends.
//
// # Device flow
//
// An [App] with DeviceFlow (see [DefaultDeviceApp]) is a Native app with the
// device flow on (RFC 8628): POST /oidc/device/auth starts a device
// authorization, the user code page /oidc/device approves it for the
// sign-in user (or through the [Experience], which signs the user in
// first), and the token endpoint answers the device_code grant with
// oidc-provider's authorization_pending, access_denied, expired_token and
// invalid_grant. [Provider.ApproveDeviceCode], [Provider.DenyDeviceCode]
// and [Provider.SetDeviceAutoApprove] stand in for the user;
// [Provider.SetDevicePollInterval] adds an interval and slow_down, which
// Logto never sends.
//
// # Simplifications
//
//   - Redirect URIs and post-logout redirect URIs match exactly; wildcards and
//     the loopback-port exception for native apps are not implemented.
//   - Roles and organizations are configured on the provider ([Role],
//     [Organization], [OrganizationRole]) instead of through a Management
//     API. As in Logto, a user's scopes for an API resource at sign-in are
//     the scopes the global roles named in [User.Roles] grant, plus the
//     ResourceScopes of the user's organization roles in every organization
//     they belong to; the token scope is the requested scopes intersected
//     with the resource's scopes and the user's, and scopes the user lacks
//     are dropped silently. A refresh re-evaluates them against the current
//     roles. An organization token (organization_id, no resource) carries the
//     organization permissions (OrganizationRole.Scopes) of the user's roles
//     in that organization, and an organization-scoped resource token
//     (resource and organization_id) only that organization's role
//     ResourceScopes, with an organization_id claim.
//   - While no Role and no OrganizationRole is configured at all, the older
//     simplification applies: a user holds every scope of every configured
//     [Resource], and the scopes of a Resource with the indicator
//     urn:logto:resource:organizations stand in for organization-role scopes
//     in every organization the user belongs to.
//   - Organization roles are defined per Organization, not as tenant-wide
//     templates. Membership is [User.Organizations] alone; an organization
//     need not be configured (organization_data then shows its ID as name).
//     There is no organization MFA requirement or just-in-time provisioning.
//   - Machine-to-machine apps ([App.MachineToMachine], [DefaultM2MApp]) get
//     tokens with the client_credentials grant as in Logto: for one API
//     resource, with the requested scopes their [App.Roles] grant (always
//     the role model: an app without roles gets no scopes); for an
//     organization they are associated with ([App.Organizations]), an
//     organization token with the permissions of their
//     [App.OrganizationRoles], or with a resource too an
//     organization-scoped resource token; 403 access_denied for an
//     organization they are not associated with. There is no default API
//     resource, and another grant by such an app fails as a grant without
//     a valid code or refresh token would (Logto says the grant type is not
//     allowed).
//   - There is no consent, MFA, third-party app, token exchange or
//     introspection. The device flow's user code page has no confirmation
//     step: a valid code is approved (or, with an Experience, signed in) at
//     once.
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
//
// README: https://github.com/logto-go/logto#testing
package logtotest
