package logto

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// SignInOptions customize one sign-in. They map to Logto's authorization
// parameters (https://docs.logto.io/end-user-flows/authentication-parameters).
type SignInOptions struct {
	// ReturnTo is where the browser lands after a successful sign-in. Only a
	// same-origin relative path ("/dashboard?tab=1") is accepted; anything else
	// (absolute URLs, "//host", "/\host", control characters) falls back to "/".
	//
	// ReturnTo is sealed into the sign-in's transaction cookie, and browsers
	// drop a Set-Cookie line longer than 4096 bytes (RFC 6265 section 6.1), so
	// a path that would not fit also falls back to "/", with a warning in the
	// log (its length, not its value): the sign-in completes and lands on "/"
	// instead of never completing. Sealing expands the path about 1.8 times
	// ('&', '<' and '>' count six bytes), so with a short AppID and BaseURL
	// paths up to about 1900 plain characters fit, of the 2048 accepted.
	ReturnTo string

	// Prompt overrides [Config.Prompt] for this sign-in.
	Prompt string

	// FirstScreen picks Logto's first page: one of the FirstScreen constants.
	FirstScreen string

	// Identifiers restricts the identifier pages: "email", "phone", "username".
	Identifiers []string

	// LoginHint pre-fills the identifier (an e-mail address or phone number).
	LoginHint string

	// DirectSignIn skips Logto's page and goes straight to a social or
	// enterprise SSO connector.
	DirectSignIn *DirectSignIn

	// InteractionMode is the deprecated "signIn" / "signUp"; sent only when
	// FirstScreen is empty.
	InteractionMode string

	// OneTimeToken is a magic-link token, used together with LoginHint.
	OneTimeToken string

	// ExtraParams are appended to the authorization request, sorted by key.
	// They cannot override a parameter this package sets.
	ExtraParams map[string]string
}

// DirectSignIn names a connector for direct_sign_in=<method>:<target>.
type DirectSignIn struct {
	Method string // "social" or "sso"
	Target string // e.g. "google", or an SSO connector ID
}

// First screens Logto understands (first_screen).
const (
	FirstScreenSignIn             = "sign_in"
	FirstScreenRegister           = "register"
	FirstScreenResetPassword      = "reset_password"
	FirstScreenIdentifierSignIn   = "identifier:sign_in"
	FirstScreenIdentifierRegister = "identifier:register"
	FirstScreenSingleSignOn       = "single_sign_on"
)

// protocolParams cannot be set through ExtraParams.
var protocolParams = []string{
	"client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state", "nonce",
	"response_type", "prompt", "scope", "login_hint", "direct_sign_in", "resource", "first_screen",
	"interaction_mode", "identifier", "one_time_token", "request", "request_uri", "response_mode",
}

// validate rejects options Logto would reject. Logto drops every custom
// parameter when one of them is invalid, so failing loudly here is kinder.
func (o *SignInOptions) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSignInOptions, fmt.Sprintf(format, a...))
	}
	if o.Prompt != "" {
		if err := validatePrompt(o.Prompt); err != nil {
			return bad("Prompt: %v", err)
		}
	}
	switch o.FirstScreen {
	case "", FirstScreenSignIn, FirstScreenRegister, FirstScreenResetPassword, FirstScreenIdentifierSignIn,
		FirstScreenIdentifierRegister, FirstScreenSingleSignOn:
	default:
		return bad("FirstScreen %q is not one of Logto's first screens", o.FirstScreen)
	}
	for _, id := range o.Identifiers {
		if id != "email" && id != "phone" && id != "username" {
			return bad("Identifiers: %q (want email, phone or username)", id)
		}
	}
	if d := o.DirectSignIn; d != nil && ((d.Method != "social" && d.Method != "sso") || d.Target == "") {
		return bad("DirectSignIn: want Method social or sso and a Target")
	}
	switch o.InteractionMode {
	case "", "signIn", "signUp":
	default:
		return bad("InteractionMode %q (want signIn or signUp)", o.InteractionMode)
	}
	for k := range o.ExtraParams {
		if k == "" || slices.Contains(protocolParams, k) {
			return bad("ExtraParams cannot set %q", k)
		}
	}
	return nil
}

