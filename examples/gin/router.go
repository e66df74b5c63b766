package main

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtogin"
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

	r.GET("/", logtogin.Wrap(client.Middleware), func(c *gin.Context) {
		render(c, "home", page{Context: logto.FromContext(c.Request.Context())}, client)
	})
	// RequireAuth sends a signed-out browser to sign-in (back here
	// afterwards) and answers 401 JSON to other requests.
	r.GET("/profile", logtogin.Wrap(client.RequireAuth), func(c *gin.Context) {
		// A token for the API: refreshed (and the session cookie rewritten)
		// when the session holds none or an old one; see logtogin.Wrap.
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
	r.GET("/api/messages", logtogin.Wrap(rs.Middleware(scopeRead)), func(c *gin.Context) {
		claims, _ := logto.AccessTokenFromContext(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"sub": claims.Sub, "messages": []string{"Hello from gin!"}})
	})
	return r
}

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
