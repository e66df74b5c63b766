package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/logto-go/logto/logtotest"
)

// chromiumBinaries are looked up in PATH, in this order.
var chromiumBinaries = []string{"chromium", "chromium-browser", "google-chrome"}

// findChromium returns the first Chromium-like binary in PATH, or "".
func findChromium() string {
	for _, name := range chromiumBinaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser walks the demo's journey in headless Chromium: the app
// (run with the dev provider, as `go run ./examples/app` does) signs the
// demo user in with the phone number and the code the console SMS connector
// prints, signs out through the provider's auto-submitting end-session page,
// and the next sign-in asks for the phone again; then a new number
// registers. Each step's screenshot is kept in a temporary directory whose
// path is logged.
func TestBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test: no chromium binary (%s) in PATH; scripts/test.sh installs Debian's chromium", strings.Join(chromiumBinaries, ", "))
		}
		t.Skip("browser test: no chromium binary (apt-get install chromium)")
	}
	start := time.Now()
	shots, err := os.MkdirTemp("", "logto-browser-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chromium: %s; screenshots in %s", bin, shots)

	r := startRun(t, nil)
	user := logtotest.DefaultUser()

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, and in containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	step := 0
	fail := func(name string, err error) {
		t.Helper()
		t.Fatalf("after step %d, %s: %v\nstdout:\n%s", step, name, err, r.stdout.String())
	}
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			fail(name, err)
		}
	}
	location := func(name string) string {
		t.Helper()
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			fail(name, err)
		}
		return loc
	}
	shot := func(name string) {
		t.Helper()
		step++
		loc := location(name)
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			fail(name, err)
		}
		path := filepath.Join(shots, fmt.Sprintf("%d-%s.png", step, name))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("step %d %s: %s (%s)", step, name, path, loc)
	}
	at := func(name, want string) {
		t.Helper()
		if loc := location(name); !strings.HasPrefix(loc, want) {
			t.Fatalf("%s: at %s, want %s...", name, loc, want)
		}
	}
	text := func(name, sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail(name, err)
		}
		return strings.TrimSpace(s)
	}
	const (
		signInLink   = `header a[href="/sign-in"]`
		signOutForm  = `header form[action="/sign-out"]`
		sendCode     = `form[action$="/experience/verification-code"] button[type=submit]`
		verifyCode   = `form[action$="/experience/verification-code/verify"] button[type=submit]`
		signOutPress = signOutForm + ` button[type=submit]`
	)
	// signInWithCode enters phone on the provider's sign-in page, then the
	// code printed for it, and waits for the app's signed-in page.
	signInWithCode := func(prefix, phone, digits string) string {
		t.Helper()
		run("enter the phone number",
			chromedp.SendKeys(chromedp.CSS("#phone"), phone),
			chromedp.Click(chromedp.CSS(sendCode)),
			chromedp.WaitVisible(chromedp.CSS("#code")))
		if got := text("code page", "main p strong"); !strings.Contains(got, digits) {
			t.Errorf("code page says %q, want the number %s", got, digits)
		}
		shot(prefix + "code-sent")
		run("enter the code",
			chromedp.SendKeys(chromedp.CSS("#code"), r.smsCode(digits)),
			chromedp.Click(chromedp.CSS(verifyCode)),
			chromedp.WaitVisible(chromedp.CSS(signOutForm)))
		at("back on the app", r.appURL+"/")
		return strings.TrimPrefix(text("greeting", "header nav p"), "Hello, ")
	}

	// 1. The app, signed out.
	run("open the app", chromedp.Navigate(r.appURL+"/"), chromedp.WaitVisible(chromedp.CSS(signInLink)))
	shot("app-signed-out")

	// 2. Sign In: the provider's sign-in page with the phone form.
	run("press Sign In", chromedp.Click(chromedp.CSS(signInLink)), chromedp.WaitVisible(chromedp.CSS("#phone")))
	at("sign-in page", r.providerURL+"/sign-in?")
	shot("provider-sign-in")

	// 3-5. Phone, code from the console connector, back on the app.
	if sub := signInWithCode("", user.Phone, user.Phone); sub != user.ID {
		t.Errorf("signed in as %q, want the demo user %s", sub, user.ID)
	}
	if got := text("claims", "main pre"); !strings.Contains(got, `"phone_number": "`+user.Phone+`"`) {
		t.Errorf("claims on the home page have no phone_number %s:\n%s", user.Phone, got)
	}
	shot("app-signed-in")

	// 6. Sign Out: the end-session page submits itself, back on the app.
	run("press Sign Out", chromedp.Click(chromedp.CSS(signOutPress)), chromedp.WaitVisible(chromedp.CSS(signInLink)))
	at("back on the app after sign-out", r.appURL+"/")
	shot("app-signed-out-again")

	// 7. Sign In again: the provider session is over, so it asks again.
	run("press Sign In again", chromedp.Click(chromedp.CSS(signInLink)), chromedp.WaitVisible(chromedp.CSS("#phone")))
	at("sign-in page again", r.providerURL+"/sign-in?")
	shot("provider-sign-in-again")

	// 8. An unknown number registers a new user.
	const newPhone = "4915123456789"
	sub := signInWithCode("register-", "+49 151 2345 6789", newPhone)
	u, ok := r.dev.Provider.FindUserByPhone(newPhone)
	if !ok || sub != u.ID || sub == user.ID {
		t.Errorf("signed in as %q after registering %s; the provider has %+v (found %v)", sub, newPhone, u, ok)
	}
	shot("app-signed-in-new-user")

	t.Logf("browser journey: %d screenshots in %s, %v in all", step, shots, time.Since(start).Round(time.Millisecond))
}
