package logto

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// FuzzSafeReturnTo: whatever comes in, what goes out is a same-origin path.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c#d", "//evil", "/\\evil", "https://evil", "/%2F%2Fevil", "/\t/evil", "\x00", "/ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnTo(in)
		if out != "/" && out != in {
			t.Fatalf("safeReturnTo(%q) = %q: rewrote instead of rejecting", in, out)
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsRune(out, '\\') {
			t.Fatalf("safeReturnTo(%q) = %q", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.IsSpace(r) {
				t.Fatalf("safeReturnTo(%q) = %q has a control or space", in, out)
			}
		}
		base, _ := url.Parse("https://app.example.com/x/")
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("safeReturnTo(%q) = %q does not parse", in, out)
		}
		if got := base.ResolveReference(ref); got.Host != "app.example.com" || got.Scheme != "https" {
			t.Fatalf("safeReturnTo(%q) = %q leaves the origin: %s", in, out, got)
		}
	})
}

func TestAuthorizationURLOrder(t *testing.T) {
	t.Parallel()
	c, err := New(Config{
		AppID: "app", AppSecret: "s", Endpoint: "https://logto.dev", BaseURL: "http://localhost:3000",
		CookieSecret: strings.Repeat("x", 32), Scopes: []string{UserScopeEmail, UserScopeOrganizations},
		Resources: []string{"https://api.example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{authorizationEndpoint: "https://logto.dev/oidc/auth"}
	tx := &transaction{State: "st", Nonce: "no", Verifier: "ve", RedirectURI: c.cfg.redirectURI}
	got := c.authorizationURL(p, tx, &SignInOptions{
		LoginHint: "a@b.c", DirectSignIn: &DirectSignIn{Method: "social", Target: "google"},
		FirstScreen: FirstScreenIdentifierSignIn, InteractionMode: "signUp", Identifiers: []string{"email", "phone"},
		OneTimeToken: "ott", ExtraParams: map[string]string{"ui_locales": "de", "foo": "bar"},
	})
	// @logto/js's order (logto-next.md 5.4), nonce after state, first_screen wins over interaction_mode.
	want := "https://logto.dev/oidc/auth?client_id=app&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback" +
		"&code_challenge=" + pkceChallenge("ve") + "&code_challenge_method=S256&state=st&nonce=no&response_type=code" +
		"&prompt=consent&scope=openid+offline_access+profile+email+urn%3Alogto%3Ascope%3Aorganizations" +
		"&login_hint=a%40b.c&direct_sign_in=social%3Agoogle&resource=https%3A%2F%2Fapi.example.com" +
		"&resource=urn%3Alogto%3Aresource%3Aorganizations&first_screen=identifier%3Asign_in&identifier=email+phone" +
		"&one_time_token=ott&foo=bar&ui_locales=de"
	if got != want {
		t.Fatalf("authorization URL\n got %s\nwant %s", got, want)
	}
}

func TestSignInOptionsValidation(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]SignInOptions{
		"first screen typo": {FirstScreen: "identifier:sign-in"},
		"identifier":        {Identifiers: []string{"fax"}},
		"direct sign-in":    {DirectSignIn: &DirectSignIn{Method: "saml"}},
		"interaction mode":  {InteractionMode: "login"},
		"prompt":            {Prompt: "always"},
		"extra overrides":   {ExtraParams: map[string]string{"state": "x"}},
	} {
		if err := o.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (&SignInOptions{FirstScreen: FirstScreenRegister, ExtraParams: map[string]string{"ui_locales": "fr"}}).validate(); err != nil {
		t.Errorf("valid options rejected: %v", err)
	}
}

func TestPKCEChallenge(t *testing.T) {
	t.Parallel()
	// RFC 7636 appendix B.
	if got := pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("challenge = %q", got)
	}
	if a, b := randomToken(), randomToken(); len(a) != 43 || a == b {
		t.Fatalf("randomToken: %q %q", a, b)
	}
}
