package logtotest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

const (
	sessionCookieName = "_session"
	logtoCookieName   = "_logto"
)

// sessionLocked returns the live provider session named by the request's
// _session cookie, or nil.
func (p *Provider) sessionLocked(r *http.Request, now time.Time) *session {
	c, err := r.Cookie(sessionCookieName)
	if err != nil {
		return nil
	}
	s := p.sessions[c.Value]
	if s == nil || now.After(s.expiresAt) {
		return nil
	}
	return s
}

func (p *Provider) newSessionLocked(userID string, now time.Time) *session {
	s := &session{id: randomToken(), userID: userID, authTime: now, expiresAt: now.Add(sessionTTL)}
	p.sessions[s.id] = s
	return s
}

func (p *Provider) secureCookies() bool { return strings.HasPrefix(p.url, "https://") }

// setSessionCookie sets _session (HttpOnly, SameSite=Lax, Path=/). Its
// lifetime is a Max-Age rather than an Expires date so that an injected
// clock far from real time does not make clients drop it.
func (p *Provider) setSessionCookie(w http.ResponseWriter, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName, Value: s.id, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies(),
	})
}

func (p *Provider) expireSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies(),
	})
}

// setLogtoCookie sets Logto's non-HttpOnly _logto cookie whose raw value is
// JSON, e.g. {"appId":"..."}. The header is written by hand because
// http.SetCookie would quote-strip the value; real Logto's raw-JSON cookie
// reaches apps on localhost and clients must survive it.
func setLogtoCookie(w http.ResponseWriter, appID, organizationID, uiLocales string) {
	v := struct {
		AppID          string `json:"appId"`
		OrganizationID string `json:"organizationId,omitempty"`
		UILocales      string `json:"uiLocales,omitempty"`
	}{appID, organizationID, uiLocales}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	for _, c := range string(b) {
		if c < 0x21 || c > 0x7e || c == ';' {
			return // would break the header; skip like a browser would
		}
	}
	w.Header().Add("Set-Cookie", logtoCookieName+"="+string(b)+"; path=/; samesite=lax")
}
