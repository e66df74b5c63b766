// Package interop holds interoperability tests that run the SDK against
// third-party OpenID Connect servers instead of the in-repo logtotest
// provider: today the npm package oidc-provider (panva/node-oidc-provider
// 9.x, the engine Logto is built on), configured like Logto by
// testdata/oidc-provider/server.mjs.
//
// README: https://github.com/logto-go/logto#testing
package interop
