package logto

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// An authorization code is redeemed once. A browser may deliver one callback
// several times (double navigation, a retried request, two tabs restoring),
// each time with the same transaction cookie; redeeming the code twice makes
// Logto revoke the whole grant (RFC 6749 section 4.1.2), so the user who just
// signed in loses the refresh token. Within one Client, concurrent callbacks
// for one state share one code exchange and all get its outcome; a callback
// for a state whose exchange has finished gets ReasonStateMismatch. Across
// instances, a SessionStore that implements AtomicAdder is where the state
// is claimed before the exchange.

// maxUsedStates caps the states remembered as used (a few MB): beyond it
// the oldest are forgotten early. Each one is a sign-in that reached the
// code exchange in the last transactionTTL.
const maxUsedStates = 100_000

// stateKey names a transaction without revealing its state: a truncated
// SHA-256 of the state.
type stateKey [16]byte

func newStateKey(state string) stateKey {
	sum := sha256.Sum256([]byte(state))
	return stateKey(sum[:16])
}

// redemptions is the in-process half: the exchanges in flight, and the
// states whose exchange has finished.
type redemptions struct {
	now func() time.Time

	mu       sync.Mutex
	inflight map[stateKey]*redemption
	used     usedStates
}

// redemption is one code exchange that several callbacks may wait for.
type redemption struct {
	code [32]byte // SHA-256 of the code: a callback with another code does not share it
	done chan struct{}
	res  *sealedSession
	err  error
}

func newRedemptions(now func() time.Time) *redemptions {
	return &redemptions{
		now:      now,
		inflight: map[stateKey]*redemption{},
		used:     usedStates{expiry: map[stateKey]int64{}, max: maxUsedStates},
	}
}

// errCodeUsed: the transaction's code was redeemed already (or is being
// redeemed for another code).
func errCodeUsed() error { return &CallbackError{Reason: ReasonStateMismatch} }

// do runs redeem for (state, code) once. A caller that finds an exchange in
// flight for state waits for it and gets its outcome, or returns when its
// own ctx ends; a caller that comes after it finished gets errCodeUsed. The
// first caller runs redeem itself with a context detached from its own, so
// that its going away does not fail the others.
func (rs *redemptions) do(ctx context.Context, state, code string, redeem func(context.Context) (*sealedSession, error)) (*sealedSession, error) {
	key := newStateKey(state)
	codeSum := sha256.Sum256([]byte(code))
	rs.mu.Lock()
	if call, ok := rs.inflight[key]; ok {
		rs.mu.Unlock()
		if subtle.ConstantTimeCompare(call.code[:], codeSum[:]) != 1 {
			return nil, errCodeUsed()
		}
		select {
		case <-call.done:
			return call.res, call.err
		case <-ctx.Done():
			return nil, providerFailure("token", ctx.Err(), ReasonTimeout)
		}
	}
	if rs.used.has(key, rs.now()) {
		rs.mu.Unlock()
		return nil, errCodeUsed()
	}
	call := &redemption{code: codeSum, done: make(chan struct{})}
	rs.inflight[key] = call
	rs.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // redeem panicked: the waiters fail, the panic goes on
			call.err = errors.New("logto: code exchange aborted")
		}
		rs.mu.Lock()
		delete(rs.inflight, key)
		rs.used.add(key, rs.now())
		rs.mu.Unlock()
		close(call.done)
	}()
	call.res, call.err = redeem(context.WithoutCancel(ctx))
	finished = true
	return call.res, call.err
}

// usedStates remembers keys for transactionTTL: a FIFO queue (the TTL is
// constant, so insertion order is expiry order) of at most max entries, the
// oldest dropped beyond that, and a map for lookups. Each add is amortized
// O(1) and nothing runs in the background.
type usedStates struct {
	expiry map[stateKey]int64 // unix nanoseconds
	queue  []usedState        // queue[head:] live, oldest first
	head   int
	max    int
}

type usedState struct {
	key     stateKey
	expires int64
}

func (u *usedStates) has(k stateKey, now time.Time) bool {
	exp, ok := u.expiry[k]
	return ok && now.UnixNano() < exp
}

func (u *usedStates) add(k stateKey, now time.Time) {
	n := now.UnixNano()
	for u.head < len(u.queue) && (u.queue[u.head].expires <= n || len(u.queue)-u.head >= u.max) {
		u.pop()
	}
	exp := now.Add(transactionTTL).UnixNano()
	u.expiry[k] = exp
	u.queue = append(u.queue, usedState{k, exp})
}

func (u *usedStates) pop() {
	e := u.queue[u.head]
	u.queue[u.head] = usedState{}
	u.head++
	if u.expiry[e.key] == e.expires { // not added again since
		delete(u.expiry, e.key)
	}
	switch live := len(u.queue) - u.head; {
	case live == 0:
		u.queue, u.head = u.queue[:0], 0
	case u.head >= 1024 && u.head >= live: // move the live half down: amortized O(1)
		copy(u.queue, u.queue[u.head:])
		u.queue, u.head = u.queue[:live], 0
	}
}

func (u *usedStates) len() int { return len(u.queue) - u.head }

// redeemOnce redeems code for tx at most once (see above) and returns the
// new session, sealed once for every callback that shares the exchange.
func (c *Client) redeemOnce(ctx context.Context, p *provider, tx *transaction, code string) (*sealedSession, error) {
	return c.redeemed.do(ctx, tx.State, code, func(ctx context.Context) (*sealedSession, error) {
		if err := c.claimState(ctx, tx.State); err != nil {
			return nil, err
		}
		sess, err := c.exchangeCode(ctx, p, tx, code)
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithTimeout(ctx, c.httpTimeout())
		defer cancel()
		sealed, err := c.sessions.sealNew(sctx, sess)
		if err != nil {
			return nil, err
		}
		c.cfg.Logger.Info("logto: signed in", "sub", sess.identity().Sub)
		return sealed, nil
	})
}

// claimedStatePrefix starts the keys of claimed states in the SessionStore.
const claimedStatePrefix = "logto:state:"

// claimState adds the transaction's state to Config.SessionStore when it is
// an AtomicAdder: only the instance that adds it redeems the code.
func (c *Client) claimState(ctx context.Context, state string) error {
	adder, ok := c.cfg.SessionStore.(AtomicAdder)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.httpTimeout())
	defer cancel()
	sum := sha256.Sum256([]byte(c.cfg.AppID + "\x00" + state))
	added, err := adder.AddIfAbsent(ctx, claimedStatePrefix+hex.EncodeToString(sum[:]), []byte{1}, transactionTTL)
	if err != nil {
		c.cfg.Logger.Error("logto: session store unavailable", "err", sanitize(err.Error(), 300))
		return fmt.Errorf("%w: %v", ErrSessionStoreUnavailable, sanitize(err.Error(), 200))
	}
	if !added {
		c.cfg.Logger.Warn("logto: callback for a sign-in another instance is completing or completed")
		return errCodeUsed()
	}
	return nil
}
