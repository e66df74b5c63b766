package logtodev

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// Options configures [New].
type Options struct {
	// Provider configures the embedded OIDC provider; Provider.URL is
	// required. Provider.Now defaults to Now.
	Provider logtotest.Options
	// SMS delivers verification codes. Default: an [sms.Console] printing
	// to os.Stdout.
	SMS sms.Connector
	// Now is the clock of verification codes and registered users.
	// Default: Provider.Now, else time.Now.
	Now func() time.Time
	// Logger receives sign-ins, registrations and delivery failures.
	// Default: discard.
	Logger *slog.Logger
	// DisableRegistration turns Logto's SignInAndRegister mode into SignIn:
	// an unknown phone number is sent no code (the page does not say so,
	// as in Logto) and /register says registration is closed. The zero
	// value lets unknown numbers register.
	DisableRegistration bool
}

// Server is the development provider: an [http.Handler] serving the sign-in
// experience pages (see the package documentation) and delegating every other
// path to Provider. It is safe for concurrent use.
type Server struct {
	// Provider is the embedded OIDC provider. Its Experience is the Server;
	// use it to add users, apps and resources or to complete interactions.
	Provider *logtotest.Provider
	// Codes holds the verification codes sent by the pages.
	Codes *Codes

	sms         sms.Connector
	now         func() time.Time
	log         *slog.Logger
	noRegister  bool
	basePath    string
	csrfKey     []byte
	cop         *http.CrossOriginProtection
	registering sync.Mutex // serializes find-or-create of users by phone
}

var _ logtotest.Experience = (*Server)(nil)

