package logtodev

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// phoneForm re-renders the form a phone number was posted from, with an
// error.
func (s *Server) phoneForm(w http.ResponseWriter, status int, in logtotest.Interaction, mode, phone, msg string) {
	d := s.newPage("sign-in", in)
	d.Title, d.Heading, d.Tab = "Sign in", "Sign in", "phone"
	if mode == "register" {
		d.View, d.Title, d.Heading, d.Mode = "register", "Create account", "Create your account", "register"
	}
	d.PhoneValue, d.Error = phone, msg
	s.render(w, status, d)
}

// codeForm renders the code page for phone.
func (s *Server) codeForm(w http.ResponseWriter, status int, in logtotest.Interaction, mode, phone, msg string) {
	d := s.newPage("code", in)
	d.Title, d.Heading, d.Mode, d.PhoneValue, d.Error = "Enter the code", "Enter the code", "sign-in", phone, msg
	d.BackURL = s.link(routeSignIn, in, "method", "phone")
	if mode == "register" {
		d.Mode, d.BackURL = "register", s.link(routeRegister, in)
	}
	s.render(w, status, d)
}

// sendCode serves POST /experience/verification-code: it creates a code for
// the posted phone number, sends it (SignIn for a known number, Register for
// an unknown one; nothing for an unknown one when registration is off) and
// shows the code form.
func (s *Server) sendCode(w http.ResponseWriter, r *http.Request) {
	in, ok := s.form(w, r)
	if !ok {
		return
	}
	mode := r.PostForm.Get("mode")
	if mode != "register" {
		mode = "sign-in"
	}
	if !allowedMethods(in).phone {
		s.message(w, http.StatusBadRequest, "Sign in", msgNoPhone, s.link(routeSignIn, in), "Sign in another way")
		return
	}
	if mode == "register" && s.noRegister {
		s.message(w, http.StatusForbidden, "Create account", msgRegisterClosed, s.link(routeSignIn, in), "Sign in")
		return
	}
	raw := r.PostForm.Get("phone")
	phone, ok := normalizePhone(raw)
	if !ok {
		s.phoneForm(w, http.StatusBadRequest, in, mode, raw, msgBadPhone)
		return
	}
	_, known := s.userByPhone(phone)
	typ, deliver := sms.SignIn, true
	if !known {
		if s.noRegister {
			deliver = false // Logto: created but not delivered, no enumeration
		} else {
			typ = sms.Register
		}
	}
	code, err := s.Codes.Create(in.UID, phone, typ)
	if err != nil {
		var ce *CodeError
		if errors.As(err, &ce) {
			s.log.Info("logtodev: verification code refused", "phone", phone, "error", ce.Code)
			s.phoneForm(w, ce.Status, in, mode, phone, msgRateLimited)
			return
		}
		s.log.Error("logtodev: verification code", "error", err)
		s.phoneForm(w, http.StatusInternalServerError, in, mode, phone, msgDelivery)
		return
	}
	if !deliver {
		s.log.Info("logtodev: code not delivered: unknown number and registration disabled", "phone", phone)
	} else if err := s.sms.Send(r.Context(), sms.Message{To: phone, Type: typ, Code: code}); err != nil {
		s.log.Error("logtodev: SMS delivery failed", "phone", phone, "error", err)
		s.phoneForm(w, http.StatusBadGateway, in, mode, phone, msgDelivery)
		return
	}
	// Post/Redirect/Get: reloading the code page must not send another code.
	http.Redirect(w, r, s.link(routeCodePage, in, "mode", mode), http.StatusSeeOther)
}

// codePage serves GET /verification-code: the code form for the
// interaction's pending code.
func (s *Server) codePage(w http.ResponseWriter, r *http.Request) {
	in, ok := s.interaction(r)
	if !ok {
		s.expired(w)
		return
	}
	phone, ok := s.Codes.Pending(in.UID)
	if !ok {
		http.Redirect(w, r, s.link(routeSignIn, in, "method", "phone"), http.StatusSeeOther)
		return
	}
	mode := r.URL.Query().Get("mode")
	if mode != "register" {
		mode = "sign-in"
	}
	s.codeForm(w, http.StatusOK, in, mode, phone, "")
}

