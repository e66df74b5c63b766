// Package logtogin runs the Logto SDK's net/http middleware in a gin router:
// logto's Client.Middleware, Client.RequireAuth (and their ...With forms)
// and a ResourceServer's Middleware, as gin.HandlerFunc.
//
//	r.GET("/", logtogin.Wrap(client.Middleware), home)
//	r.GET("/profile", logtogin.Wrap(client.RequireAuth), profile)
//	r.GET("/api/items", logtogin.Wrap(rs.Middleware("read:items")), items)
//
// It is a module of its own (github.com/logto-go/logto/logtogin), so that
// only apps that use gin compile gin.
//
// README: https://github.com/logto-go/logto#modules; the full recipe is
// examples/gin.
package logtogin

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Wrap runs mw as a gin.HandlerFunc. When mw calls its next handler, the
// rest of gin's chain runs with the request mw passed on (whose context
// carries logto's session and Context, or the access token's claims) and
// writes through the ResponseWriter mw passed on; when it does not (a
// redirect to sign-in, a 401 or 403 it wrote), the chain is aborted.
//
// The writer matters: logto's Middleware shares one session between the
// SDK calls of a request (GetAccessToken, GetContext, ...) and writes its
// cookie from its own ResponseWriter, just before the headers. gin handlers
// write to c.Writer, so Wrap makes c.Writer write through mw's writer: a
// token refreshed in a handler then reaches the session cookie. As with
// net/http, get tokens before writing the response; in gin, c.Status counts
// as writing.
func Wrap(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		gw, called := c.Writer, false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called, c.Request, c.Writer = true, r, writer{gw, w}
			c.Next()
			c.Writer = gw
		})).ServeHTTP(gw, c.Request)
		if !called {
			c.Abort()
		}
	}
}

// writer is gin's writer (Status, Size, Header, ...) whose writes go
// through w, the middleware's wrapper of that same gin writer.
type writer struct {
	gin.ResponseWriter
	w http.ResponseWriter
}

func (g writer) WriteHeader(code int)              { g.w.WriteHeader(code) }
func (g writer) Write(b []byte) (int, error)       { return g.w.Write(b) }
func (g writer) WriteString(s string) (int, error) { return io.WriteString(g.w, s) }
func (g writer) WriteHeaderNow()                   { g.w.WriteHeader(g.Status()); g.ResponseWriter.WriteHeaderNow() }
func (g writer) Flush()                            { _ = http.NewResponseController(g.w).Flush() }
