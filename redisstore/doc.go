// Package redisstore keeps the Logto SDK's server-side state in Redis, so that
// several instances of an app share it: sessions and back-channel logouts
// ([Store], a [logto.Store]), the sign-ins whose code was redeemed ([Store]
// is a [logto.AtomicAdder] too) and token refreshes ([NewRefreshCoalescer],
// a [logto.RefreshCoalescer]). [NewSharedState] gives all of them as one
// [logto.SharedState]. It uses [github.com/redis/go-redis/v9] and accepts any
// [redis.UniversalClient]: a single node, Sentinel or Cluster.
//
// # Usage
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	client, err := logto.New(logto.Config{
//		// AppID, AppSecret, Endpoint, BaseURL, CookieSecret as usual
//		Shared: redisstore.NewSharedState(rdb),
//	})
//
// Every instance must use the same AppID, AppSecret and CookieSecret.
// [logto.New] refuses a Store from this package as SessionStore without a
// shared RevocationList and RefreshCoalescer: Shared sets all three.
//
// # What Redis holds
//
// The SDK seals (encrypts and authenticates) sessions and refresh results
// before they reach this package; a back-channel logout entry is a bare
// 8-byte timestamp. The keys are
//
//	logto:session:<app ID>:<SHA-256 of the session ID>    sessions
//	logto:state:<SHA-256 of app ID and state>             sign-ins whose code is redeemed (10 min)
//	logto:revoked:sid:<issuer>|<app ID>|<sid>             back-channel logouts of one Logto session
//	logto:revoked:sub:<issuer>|<app ID>|<sub>             back-channel logouts of a user (no sid)
//	logto:revoked:jti:<issuer>|<app ID>|<jti>             logout tokens already accepted (minutes)
//	logto:refresh:lock:<key>, logto:refresh:result:<key>  refreshes in flight
//
// where sid, sub and jti are Logto's session ID, user ID and token ID from
// the logout token and key is a hash of the refresh token, resource and
// organization. Every key names the app (or holds one of its refresh
// tokens), so apps with different App IDs can share one Redis database
// without a key prefix: a logout for one app never ends a session of
// another. No token and no session cookie's ID appears in Redis in clear, and
// errors from this package never quote a value.
//
// # Why coordinate refreshes
//
// Each refresh is a token request to Logto. Worse, once Logto rotates a
// refresh token (for a Traditional app, late in the token's life), a reuse of
// the consumed one more than 3 seconds later is taken as theft: Logto revokes
// the whole grant and the user is signed out. When a page fires many API
// calls at once and a load balancer spreads them over several instances, each
// instance would refresh the same session. [NewRefreshCoalescer] makes them
// agree on one token request; the others reuse its (sealed) result.
//
// # Why claim sign-ins
//
// A browser may deliver the same sign-in callback twice (a double
// navigation, a retried request); behind a load balancer the two may reach
// two instances. An authorization code redeemed twice makes Logto revoke the
// whole grant. Before redeeming a code, the SDK claims the sign-in's state
// with SET NX: only the instance that sets it redeems the code, the other
// answers 400.
//
// README: https://github.com/logto-go/logto#running-several-instances (and #modules for versions).
package redisstore
