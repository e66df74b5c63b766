// Package logtodev is an interactive development provider that looks like
// Logto to an app and to a person: the OpenID Connect side is a
// [logtotest.Provider], and the sign-in experience is a set of small
// server-rendered pages where a person signs in with a phone number and a
// verification code sent by SMS (by default printed to the console), or with
// a username and password.
//
// It is for development only. Users live in memory, registration is open by
// default, and nothing is hardened beyond what a local tool needs. It MUST
// NOT be used to protect anything real.
//
// # Quick start
//
//	srv, err := logtodev.New(logtodev.Options{
//		Provider: logtotest.Options{URL: "http://localhost:3001"},
//	})
//	...
//	http.ListenAndServe("localhost:3001", srv)
//
// or run the command github.com/logto-go/logto/cmd/logto-dev. Point an app
// at issuer http://localhost:3001/oidc with [logtotest.DefaultAppID] and
// [logtotest.DefaultAppSecret]; the demo user is [logtotest.DefaultUser]
// (phone 15551234567, username probeuser, password Passw0rd!probe).
//
// # The flow
//
// An authorization request without a provider session (or with
// prompt=login) answers 303 to a first screen, as Logto's does, with the
// _interaction cookie naming the pending interaction:
//
//	/sign-in              phone + code, or username/email + password (default)
//	/register             phone + code registration (first_screen=register,
//	                      or interaction_mode=signUp without first_screen)
//	/identifier-sign-in   first_screen=identifier:sign_in (same forms)
//	/identifier-register  first_screen=identifier:register
//	/reset-password       first_screen=reset_password: not supported, says so
//	/single-sign-on       first_screen=single_sign_on: not supported, says so
//	/direct/<m>/<target>  direct_sign_in=social:<target> or sso:<id>: not supported
//
// each with ?app_id=<client_id> and, like Logto, organization_id, ui_locales,
// login_hint and identifier. identifier (phone, username, email) restricts
// the methods offered, and login_hint pre-fills the phone number or the
// username. As in Logto, an invalid first_screen, interaction_mode or
// direct_sign_in drops all of these parameters.
//
// The forms post to /experience/verification-code (send a code),
// /experience/verification-code/verify and /experience/password. A verified
// code signs in the user with that phone number, or registers a new one
// (a 12-character [0-9a-z] ID, the phone number, nothing else) when the
// number is unknown; on /register a number that is already registered simply
// signs in. A correct password signs in; a wrong one, or an unknown user,
// answers 422 "The username or password is incorrect." Either way the page
// answers 303 to the URL of [logtotest.Provider.CompleteInteraction], which
// redirects to the app with code, state and iss. After the app signs out
// through /oidc/session/end, the next sign-in shows the pages again.
//
// # Scripted use
//
// The pages need no JavaScript, so a script with a cookie jar that does not
// follow redirects can sign in (the README has it as curl commands):
//
//	GET  /oidc/auth?...                          303 to /sign-in?app_id=..., sets _interaction
//	GET  /sign-in                                forms with the hidden field csrf (one per interaction)
//	POST /experience/password                    csrf, identifier (username or email), password
//	POST /experience/verification-code           csrf, mode (sign-in or register), phone
//	POST /experience/verification-code/verify    csrf, mode, phone, code
//	GET  /oidc/auth/<uid>                        303 to redirect_uri?code=...&state=...&iss=...
//
// Both sign-in forms answer 303 to /oidc/auth/<uid>. The code goes only
// through Options.SMS: an [sms.Console] prints "SMS to <number>: ... <code>
// ..." and remembers it for [sms.Console.LastCode], and with
// [sms.WithRecordFile] also writes it to a file as JSON.
//
// # Verification codes
//
// [Codes] follows Logto's passcode library: 6 digits from crypto/rand, valid
// for 10 minutes, 10 wrong attempts, at most 10 codes per number per 10
// minutes, one live code per interaction. Failures are [*CodeError] values
// named like Logto's (verification_code.not_found, .phone_mismatch,
// .expired, .exceed_max_try, .code_mismatch, checked in that order, and
// request.message_rate_limited), shown on the page in plain words with
// status 400, or 429 for the rate limit. With Options.DisableRegistration an
// unknown number gets a code that is never delivered, so the pages do not
// reveal whether a number is registered.
//
// # Security
//
// Pages work without JavaScript and load none (their Content-Security-Policy
// forbids it). Every form carries a token bound to the interaction by HMAC
// and is also checked by [http.CrossOriginProtection]; the interaction cookie
// is HttpOnly and SameSite=Lax. All untrusted text goes through html/template.
// Every page is sent with Cache-Control: no-store. A missing, unknown or
// expired interaction shows "This sign-in session has expired" with
// status 400.
//
// README: https://github.com/logto-go/logto#the-dev-provider-and-sms
package logtodev
