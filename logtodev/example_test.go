package logtodev_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// An app's authorization request with first_screen=register lands on the
// registration page, like Logto's.
func ExampleNew() {
	srv, err := logtodev.New(logtodev.Options{
		Provider: logtotest.Options{URL: "http://localhost:3001"},
		SMS:      sms.NewConsole(io.Discard),
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := "http://localhost:3001/oidc/auth?" + url.Values{
		"client_id": {logtotest.DefaultAppID}, "redirect_uri": {logtotest.DefaultRedirectURI},
		"response_type": {"code"}, "scope": {"openid profile phone"}, "state": {"xyz"},
		"first_screen": {"register"},
	}.Encode()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, auth, nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /register?app_id=logtotestdefaultapp01
}

func ExampleServer_Location() {
	srv, err := logtodev.New(logtodev.Options{Provider: logtotest.Options{URL: "http://localhost:3001"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range []logtotest.Interaction{
		{ClientID: "app1"},
		{ClientID: "app1", FirstScreen: "identifier:sign_in", Identifiers: []string{"phone"}, LoginHint: "15551234567"},
		{ClientID: "app1", InteractionMode: "signUp"},
		{ClientID: "app1", FirstScreen: "identifier:sign-in", LoginHint: "dropped"}, // invalid: all parameters dropped
	} {
		fmt.Println(srv.Location(in))
	}
	// Output:
	// /sign-in?app_id=app1
	// /identifier-sign-in?app_id=app1&login_hint=15551234567&identifier=phone
	// /register?app_id=app1
	// /sign-in?app_id=app1
}

func ExampleCodes() {
	codes := logtodev.NewCodes(nil)
	code, err := codes.Create("interaction-1", "15551234567", sms.SignIn)
	if err != nil {
		log.Fatal(err)
	}
	_, err = codes.Verify("interaction-1", "15551234567", "not it")
	fmt.Println(err)
	typ, err := codes.Verify("interaction-1", "15551234567", code)
	fmt.Println(typ, err)
	_, err = codes.Verify("interaction-1", "15551234567", code)
	fmt.Println(err)
	// Output:
	// logtodev: verification_code.code_mismatch (9 tries left)
	// SignIn <nil>
	// logtodev: verification_code.not_found
}
