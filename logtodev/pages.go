package logtodev

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/logto-go/logto/logtotest"
)

// maxFormBytes bounds a posted form.
const maxFormBytes = 16 << 10

// Messages shown on the pages.
const (
	msgExpired        = "This sign-in session has expired. Go back to the app and sign in again."
	msgForbidden      = "This form did not come from this sign-in page, or it is too old. Go back to the app and sign in again."
	msgBadPhone       = "Enter a valid phone number: digits with the country code, e.g. +1 555 123 4567."
	msgNoPhone        = "This app does not offer sign-in with a phone number."
	msgNoPassword     = "This app does not offer sign-in with a password."
	msgBadCredentials = "The username or password is incorrect."
	msgRateLimited    = "Too many codes sent to this number. Try again in a few minutes."
	msgDelivery       = "The code could not be sent. Try again in a moment."
	msgRegisterClosed = "Registration is turned off in this development provider. Sign in with an existing account instead."
)

// methods are the sign-in methods an interaction offers.
type methods struct{ phone, username, email bool }

func (m methods) password() bool { return m.username || m.email }

// identifierLabel names the password form's identifier field.
func (m methods) identifierLabel() string {
	switch {
	case m.username && m.email:
		return "Username or email"
	case m.email:
		return "Email"
	}
	return "Username"
}

// allowedMethods applies the identifier parameter (already filtered to
// phone, username and email); none means all.
func allowedMethods(in logtotest.Interaction) methods {
	if len(in.Identifiers) == 0 {
		return methods{true, true, true}
	}
	var m methods
	for _, id := range in.Identifiers {
		switch id {
		case "phone":
			m.phone = true
		case "username":
			m.username = true
		case "email":
			m.email = true
		}
	}
	return m
}

// interaction returns the pending interaction named by the _interaction
// cookie, with its parameters as Logto reads them.
func (s *Server) interaction(r *http.Request) (logtotest.Interaction, bool) {
	c, err := r.Cookie(logtotest.InteractionCookie)
	if err != nil || c.Value == "" {
		return logtotest.Interaction{}, false
	}
	in, ok := s.Provider.Interaction(c.Value)
	if !ok {
		return logtotest.Interaction{}, false
	}
	return params(in), true
}

// link returns base path + route + ?app_id=... (+ extra query).
func (s *Server) link(route string, in logtotest.Interaction, extra ...string) string {
	q := url.Values{"app_id": {in.ClientID}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return s.basePath + route + "?" + q.Encode()
}

// newPage fills what every interaction page needs.
func (s *Server) newPage(view string, in logtotest.Interaction) *page {
	m := allowedMethods(in)
	d := &page{
		View: view, CSRF: s.csrfToken(in.UID), Phone: m.phone, Password: m.password(),
		IdentifierLabel: m.identifierLabel(), Mode: "sign-in", CodeLength: CodeLength,
		SendAction:     s.basePath + routeSendCode,
		VerifyAction:   s.basePath + routeVerifyCode,
		PasswordAction: s.basePath + routePassword,
		SignInURL:      s.link(routeSignIn, in),
		PhoneURL:       s.link(routeSignIn, in, "method", "phone"),
		PasswordURL:    s.link(routeSignIn, in, "method", "password"),
	}
	if !s.noRegister && m.phone {
		d.RegisterURL = s.link(routeRegister, in)
	}
	return d
}

// signInPage serves /sign-in and /identifier-sign-in: a phone form and a
// username (or email) + password form, as the identifier parameter allows,
// pre-filled from login_hint. ?method=phone|password picks the form.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, route string) {
	in, ok := s.interaction(r)
	if !ok {
		s.expired(w)
		return
	}
	d := s.newPage("sign-in", in)
	d.Title, d.Heading = "Sign in", "Sign in"
	if route == routeIdentifierSignIn {
		d.PhoneURL = s.link(route, in, "method", "phone")
		d.PasswordURL = s.link(route, in, "method", "password")
	}
	if !d.Phone && !d.Password {
		s.message(w, http.StatusOK, "Sign in", "This app asked for a sign-in method the development provider does not support.", "", "")
		return
	}
	hint := in.LoginHint
	phone, isPhone := normalizePhone(hint)
	switch method := r.URL.Query().Get("method"); {
	case method == "phone" && d.Phone, method == "password" && d.Password:
		d.Tab = method
	case d.Phone && (isPhone || hint == "" || !d.Password):
		d.Tab = "phone"
	default:
		d.Tab = "password"
	}
	if isPhone && d.Phone {
		d.PhoneValue = phone
	} else if d.Password {
		d.IdentifierValue = hint
	}
	s.render(w, http.StatusOK, d)
}

// registerPage serves /register and /identifier-register: registration
// with a phone number and a code.
func (s *Server) registerPage(w http.ResponseWriter, r *http.Request, route string) {
	in, ok := s.interaction(r)
	if !ok {
		s.expired(w)
		return
	}
	d := s.newPage("register", in)
	switch {
	case s.noRegister:
		s.message(w, http.StatusOK, "Create account", msgRegisterClosed, d.SignInURL, "Sign in")
		return
	case !d.Phone:
		s.message(w, http.StatusOK, "Create account",
			"The development provider registers users with a phone number only, which this app does not offer.", d.SignInURL, "Sign in")
		return
	}
	d.Title, d.Heading, d.Mode = "Create account", "Create your account", "register"
	if phone, ok := normalizePhone(in.LoginHint); ok {
		d.PhoneValue = phone
	}
	s.render(w, http.StatusOK, d)
}