// codeMessage words a verification failure for the page.
func codeMessage(err error) (string, int) {
	var ce *CodeError
	if !errors.As(err, &ce) {
		return "The code could not be checked. Request a new one.", http.StatusInternalServerError
	}
	switch {
	case errors.Is(err, ErrCodeMismatch) && ce.TriesLeft == 1:
		return "The code is incorrect. You have 1 try left.", ce.Status
	case errors.Is(err, ErrCodeMismatch) && ce.TriesLeft > 0:
		return fmt.Sprintf("The code is incorrect. You have %d tries left.", ce.TriesLeft), ce.Status
	case errors.Is(err, ErrCodeMismatch):
		return "The code is incorrect. Request a new code.", ce.Status
	case errors.Is(err, ErrCodeExpired):
		return "The code has expired. Request a new one.", ce.Status
	case errors.Is(err, ErrCodeExceedMaxTry):
		return "Too many incorrect attempts. Request a new code.", ce.Status
	case errors.Is(err, ErrPhoneMismatch):
		return "The code was sent to a different number. Request a new code.", ce.Status
	case errors.Is(err, ErrCodeNotFound):
		return "No code was sent to this number yet. Request a code.", ce.Status
	}
	return "The code could not be checked. Request a new one.", ce.Status
}

// verifyCode serves POST /experience/verification-code/verify: it checks the
// code and signs the number's user in, registering an unknown number first.
func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) {
	in, ok := s.form(w, r)
	if !ok {
		return
	}
	mode := r.PostForm.Get("mode")
	raw := r.PostForm.Get("phone")
	phone, ok := normalizePhone(raw)
	if !ok {
		phone = raw
	}
	value := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, r.PostForm.Get("code"))
	if _, err := s.Codes.Verify(in.UID, phone, value); err != nil {
		msg, status := codeMessage(err)
		s.log.Debug("logtodev: verification code rejected", "phone", phone, "error", err)
		s.codeForm(w, status, in, mode, phone, msg)
		return
	}
	s.registering.Lock()
	u, known := s.userByPhone(phone)
	if !known && !s.noRegister {
		var err error
		u, err = s.register(phone)
		if err != nil {
			s.registering.Unlock()
			s.log.Error("logtodev: registration failed", "error", err)
			s.codeForm(w, http.StatusInternalServerError, in, mode, phone, "The account could not be created. Try again.")
			return
		}
		known = true
	}
	s.registering.Unlock()
	if !known {
		// Registration is off: Logto never delivered a code, so any code is wrong.
		msg, status := codeMessage(&CodeError{Code: ErrCodeMismatch.Code, Status: ErrCodeMismatch.Status})
		s.codeForm(w, status, in, mode, phone, msg)
		return
	}
	s.complete(w, in, u.ID, "phone")
}

// userByPhone finds the user whose phone is phone (digits only).
func (s *Server) userByPhone(phone string) (logtotest.User, bool) {
	return s.Provider.FindUserByPhone(phone)
}

// register creates a user with phone, as Logto's Register interaction does:
// a new 12-character [0-9a-z] ID and no username.
func (s *Server) register(phone string) (logtotest.User, error) {
	id, err := randomString(12, "0123456789abcdefghijklmnopqrstuvwxyz")
	if err != nil {
		return logtotest.User{}, err
	}
	now := s.now()
	u := logtotest.User{ID: id, Phone: phone, CreatedAt: now, UpdatedAt: now}
	s.Provider.AddUser(u)
	s.log.Info("logtodev: registered", "user", id, "phone", phone)
	return u, nil
}

// normalizePhone strips spaces, '+' and dashes and accepts 6 to 15 digits:
// Logto stores phone numbers as digits only.
func normalizePhone(s string) (string, bool) {
	d := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '+', '-':
			return -1
		}
		return r
	}, s)
	if len(d) < 6 || len(d) > 15 {
		return "", false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return d, true
}
