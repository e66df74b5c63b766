package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/logto-go/logto/logtodev/sms"
)

func ExampleConsole() {
	c := sms.NewConsole(os.Stdout)
	_ = c.Send(context.Background(), sms.Message{To: "15551234567", Type: sms.SignIn, Code: "123456"})

	code, ok := c.LastCode("15551234567")
	fmt.Println(code, ok)
	// Output:
	// SMS to 15551234567: Your Logto sign-in verification code is 123456. The code will remain active for 10 minutes.
	// 123456 true
}

func ExampleParseSMSAeroConfig() {
	_, err := sms.ParseSMSAeroConfig([]byte(`{
		"email": "you@example.com",
		"apiKey": "secret",
		"senderName": "SMSAero",
		"templates": [{"usageType": "SignIn", "content": "Your code is {{code}}"}]
	}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, sms.ErrInvalidConfig))
	// Output:
	// sms: invalid config: templates: template with usage type (Register, ForgotPassword, Generic) should be provided
	// true
}

func ExampleSMSAero() {
	// A local fake of https://gate.smsaero.ru/v2/sms/send.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		fmt.Println("user:", user)
		fmt.Println("body:", string(body))
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true})
	}))
	defer fake.Close()

	cfg := sms.SMSAeroConfig{
		Email:      "you@example.com",
		APIKey:     "secret",
		SenderName: "SMSAero",
		Templates:  sms.DefaultTemplates(),
	}
	aero, err := sms.NewSMSAero(cfg, sms.WithEndpoint(fake.URL+"/v2/sms/send"))
	if err != nil {
		fmt.Println(err)
		return
	}
	err = aero.Send(context.Background(), sms.Message{To: "79991234567", Type: sms.MfaVerification, Code: "123456"})
	fmt.Println("error:", err)
	fmt.Println(cfg)
	// Output:
	// POST /v2/sms/send application/json
	// user: you@example.com
	// body: {"number":"79991234567","sign":"SMSAero","text":"Your Logto MFA verification code is 123456. The code will remain active for 10 minutes."}
	// error: <nil>
	// {Email:you@example.com APIKey:[REDACTED] SenderName:SMSAero Templates:[SignIn Register ForgotPassword OrganizationInvitation Generic UserPermissionValidation BindNewIdentifier MfaVerification BindMfa]}
}

func ExampleLoadConnector() {
	c, err := sms.LoadConnector("console", os.Stdout) // or "smsaero:/etc/logto-dev/smsaero.json"
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.Send(context.Background(), sms.Message{To: "15551234567", Type: sms.Register, Code: "654321"})
	// Output:
	// SMS to 15551234567: Your Logto sign-up verification code is 654321. The code will remain active for 10 minutes.
}