// unsupportedPage serves /reset-password, /single-sign-on and
// /direct/<method>/<target>, which the development provider does not
// implement, with a link back.
func (s *Server) unsupportedPage(w http.ResponseWriter, r *http.Request, route string) {
	in, ok := s.interaction(r)
	if !ok {
		s.expired(w)
		return
	}
	back := s.link(routeSignIn, in)
	var title, text string
	switch {
	case route == routeResetPassword:
		title, text = "Reset password", "Resetting a password is not supported by the development provider."
	case route == routeSingleSignOn:
		title, text = "Single sign-on", "Enterprise single sign-on is not supported by the development provider."
	default:
		title, text = "Sign in", "Direct sign-in ("+strings.TrimPrefix(route, routeDirect)+") is not supported by the development provider."
		if fb := "/" + r.URL.Query().Get("fallback"); fb == routeRegister || fb == routeIdentifierRegister || fb == routeIdentifierSignIn {
			back = s.link(fb, in)
		}
	}
	s.message(w, http.StatusOK, title, text, back, "Sign in another way")
}

// form parses a posted form and checks that it comes from this site (Go's
// cross-origin protection plus a token bound to the interaction). It writes
// the error page and returns false when not.
func (s *Server) form(w http.ResponseWriter, r *http.Request) (logtotest.Interaction, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, "Sign in", "The form could not be read.", "", "")
		return logtotest.Interaction{}, false
	}
	if err := s.cop.Check(r); err != nil {
		s.log.Debug("logtodev: cross-origin form rejected", "path", r.URL.Path, "error", err)
		s.message(w, http.StatusForbidden, "Sign in", msgForbidden, "", "")
		return logtotest.Interaction{}, false
	}
	in, ok := s.interaction(r)
	if !ok {
		s.expired(w)
		return logtotest.Interaction{}, false
	}
	if !s.validCSRF(in.UID, r.PostForm.Get("csrf")) {
		s.log.Debug("logtodev: form token rejected", "path", r.URL.Path)
		s.message(w, http.StatusForbidden, "Sign in", msgForbidden, "", "")
		return logtotest.Interaction{}, false
	}
	return in, true
}

// passwordSignIn serves POST /experience/password: username (or email, as
// the identifier parameter allows) and password.
func (s *Server) passwordSignIn(w http.ResponseWriter, r *http.Request) {
	in, ok := s.form(w, r)
	if !ok {
		return
	}
	m := allowedMethods(in)
	if !m.password() {
		s.message(w, http.StatusBadRequest, "Sign in", msgNoPassword, s.link(routeSignIn, in), "Sign in another way")
		return
	}
	identifier := strings.TrimSpace(r.PostForm.Get("identifier"))
	password := r.PostForm.Get("password")
	u, found := s.Provider.FindUser(identifier)
	found = found && identifier != "" && u.Password != "" &&
		(m.username && u.Username == identifier || m.email && strings.EqualFold(u.Email, identifier))
	want := "\x00no user\x00"
	if found {
		want = u.Password
	}
	got, exp := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || !found {
		s.log.Debug("logtodev: password sign-in rejected", "error", "session.invalid_credentials")
		d := s.newPage("sign-in", in)
		d.Title, d.Heading, d.Tab, d.IdentifierValue, d.Error = "Sign in", "Sign in", "password", identifier, msgBadCredentials
		s.render(w, http.StatusUnprocessableEntity, d) // Logto: 422 session.invalid_credentials
		return
	}
	s.complete(w, in, u.ID, "password")
}

// complete signs userID in for the interaction and sends the browser back
// to the provider, which redirects to the app.
func (s *Server) complete(w http.ResponseWriter, in logtotest.Interaction, userID, method string) {
	next, err := s.Provider.CompleteInteraction(in.UID, userID)
	if err != nil {
		s.log.Debug("logtodev: completing the interaction failed", "error", err)
		s.expired(w)
		return
	}
	s.log.Info("logtodev: signed in", "user", userID, "method", method, "client_id", in.ClientID)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusSeeOther)
}

// home serves the provider root: what this server is.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	d := &page{View: "home", Title: "Logto dev provider", Heading: "Logto dev provider",
		Issuer: s.Provider.Issuer(), DiscoveryURL: s.Provider.Issuer() + "/.well-known/openid-configuration"}
	s.render(w, http.StatusOK, d)
}

func (s *Server) expired(w http.ResponseWriter) {
	s.message(w, http.StatusBadRequest, "Session expired", msgExpired, "", "")
}

func (s *Server) message(w http.ResponseWriter, status int, heading, text, backURL, backText string) {
	s.render(w, status, &page{View: "message", Title: heading, Heading: heading, Message: text, BackURL: backURL, BackText: backText})
}

// render writes d with security headers: no caching, no framing, no
// scripts.
func (s *Server) render(w http.ResponseWriter, status int, d *page) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "page", d); err != nil {
		s.log.Error("logtodev: rendering a page", "view", d.View, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
