package logto

import "time"

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