// New builds a Server and installs it as the Experience of a new
// [logtotest.Provider] built from opts.Provider.
func New(opts Options) (*Server, error) {
	now := opts.Now
	if now == nil {
		now = opts.Provider.Now
	}
	if now == nil {
		now = time.Now
	}
	popts := opts.Provider
	if popts.Now == nil {
		popts.Now = now
	}
	if popts.Logger == nil {
		popts.Logger = opts.Logger
	}
	p, err := logtotest.New(popts)
	if err != nil {
		return nil, fmt.Errorf("logtodev: %w", err)
	}
	u, err := url.Parse(p.URL())
	if err != nil {
		return nil, fmt.Errorf("logtodev: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	conn := opts.SMS
	if conn == nil {
		conn = sms.NewConsole(os.Stdout)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("logtodev: %w", err)
	}
	s := &Server{
		Provider: p, Codes: NewCodes(now),
		sms: conn, now: now, log: log, noRegister: opts.DisableRegistration,
		basePath: strings.TrimRight(u.EscapedPath(), "/"), csrfKey: key,
		cop: http.NewCrossOriginProtection(),
	}
	p.SetExperience(s)
	return s, nil
}

// Experience routes, relative to the provider URL's path.
const (
	routeSignIn             = "/sign-in"
	routeRegister           = "/register"
	routeIdentifierSignIn   = "/identifier-sign-in"
	routeIdentifierRegister = "/identifier-register"
	routeResetPassword      = "/reset-password"
	routeSingleSignOn       = "/single-sign-on"
	routeDirect             = "/direct/"
	routeSendCode           = "/experience/verification-code"
	routeCodePage           = "/verification-code"
	routeVerifyCode         = "/experience/verification-code/verify"
	routePassword           = "/experience/password"
)

// firstScreens maps Logto's first_screen values to experience routes.
var firstScreens = map[string]string{
	"sign_in":             routeSignIn,
	"signIn":              routeSignIn, // deprecated
	"register":            routeRegister,
	"identifier:sign_in":  routeIdentifierSignIn,
	"identifier:register": routeIdentifierRegister,
	"reset_password":      routeResetPassword,
	"single_sign_on":      routeSingleSignOn,
}

// params returns in's custom parameters as Logto reads them: when any of
// first_screen, interaction_mode or direct_sign_in is invalid, all of them
// are dropped (logto-server.md section 4, parsing quirk); unsupported
// identifier values are ignored.
func params(in logtotest.Interaction) logtotest.Interaction {
	_, okScreen := firstScreens[in.FirstScreen]
	okMode := in.InteractionMode == "" || in.InteractionMode == "signIn" || in.InteractionMode == "signUp"
	method, target, _ := strings.Cut(in.DirectSignIn, ":")
	okDirect := in.DirectSignIn == "" || (method == "social" || method == "sso") && target != ""
	if (in.FirstScreen != "" && !okScreen) || !okMode || !okDirect {
		return logtotest.Interaction{UID: in.UID, ClientID: in.ClientID, Prompts: in.Prompts, ExpiresAt: in.ExpiresAt}
	}
	var ids []string
	for _, id := range in.Identifiers {
		if (id == "phone" || id == "username" || id == "email") && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	in.Identifiers = ids
	return in
}

// firstScreen returns the route in starts on.
func firstScreen(in logtotest.Interaction) string {
	if in.FirstScreen == "" && in.InteractionMode == "signUp" {
		return routeRegister
	}
	if r, ok := firstScreens[in.FirstScreen]; ok {
		return r
	}
	return routeSignIn
}

// Location implements [logtotest.Experience]: it returns the relative URL of
// the first screen for in, like Logto's /sign-in?app_id=<client_id>, chosen by
// first_screen (or, without it, interaction_mode=signUp: /register) and
// direct_sign_in (/direct/<method>/<target>?fallback=<first screen>). The
// query carries app_id, organization_id, ui_locales, login_hint and
// identifier, as Logto's does; the pages themselves read the interaction.
func (s *Server) Location(in logtotest.Interaction) string {
	in = params(in)
	route := firstScreen(in)
	q := "app_id=" + url.QueryEscape(in.ClientID)
	if in.DirectSignIn != "" {
		method, target, _ := strings.Cut(in.DirectSignIn, ":")
		q = "fallback=" + url.QueryEscape(strings.TrimPrefix(route, "/")) + "&" + q
		route = routeDirect + url.PathEscape(method) + "/" + url.PathEscape(target)
	}
	for _, kv := range [][2]string{
		{"organization_id", in.OrganizationID}, {"ui_locales", in.UILocales},
		{"login_hint", in.LoginHint}, {"identifier", strings.Join(in.Identifiers, " ")},
	} {
		if kv[1] != "" {
			q += "&" + kv[0] + "=" + url.QueryEscape(kv[1])
		}
	}
	return s.basePath + route + "?" + q
}

// ServeHTTP serves the experience pages and passes everything else to
// Provider.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if !ok {
		s.Provider.ServeHTTP(w, r)
		return
	}
	get, post := r.Method == http.MethodGet || r.Method == http.MethodHead, r.Method == http.MethodPost
	switch {
	case get && (rel == "/" || rel == "" && s.basePath != ""):
		s.home(w, r)
	case get && (rel == routeSignIn || rel == routeIdentifierSignIn):
		s.signInPage(w, r, rel)
	case get && (rel == routeRegister || rel == routeIdentifierRegister):
		s.registerPage(w, r, rel)
	case get && (rel == routeResetPassword || rel == routeSingleSignOn || strings.HasPrefix(rel, routeDirect)):
		s.unsupportedPage(w, r, rel)
	case get && rel == routeCodePage:
		s.codePage(w, r)
	case post && rel == routeSendCode:
		s.sendCode(w, r)
	case post && rel == routeVerifyCode:
		s.verifyCode(w, r)
	case post && rel == routePassword:
		s.passwordSignIn(w, r)
	case rel == routeCodePage || rel == routeSignIn || rel == routeIdentifierSignIn || rel == routeRegister || rel == routeIdentifierRegister ||
		rel == routeResetPassword || rel == routeSingleSignOn || strings.HasPrefix(rel, routeDirect) ||
		rel == routeSendCode || rel == routeVerifyCode || rel == routePassword:
		allow := "GET, HEAD"
		if strings.HasPrefix(rel, "/experience/") {
			allow = "POST"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		s.Provider.ServeHTTP(w, r)
	}
}

// csrfToken binds a form to the interaction uid (HMAC with a per-server key).
func (s *Server) csrfToken(uid string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("logtodev csrf\x00" + uid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) validCSRF(uid, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(s.csrfToken(uid)))
}
