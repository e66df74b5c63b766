package logto

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Middleware reads the session once per request and stores the [Context] in
// the request context, where [FromContext] finds it.
//
// Within it, the calls of one request ([Client.GetAccessToken],
// [Client.GetContext], ...) share one session and are serialized, so several
// token refreshes in one response end in one consistent cookie.
func (c *Client) Middleware(next http.Handler) http.Handler { return c.MiddlewareWith()(next) }

// MiddlewareWith is Middleware with [ContextOption]s, e.g.
// [WithIDTokenRenewal] to keep pages signed in past the ID token's lifetime.
// A session Logto ended counts as signed out; other failures go to
// [Config.ErrorHandler].
func (c *Client) MiddlewareWith(opts ...ContextOption) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One context value carries both the shared session and the
			// Context (FromContext finds it): one request copy per request.
			r = withRequestState(r)
			lc, err := c.GetContext(w, r, opts...)
			if err != nil && !errors.Is(err, ErrNotAuthenticated) {
				c.handleError(w, r, err)
				return
			}
			if st, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
				st.lc, st.hasContext = lc, true
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireAuth lets only signed-in requests through (and stores the [Context]
// like Middleware). Others get a redirect to the sign-in path, returning to
// the current URL afterwards (or to "/" when that URL is too long to carry,
// see [SignInOptions].ReturnTo), when they are page navigations (GET or HEAD
// accepting text/html), and 401 with a JSON body otherwise.
func (c *Client) RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withRequestState(r)
		lc, err := c.GetContext(w, r)
		if err != nil && !errors.Is(err, ErrNotAuthenticated) {
			c.handleError(w, r, err)
			return
		}
		if lc.IsAuthenticated {
			if st, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
				st.lc, st.hasContext = lc, true
			}
			next.ServeHTTP(w, r)
			return
		}
		noStore(w)
		if isPageRequest(r) {
			http.Redirect(w, r, c.signInLocation(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		writeJSONError(w, http.StatusUnauthorized, "not_authenticated", "sign in required")
	})
}

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
