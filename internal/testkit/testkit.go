// Package testkit holds small helpers shared by this module's tests.
package testkit

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent use: a log or console sink
// that tests read while servers write to it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Clock is a settable clock safe for concurrent use; its zero value starts
// at the zero time, NewClock at the current second.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to now, truncated to the second.
func NewClock() *Clock { return &Clock{now: time.Now().Truncate(time.Second)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set sets the clock's time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Errors records the errors an app's error handler saw, for assertions.
type Errors struct {
	mu   sync.Mutex
	errs []error
}

// Record adds err.
func (e *Errors) Record(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

// Last returns the last recorded error, or nil.
func (e *Errors) Last() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[len(e.errs)-1]
}

// IsolateDefaultTransport makes http.DefaultTransport a transport that
// httptest.Server.Close cannot reach. Close closes the idle connections of
// http.DefaultTransport, which fails requests that parallel tests have in
// flight on it ("http: CloseIdleConnections called"); test packages call this
// from an init function.
func IsolateDefaultTransport() {
	if _, ok := http.DefaultTransport.(isolatedTransport); ok {
		return
	}
	http.DefaultTransport = isolatedTransport{http.DefaultTransport.(*http.Transport).Clone()}
}

// isolatedTransport has no CloseIdleConnections method, so httptest leaves
// it alone.
type isolatedTransport struct{ t *http.Transport }

func (i isolatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return i.t.RoundTrip(r)
}
