package main

import (
	"errors"
	"html/template"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
)

// scopeRead is the permission GET /api/messages requires.
const scopeRead = "read:messages"

// newRouter builds the app's router (the routes are listed in the package
// documentation). apiResource is rs's audience, which client also requests
// at sign-in so the profile page can get a token for it.
func newRouter(client *logto.Client, rs *logto.ResourceServer, apiResource string) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())
	_ = r.SetTrustedProxies(nil) // ClientIP is the peer: no X-Forwarded-For trusted
	r.SetHTMLTemplate(pages)

	// The Client's endpoints are net/http handlers: mount them as they are,
	// at the Client's paths (the SDK checks the method of sign-out and
	// back-channel logout itself).
	sdk := gin.WrapH(client.Handler())
	r.GET(client.SignInPath(), sdk)
	r.GET(client.CallbackPath(), sdk)
	r.POST(client.SignOutPath(), sdk)
	r.POST(client.BackChannelLogoutPath(), sdk)

	r.GET("/", fromHTTP(client.Middleware), func(c *gin.Context) {
		render(c, "home", page{Context: logto.FromContext(c.Request.Context())}, client)
	})
	// RequireAuth sends a signed-out browser to sign-in (back here
	// afterwards) and answers 401 JSON to other requests.
	r.GET("/profile", fromHTTP(client.RequireAuth), func(c *gin.Context) {
		// A token for the API: refreshed (and the session cookie rewritten)
		// when the session holds none or an old one; see fromHTTP.
		lc, err := client.GetContext(c.Writer, c.Request, logto.WithAccessToken(apiResource))
		if errors.Is(err, logto.ErrNotAuthenticated) { // Logto ended the session
			c.Redirect(http.StatusSeeOther, client.SignInPath())
			return
		}
		p := page{Context: lc, API: apiResource}
		if err != nil {
			p.APIError = http.StatusText(logto.StatusCode(err)) // never err's text on a page
		}
		render(c, "profile", p, client)
	})
	r.GET("/api/messages", fromHTTP(rs.Middleware(scopeRead)), func(c *gin.Context) {
		claims, _ := logto.AccessTokenFromContext(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"sub": claims.Sub, "messages": []string{"Hello from gin!"}})
	})
	return r
}

// fromHTTP runs net/http middleware (logto's Middleware and RequireAuth, a
// ResourceServer's Middleware) as a gin.HandlerFunc. When the middleware calls
// next, the rest of gin's chain runs with the request it passed on (whose
// context carries the session, or the access token's claims); when it does not
// (a redirect to sign-in, a 401 or 403 it wrote), the chain is aborted.
//
// The rest of the chain also writes through the ResponseWriter the middleware
// passed on. That is the point of the wrapper: logto's Middleware shares one
// session between the calls of a request (GetAccessToken, GetContext, ...) and
// writes its cookie from a wrapper of the writer, just before the headers. gin
// handlers write to c.Writer; were that still gin's own writer, a token
// refreshed in a handler would be committed after gin had sent the headers,
// and the rotated refresh token lost. (The other choice: a gin.HandlerFunc
// that calls client.GetContext and stores the result with logto.NewContext;
// then there is no shared session, and each GetAccessToken writes its own
// cookie, which is fine for one token call per request.) As with net/http,
// get tokens before writing the response; in gin, c.Status is writing.
func fromHTTP(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		gw, called := c.Writer, false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called, c.Request, c.Writer = true, r, ginWriter{gw, w}
			c.Next()
			c.Writer = gw
		})).ServeHTTP(gw, c.Request)
		if !called {
			c.Abort()
		}
	}
}

// ginWriter is gin's writer (Status, Size, Header, ...) whose writes go
// through w, the middleware's wrapper of that same gin writer.
type ginWriter struct {
	gin.ResponseWriter
	w http.ResponseWriter
}

func (g ginWriter) WriteHeader(code int)              { g.w.WriteHeader(code) }
func (g ginWriter) Write(b []byte) (int, error)       { return g.w.Write(b) }
func (g ginWriter) WriteString(s string) (int, error) { return io.WriteString(g.w, s) }
func (g ginWriter) WriteHeaderNow()                   { g.w.WriteHeader(g.Status()); g.ResponseWriter.WriteHeaderNow() }
func (g ginWriter) Flush()                            { _ = http.NewResponseController(g.w).Flush() }

// page is what the templates read: the request's logto.Context
// (IsAuthenticated, Claims, and the token's Scopes on the profile page) and
// the links.
type page struct {
	logto.Context
	SignIn, SignOut string // the Client's paths
	API             string // the API resource (profile page)
	APIError        string // why there is no token for it
}

// render writes a page that shows personal data: never cached.
func render(c *gin.Context, name string, p page, client *logto.Client) {
	p.SignIn, p.SignOut = client.SignInPath(), client.SignOutPath()
	c.Header("Cache-Control", "no-store")
	c.HTML(http.StatusOK, name, p)
}

var pages = template.Must(template.New("").Parse(`
{{define "signout"}}<form method="post" action="{{.SignOut}}"><button type="submit">Sign Out</button></form>{{end}}

{{define "home"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Logto + gin</title></head>
<body>
{{- if .IsAuthenticated}}
<p>Hello, {{.Claims.Sub}}</p>
<p><a href="/profile">Profile</a></p>
{{template "signout" .}}
{{- else}}
<p><a href="{{.SignIn}}">Sign In</a></p>
{{- end}}
</body></html>
{{end}}

{{define "profile"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Profile · Logto + gin</title></head>
<body>
<p>Hello, {{.Claims.Sub}}</p>
{{- with .Claims.Name}}
<p>Name: {{.}}</p>
{{- end}}
<p>Your access token for <code>{{.API}}</code>:
{{- if .APIError}} none ({{.APIError}}).
{{- else}} scopes{{range .Scopes}} <code>{{.}}</code>{{end}}.
{{- end}}</p>
<p><a href="/">Home</a></p>
{{template "signout" .}}
</body></html>
{{end}}
`))
