package redisstore

import (
	"github.com/redis/go-redis/v9"

	"github.com/logto-go/logto"
)

// NewSharedState returns everything the instances of an app share in the
// Redis behind client, as one value for [logto.Config.Shared]:
//
//   - a [Store] ([New] without a key prefix) for sessions and the sign-ins
//     whose code was redeemed,
//   - back-channel logouts in that Store (the SDK fills in
//     [logto.NewStoreRevocationList], clocked by [logto.Config.Now]),
//   - a [NewRefreshCoalescer] configured with opts (give it
//     [WithClock](cfg.Now) when the app sets [logto.Config.Now]).
//
// The caller keeps and closes client. For a key prefix, or to keep each part
// elsewhere, fill in a [logto.SharedState] yourself.
func NewSharedState(client redis.UniversalClient, opts ...CoalescerOption) *logto.SharedState {
	if client == nil {
		panic("redisstore: NewSharedState with a nil client")
	}
	return &logto.SharedState{
		Store:            New(client),
		RefreshCoalescer: NewRefreshCoalescer(client, opts...),
	}
}
