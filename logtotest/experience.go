package logtotest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Experience takes over the sign-in of interactive logins, like Logto's
// sign-in experience. Without one (the default) /oidc/auth signs a user in
// automatically. With one, /oidc/auth without a provider session (or with
// prompt=login) stores a pending [Interaction], sets the _interaction cookie
// to its UID, and answers 303 with the relative Location that
// Experience.Location returns (e.g. /sign-in?app_id=...). The experience
// pages then call [Provider.CompleteInteraction] and send the browser to
// the URL it returns, /oidc/auth/<uid>, which finishes like Logto: a 303 to
// the client's redirect URI with code, state and iss.
//
// Location is called with the provider's lock held: it must not call back
// into the Provider.
type Experience interface {
	Location(Interaction) string
}

// InteractionCookie names the cookie that carries the pending interaction's
// UID to the experience pages.
const InteractionCookie = "_interaction"

// Interaction is a pending sign-in: who asked, and Logto's custom
// authorization parameters (logto-server.md section 4).
type Interaction struct {
	UID             string
	ClientID        string
	FirstScreen     string   // first_screen
	Identifiers     []string // identifier, split
	LoginHint       string   // login_hint
	InteractionMode string   // interaction_mode (deprecated signIn / signUp)
	DirectSignIn    string   // direct_sign_in
	UILocales       string   // ui_locales
	OrganizationID  string   // organization_id
	Prompts         []string
	ExpiresAt       time.Time
}

// ErrInteractionNotFound: no pending interaction with that UID (unknown,
// expired or already finished).
var ErrInteractionNotFound = errors.New("logtotest: interaction not found")

// SetExperience installs (or, with nil, removes) the interactive sign-in.
func (p *Provider) SetExperience(e Experience) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.experience = e
}

// Interaction returns the pending interaction uid.
func (p *Provider) Interaction(uid string) (Interaction, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := p.interactions[uid]
	if req == nil || p.now().After(req.expiresAt) {
		return Interaction{}, false
	}
	return req.interaction(uid), true
}

// CompleteInteraction signs userID in for the pending interaction uid and
// returns the absolute URL to send the browser to (<URL>/oidc/auth/<uid>).
func (p *Provider) CompleteInteraction(uid, userID string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := p.interactions[uid]
	if req == nil || p.now().After(req.expiresAt) {
		return "", ErrInteractionNotFound
	}
	if _, ok := p.userLocked(userID); !ok {
		return "", errors.New("logtotest: unknown user " + userID)
	}
	req.userID, req.sessionID = userID, ""
	return p.url + "/oidc/auth/" + uid, nil
}

// FindUserByPhone returns the user whose phone number (digits only) is phone.
func (p *Provider) FindUserByPhone(phone string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if phone != "" && u.Phone == phone {
			return u, true
		}
	}
	return User{}, false
}

// FindUser returns the first user whose phone, email or username is
// identifier; prefer FindUserByPhone when the kind is known.
func (p *Provider) FindUser(identifier string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if identifier != "" && (u.Phone == identifier || strings.EqualFold(u.Email, identifier) || u.Username == identifier) {
			return u, true
		}
	}
	return User{}, false
}

func (req *authRequest) interaction(uid string) Interaction {
	return Interaction{
		UID: uid, ClientID: req.clientID, FirstScreen: req.extra.Get("first_screen"),
		Identifiers: strings.Fields(req.extra.Get("identifier")), LoginHint: req.extra.Get("login_hint"),
		InteractionMode: req.extra.Get("interaction_mode"), DirectSignIn: req.extra.Get("direct_sign_in"),
		UILocales: req.extra.Get("ui_locales"), OrganizationID: req.extra.Get("organization_id"),
		Prompts: req.prompts, ExpiresAt: req.expiresAt,
	}
}

// extraParams keeps Logto's custom parameters of an authorization request.
func extraParams(params url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"first_screen", "identifier", "login_hint", "interaction_mode", "direct_sign_in", "ui_locales", "organization_id", "one_time_token"} {
		if v := params.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// startInteractionLocked stores req as a pending interaction without a user
// and returns the experience Location.
func (p *Provider) startInteractionLocked(w http.ResponseWriter, req *authRequest, now time.Time) string {
	req.expiresAt = now.Add(interactionTTL)
	uid := randomToken()
	p.interactions[uid] = req
	http.SetCookie(w, &http.Cookie{
		Name: InteractionCookie, Value: uid, Path: "/", MaxAge: int(interactionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies(),
	})
	return p.experience.Location(req.interaction(uid))
}
