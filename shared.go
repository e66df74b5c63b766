package logto

import "time"

// SharedState is what every instance of an app must share when several
// serve it (behind a load balancer, or during a rolling deploy), as one value
// for [Config.Shared]:
//
//   - Store keeps the sessions (the cookie then holds a sealed random ID) and,
//     when it is an [AtomicAdder], claims each sign-in's code so that one
//     instance redeems it;
//   - RevocationList remembers back-channel logouts, so that a logout Logto
//     delivers to one instance ends the session on every instance;
//   - RefreshCoalescer makes the instances agree on one token request per
//     refresh.
//
// Forgetting one of the three breaks its job silently on the other instances,
// which is why [New] refuses a shared Store left with the in-process
// RevocationList or RefreshCoalescer (see [Config.InsecureProcessLocalState]).
//
// [github.com/logto-go/logto/redisstore.NewSharedState] returns one for Redis.
// For another backend, fill in the fields: a nil RevocationList keeps
// back-channel logouts in Store ([NewStoreRevocationList], clocked by
// [Config.Now]); a nil RefreshCoalescer is the in-process one, which New
// accepts only with a Store from [NewMemoryStore] (one process).
type SharedState struct {
	Store            Store
	RevocationList   RevocationList
	RefreshCoalescer RefreshCoalescer
}

// StateOption configures the constructors of in-process state:
// [NewMemoryStore], [NewMemoryRevocationList], [NewStoreRevocationList] and
// [NewLocalRefreshCoalescer].
type StateOption func(*stateOptions)

type stateOptions struct {
	now func() time.Time
}

// WithClock sets the clock that expires entries, for tests that move time:
// give it the clock of [Config.Now]. Default (or nil) time.Now.
func WithClock(now func() time.Time) StateOption {
	return func(o *stateOptions) { o.now = now }
}

// stateClock returns the clock opts set, or time.Now.
func stateClock(opts []StateOption) func() time.Time {
	var o stateOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		return time.Now
	}
	return o.now
}

// resolveState applies [Config.Shared] and the in-process defaults, and
// refuses a shared store combined with an in-process revocation list or
// refresh coalescer unless InsecureProcessLocalState says one process serves
// the app.
func (s *settings) resolveState() error {
	field := ""
	if sh := s.Shared; sh != nil {
		if s.SessionStore != nil || s.RevocationList != nil || s.RefreshCoalescer != nil {
			return &ConfigError{"Shared", "set either Shared or SessionStore, RevocationList and RefreshCoalescer, not both"}
		}
		if sh.Store == nil {
			return &ConfigError{"Shared.Store", "required"}
		}
		s.SessionStore, s.RevocationList, s.RefreshCoalescer = sh.Store, sh.RevocationList, sh.RefreshCoalescer
		if s.RevocationList == nil {
			s.RevocationList = NewStoreRevocationList(sh.Store, WithClock(s.Now))
		}
		field = "Shared."
	}
	_, inProcess := s.SessionStore.(*memoryStore)
	if s.SessionStore != nil && !inProcess && !s.InsecureProcessLocalState {
		const hint = "; set Shared to configure all three at once, or InsecureProcessLocalState if one process serves the app"
		if s.RevocationList == nil {
			return &ConfigError{field + "RevocationList", "a store shared by several instances needs a shared RevocationList (NewStoreRevocationList), or a back-channel logout received by one instance leaves the session alive on the others" + hint}
		}
		if s.RefreshCoalescer == nil {
			return &ConfigError{field + "RefreshCoalescer", "a store shared by several instances needs a shared RefreshCoalescer (redisstore.NewRefreshCoalescer), or several instances refresh one session at once, and a late replay of a rotated refresh token makes Logto revoke the grant" + hint}
		}
	}
	if s.RevocationList == nil {
		s.RevocationList = NewMemoryRevocationList(WithClock(s.Now))
	}
	if s.RefreshCoalescer == nil {
		s.RefreshCoalescer = NewLocalRefreshCoalescer(WithClock(s.Now))
	}
	return nil
}
