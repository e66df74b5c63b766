package logto

import (
	"errors"
	"fmt"
	"html"
	"net/http"
)

// Handler serves the sign-in, callback and sign-out endpoints at
// [Client.SignInPath] (GET, optional ?returnTo=/path), [Client.CallbackPath]
// (GET) and [Client.SignOutPath] (POST). Failures go to [Config.ErrorHandler].
// Mount it at "/" of a mux, or route those paths to it; other paths get 404.
//
// Sign-in answers GET only: a HEAD from a link prefetcher must not start a
// transaction and push real ones out.
func (c *Client) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(c.SignInPath(), func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			c.handleError(w, r, ErrMethodNotAllowed)
			return
		}
		if err := c.SignIn(w, r, &SignInOptions{ReturnTo: r.URL.Query().Get("returnTo")}); err != nil {
			c.handleError(w, r, err)
		}
	})
	mux.HandleFunc(c.CallbackPath(), func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			c.handleError(w, r, ErrMethodNotAllowed)
			return
		}
		if err := c.HandleSignIn(w, r); err != nil {
			c.handleError(w, r, err)
		}
	})
	mux.HandleFunc(c.SignOutPath(), func(w http.ResponseWriter, r *http.Request) {
		if err := c.SignOut(w, r); err != nil {
			c.handleError(w, r, err)
		}
	})
	mux.HandleFunc(c.BackChannelLogoutPath(), func(w http.ResponseWriter, r *http.Request) {
		if err := c.HandleBackChannelLogout(w, r); err != nil {
			// The caller is Logto, not a browser: a small JSON answer.
			status := StatusCode(err)
			c.cfg.Logger.Warn("logto: back-channel logout rejected", "status", status, "err", sanitize(err.Error(), 300))
			WriteJSONError(w, status, "invalid_request", "logout token rejected")
		}
	})
	return mux
}

// SignInPath is the path Handler serves sign-in at: BaseURL's path +
// [Config.SignInPath]. Link to it from pages.
func (c *Client) SignInPath() string { return c.cfg.basePath + c.cfg.SignInPath }

// CallbackPath is the path of the redirect URI: BaseURL's path + [Config.CallbackPath].
func (c *Client) CallbackPath() string { return c.cfg.basePath + c.cfg.CallbackPath }

// SignOutPath is the path a sign-out form posts to: BaseURL's path + [Config.SignOutPath].
func (c *Client) SignOutPath() string { return c.cfg.basePath + c.cfg.SignOutPath }

// BackChannelLogoutPath is where Handler receives back-channel logout
// requests: BaseURL's path + [Config.BackChannelLogoutPath].
func (c *Client) BackChannelLogoutPath() string {
	return c.cfg.basePath + c.cfg.BackChannelLogoutPath
}

func (c *Client) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if c.cfg.ErrorHandler != nil {
		c.cfg.ErrorHandler(w, r, err)
		return
	}
	c.DefaultErrorHandler(w, r, err)
}

// DefaultErrorHandler logs err (never a token, code or secret: errors from this
// package carry none) and renders a plain HTML page with the status from
// [StatusCode]. Custom error handlers can delegate to it.
func (c *Client) DefaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusCode(err)
	level := "warn"
	if status >= 500 {
		level = "error"
	}
	msg := sanitize(err.Error(), 400)
	if level == "error" {
		c.cfg.Logger.Error("logto: request failed", "status", status, "path", sanitize(r.URL.Path, 200), "err", msg)
	} else {
		c.cfg.Logger.Warn("logto: request failed", "status", status, "path", sanitize(r.URL.Path, 200), "err", msg)
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	title, detail := errorText(err, status)
	fmt.Fprintf(w, errorPage, html.EscapeString(title), html.EscapeString(title), html.EscapeString(detail), html.EscapeString(c.cfg.BaseURL+"/"))
}

// errorText is what a user may see: no provider body, no token, no code.
func errorText(err error, status int) (title, detail string) {
	var ae *AuthorizationError
	var ce *CallbackError
	switch {
	case errors.As(err, &ae):
		d := "Logto did not sign you in (" + sanitize(ae.Code, 64) + ")."
		if ae.Description != "" {
			d += " " + sanitize(ae.Description, 200)
		}
		return "Sign-in was not completed", d
	case errors.As(err, &ce):
		return "This sign-in link is not valid", "It may have expired or been used already (" + string(ce.Reason) + "). Please sign in again."
	case status == http.StatusForbidden:
		return "Request refused", "This request did not come from this site."
	case status == http.StatusMethodNotAllowed:
		return "Method not allowed", "Use the button on the site."
	case status == http.StatusUnauthorized:
		return "Sign-in required", "Please sign in."
	case status == http.StatusBadGateway:
		return "Sign-in failed", "The identity provider sent an answer that could not be used. Please try again."
	case status == http.StatusServiceUnavailable:
		return "Sign-in unavailable", "The identity provider could not be reached. Please try again in a moment."
	case status == http.StatusGatewayTimeout:
		return "Sign-in timed out", "The identity provider did not answer in time. Please try again."
	}
	return "Something went wrong", "Please try again later."
}

const errorPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}a{color:#5d34f2}</style>
</head><body><h1>%s</h1><p>%s</p><p><a href="%s">Back to the app</a></p></body></html>
`