// SignIn starts a sign-in: it stores a new transaction (state, nonce, PKCE
// verifier) in its own sealed cookie, bound to this browser's binding
// cookie (created when absent; see SECURITY.md), and redirects the browser
// to Logto's authorization endpoint with 302 Found. opts may be nil.
//
// It fails only when discovery fails (503/504/502) or opts are invalid.
func (c *Client) SignIn(w http.ResponseWriter, r *http.Request, opts *SignInOptions) error {
	u, err := c.SignInURL(w, r, opts)
	if err != nil {
		return err
	}
	noStore(w)
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// SignInURL is SignIn without the redirect: it sets the transaction and
// binding cookies on w and returns the authorization URL, for apps that
// navigate themselves.
func (c *Client) SignInURL(w http.ResponseWriter, r *http.Request, opts *SignInOptions) (string, error) {
	if opts == nil {
		opts = &SignInOptions{}
	}
	if err := opts.validate(); err != nil {
		return "", err
	}
	p, err := c.provider(r.Context())
	if err != nil {
		return "", err
	}
	tx := &transaction{
		State:       randomToken(),
		Nonce:       randomToken(),
		Verifier:    randomToken(),
		RedirectURI: c.cfg.redirectURI,
		ReturnTo:    safeReturnTo(opts.ReturnTo),
		CreatedAt:   c.cfg.Now().Unix(),
	}
	err = c.tx.save(w, r, tx)
	if errors.Is(err, errTransactionTooLarge) && tx.ReturnTo != "/" {
		// A cookie over 4096 bytes is dropped by the browser and the
		// sign-in could never complete: sign in, and land on "/".
		c.cfg.Logger.Warn("logto: returnTo too long for the transaction cookie; returning to / after sign-in",
			"return_to_length", len(tx.ReturnTo))
		tx.ReturnTo = "/"
		err = c.tx.save(w, r, tx)
	}
	if err != nil {
		return "", err
	}
	return c.authorizationURL(p, tx, opts), nil
}

// authorizationURL builds the request in @logto/js's parameter order, with
// nonce after state.
func (c *Client) authorizationURL(p *provider, tx *transaction, o *SignInOptions) string {
	var q orderedQuery
	q.add("client_id", c.cfg.AppID)
	q.add("redirect_uri", tx.RedirectURI)
	q.add("code_challenge", pkceChallenge(tx.Verifier))
	q.add("code_challenge_method", "S256")
	q.add("state", tx.State)
	q.add("nonce", tx.Nonce)
	q.add("response_type", "code")
	prompt := c.cfg.Prompt
	if o.Prompt != "" {
		prompt = o.Prompt
	}
	q.add("prompt", strings.Join(strings.Fields(prompt), " "))
	q.add("scope", strings.Join(c.cfg.scopes, " "))
	if o.LoginHint != "" {
		q.add("login_hint", o.LoginHint)
	}
	if o.DirectSignIn != nil {
		q.add("direct_sign_in", o.DirectSignIn.Method+":"+o.DirectSignIn.Target)
	}
	for _, res := range c.cfg.resources {
		q.add("resource", res)
	}
	if o.FirstScreen != "" {
		q.add("first_screen", o.FirstScreen)
	} else if o.InteractionMode != "" {
		q.add("interaction_mode", o.InteractionMode)
	}
	if len(o.Identifiers) > 0 {
		q.add("identifier", strings.Join(o.Identifiers, " "))
	}
	if o.OneTimeToken != "" {
		q.add("one_time_token", o.OneTimeToken)
	}
	keys := make([]string, 0, len(o.ExtraParams))
	for k := range o.ExtraParams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.add(k, o.ExtraParams[k])
	}
	sep := "?"
	if strings.Contains(p.authorizationEndpoint, "?") {
		sep = "&"
	}
	return p.authorizationEndpoint + sep + q.String()
}

// orderedQuery encodes parameters in insertion order, like URLSearchParams.
type orderedQuery struct{ b strings.Builder }

func (q *orderedQuery) add(k, v string) {
	if q.b.Len() > 0 {
		q.b.WriteByte('&')
	}
	q.b.WriteString(url.QueryEscape(k))
	q.b.WriteByte('=')
	q.b.WriteString(url.QueryEscape(v))
}

func (q *orderedQuery) String() string { return q.b.String() }

// safeReturnTo accepts only same-origin relative paths: a single leading "/",
// no "//" or "/\" prefix, no backslash or control character anywhere.
func safeReturnTo(s string) string {
	if s == "" || len(s) > 2048 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return "/"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return s
}

// noStore marks an auth response as not cacheable.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
