package logto_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// deviceExample starts an in-process provider with a device-flow Native app
// and an API resource, and returns a DeviceConfig for it. The provider
// approves every code at once (as if the user had), and Sleep does not
// wait.
func deviceExample() (logto.DeviceConfig, func()) {
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String()
	op, err := logtotest.New(logtotest.Options{
		URL:       endpoint,
		Apps:      []logtotest.App{logtotest.DefaultDeviceApp()},
		Resources: []logtotest.Resource{{Indicator: "https://api.example.com", Scopes: []string{"read:messages"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	op.SetDeviceAutoApprove(logtotest.DefaultUserID)
	srv.Config.Handler = op
	srv.Start()
	return logto.DeviceConfig{
		Endpoint:  endpoint,
		AppID:     logtotest.DefaultDeviceAppID,
		Scopes:    []string{"read:messages"},
		Resources: []string{"https://api.example.com"},
		Sleep:     func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}, srv.Close
}

func ExampleNewDevice() {
	device, err := logto.NewDevice(logto.DeviceConfig{
		Endpoint:  "https://my-tenant.logto.app",
		AppID:     "my-native-device-app-id", // Native app, device flow on
		Scopes:    []string{"read:messages"},
		Resources: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("issuer:   ", device.Issuer())
	fmt.Println("scopes:   ", device.Scopes())
	fmt.Println("resources:", device.Resources())
	// Output:
	// issuer:    https://my-tenant.logto.app/oidc
	// scopes:    [openid offline_access profile read:messages]
	// resources: [https://api.example.com]
}

func ExampleDevice_SignIn() {
	cfg, stop := deviceExample()
	defer stop()
	device, err := logto.NewDevice(cfg)
	if err != nil {
		log.Fatal(err)
	}
	var shown logto.DeviceCode
	sess, err := device.SignIn(context.Background(), func(code logto.DeviceCode) error {
		// A CLI prints code.VerificationURI and code.UserCode here.
		fmt.Printf("Open the page and enter a %d-character code; it expires in %v.\n", len(code.UserCode), time.Until(code.ExpiresAt).Round(time.Minute))
		shown = code
		return nil
	})
	switch {
	case errors.Is(err, logto.ErrAuthorization):
		log.Fatal("you denied the sign-in")
	case errors.Is(err, logto.ErrDeviceCodeExpired):
		log.Fatal("the code expired, try again")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println("polled every", shown.Interval)
	fmt.Println("Hello,", sess.Claims().Sub)
	// Output:
	// Open the page and enter a 9-character code; it expires in 10m0s.
	// polled every 5s
	// Hello, defaultuser1
}

func ExampleDeviceSession_AccessToken() {
	cfg, stop := deviceExample()
	defer stop()
	device, _ := logto.NewDevice(cfg)
	sess, err := device.SignIn(context.Background(), func(logto.DeviceCode) error { return nil })
	if err != nil {
		log.Fatal(err)
	}
	// Refreshed with the session's refresh token (and saved through
	// OnSessionChange) when the cached one is about to expire.
	tok, err := sess.AccessToken(context.Background(), "https://api.example.com")
	if errors.Is(err, logto.ErrNotAuthenticated) {
		log.Fatal("the session has ended: sign in again")
	}
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/messages", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	fmt.Println("got an API token:", tok != "")
	// Output:
	// got an API token: true
}

func ExampleDevice_OpenSession() {
	cfg, stop := deviceExample()
	defer stop()
	const secret = "a-random-secret-of-at-least-32-characters" // e.g. from the environment
	file := filepath.Join(os.TempDir(), fmt.Sprintf("logto-example-session-%d", os.Getpid()))
	defer os.Remove(file)
	// Save the session whenever it changes: at sign-in and when a refresh
	// rotates the refresh token.
	cfg.OnSessionChange = func(_ context.Context, s *logto.DeviceSession) error {
		b, err := s.Seal(secret)
		if err != nil {
			return err
		}
		return os.WriteFile(file, b, 0o600)
	}
	device, _ := logto.NewDevice(cfg)
	if _, err := device.SignIn(context.Background(), func(logto.DeviceCode) error { return nil }); err != nil {
		log.Fatal(err)
	}

	// The next run opens the file instead of signing in again.
	b, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	sess, err := device.OpenSession(secret, b)
	if err != nil { // wrong secret, damaged file: sign in again
		log.Fatal(err)
	}
	fmt.Println("Hello again,", sess.Claims().Sub)
	_, err = device.OpenSession("another-secret-of-at-least-32-characters", b)
	fmt.Println(errors.Is(err, logto.ErrNotAuthenticated))
	// Output:
	// Hello again, defaultuser1
	// true
}
