package logto

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Middleware reads the session once per request and stores the [Context] in
// the request context, where [FromContext] finds it.
//
// Within it, the calls of one request ([Client.GetAccessToken],
// [Client.GetContext], ...) share one session and are serialized, and the
// session is written once, just before the response's headers: so several
// token refreshes in one response end in one consistent cookie. Call them
// before writing the response (with the ResponseWriter the handler got).
func (c *Client) Middleware(next http.Handler) http.Handler { return c.MiddlewareWith()(next) }

// MiddlewareWith is Middleware with [ContextOption]s, e.g.
// [WithIDTokenRenewal] to keep pages signed in past the ID token's lifetime.
// A session Logto ended counts as signed out; other failures go to
// [Config.ErrorHandler].
func (c *Client) MiddlewareWith(opts ...ContextOption) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.serveWithSession(w, r, opts, func(w http.ResponseWriter, r *http.Request, _ Context) {
				next.ServeHTTP(w, r)
			})
		})
	}
}

// RequireAuth lets only signed-in requests through (and stores the [Context]
// like Middleware). Others get a redirect (303) to the sign-in path,
// returning to the current URL afterwards (or to "/" when that URL is too
// long to carry, see [SignInOptions].ReturnTo), when they are page
// navigations: GET or HEAD with "text/html" in the Accept header, as
// browsers send when following a link. Every other request (fetch, XHR,
// curl, POST forms) gets 401 with the JSON body of [WriteJSONError]:
// {"error":"not_authenticated","error_description":"sign in required"}. Use
// [Client.RequireAuthJSON] for API routes that must never redirect.
func (c *Client) RequireAuth(next http.Handler) http.Handler { return c.RequireAuthWith()(next) }

// RequireAuthJSON is RequireAuthWith for API routes: a request without a
// usable session always gets 401 with the JSON body of [WriteJSONError]
// ({"error":"not_authenticated",...}), never a redirect to sign-in, whatever
// its method or Accept header.
func (c *Client) RequireAuthJSON(opts ...ContextOption) func(http.Handler) http.Handler {
	return c.requireAuth(opts, false)
}

// RequireAuthWith is RequireAuth with [ContextOption]s, like
// [Client.MiddlewareWith]: with [WithIDTokenRenewal], pages stay signed in
// past the ID token's lifetime instead of going back to sign-in.
func (c *Client) RequireAuthWith(opts ...ContextOption) func(http.Handler) http.Handler {
	return c.requireAuth(opts, true)
}

// requireAuth builds RequireAuthWith (pages may be redirected to sign-in)
// and RequireAuthJSON (never).
func (c *Client) requireAuth(opts []ContextOption, redirectPages bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.serveWithSession(w, r, opts, func(w http.ResponseWriter, r *http.Request, lc Context) {
				if lc.IsAuthenticated {
					next.ServeHTTP(w, r)
					return
				}
				noStore(w)
				if redirectPages && isPageRequest(r) {
					http.Redirect(w, r, c.signInLocation(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				WriteJSONError(w, http.StatusUnauthorized, "not_authenticated", "sign in required")
			})
		})
	}
}

// middlewareRequest is what Middleware keeps per request, in one
// allocation: the shared session, the Context it computed, and the
// ResponseWriter that commits the session before the headers go out.
type middlewareRequest struct {
	rs     requestSession
	lc     Context
	writer sessionWriter
}

// serveWithSession installs the request's shared session (unless an outer
// Middleware of this Client did), computes the Context, runs serve with the
// committing writer, and commits at the end if serve wrote nothing.
func (c *Client) serveWithSession(w http.ResponseWriter, r *http.Request, opts []ContextOption, serve func(http.ResponseWriter, *http.Request, Context)) {
	if rs, ok := requestSessionOf(r); ok && rs.c == c {
		// Nested: the outer Middleware owns the writer and the commit.
		lc, err := c.GetContext(w, r, opts...)
		if err != nil && !errors.Is(err, ErrNotAuthenticated) {
			c.handleError(w, r, err)
			return
		}
		rs.mu.Lock()
		rs.lc = &lc
		rs.mu.Unlock()
		serve(w, r, lc)
		return
	}
	m := &middlewareRequest{rs: requestSession{c: c}}
	r = r.WithContext(context.WithValue(r.Context(), requestSessionKey{}, &m.rs))
	m.writer = sessionWriter{ResponseWriter: w, rs: &m.rs, r: r}
	lc, err := c.GetContext(&m.writer, r, opts...)
	if err != nil && !errors.Is(err, ErrNotAuthenticated) {
		c.handleError(&m.writer, r, err)
		return
	}
	m.lc = lc
	m.rs.lc = &m.lc
	serve(&m.writer, r, lc)
	m.rs.beforeHeaders(w, r) // a handler that wrote nothing
}

// sessionWriter commits the request's session just before the first
// WriteHeader, Write or Flush.
type sessionWriter struct {
	http.ResponseWriter
	rs      *requestSession
	r       *http.Request
	written bool
}

func (sw *sessionWriter) before() {
	if !sw.written {
		sw.written = true
		sw.rs.beforeHeaders(sw.ResponseWriter, sw.r)
	}
}

func (sw *sessionWriter) WriteHeader(code int) {
	sw.before()
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *sessionWriter) Write(b []byte) (int, error) {
	sw.before()
	return sw.ResponseWriter.Write(b)
}

// Flush commits and flushes when the underlying writer can.
func (sw *sessionWriter) Flush() {
	sw.before()
	_ = http.NewResponseController(sw.ResponseWriter).Flush()
}

// Hijack commits and hands over the connection when the underlying writer
// can (websocket upgrades behind Middleware).
func (sw *sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	sw.before()
	return http.NewResponseController(sw.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// signInLocation is the sign-in path with a returnTo parameter.
func (c *Client) signInLocation(returnTo string) string {
	loc := c.SignInPath()
	if rt := safeReturnTo(returnTo); rt != "/" {
		loc += "?returnTo=" + url.QueryEscape(rt)
	}
	return loc
}

func isPageRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
