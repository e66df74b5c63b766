package logtotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/logto-go/logto/logtotest"
)

// deviceRequest posts form to path on p and returns the status and JSON.
func deviceRequest(p *logtotest.Provider, path string, form url.Values) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, "http://localhost:3001/oidc"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

// ExampleProvider_ApproveDeviceCode walks the device flow of a Native app
// with the device flow on: the device authorization, a poll while the user
// has not approved, the approval (what the user code page does), and the
// tokens.
func ExampleProvider_ApproveDeviceCode() {
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001", Apps: []logtotest.App{logtotest.DefaultDeviceApp()}})
	_, da := deviceRequest(p, "/device/auth", url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "scope": {"openid offline_access profile"}})
	fmt.Println(da["verification_uri"], da["expires_in"], len(da["user_code"].(string)))

	poll := url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "device_code": {da["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
	status, body := deviceRequest(p, "/token", poll)
	fmt.Println(status, body["error"])

	if err := p.ApproveDeviceCode(da["user_code"].(string), logtotest.DefaultUserID); err != nil {
		panic(err)
	}
	status, body = deviceRequest(p, "/token", poll)
	fmt.Println(status, body["scope"], body["id_token"] != nil, body["refresh_token"] != nil)
	// Output:
	// http://localhost:3001/oidc/device 600 9
	// 400 authorization_pending
	// 200 openid offline_access profile true true
}

// ExampleProvider_SetDevicePollInterval makes the provider send an interval
// and answer slow_down to a client that polls sooner, as RFC 8628 allows
// (Logto itself never does).
func ExampleProvider_SetDevicePollInterval() {
	now := time.Unix(1_800_000_000, 0)
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001", Apps: []logtotest.App{logtotest.DefaultDeviceApp()},
		Now: func() time.Time { return now }})
	p.SetDevicePollInterval(5 * time.Second)
	_, da := deviceRequest(p, "/device/auth", url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "scope": {"openid"}})
	fmt.Println("interval", da["interval"])
	poll := url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "device_code": {da["device_code"].(string)},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
	for _, wait := range []time.Duration{5 * time.Second, 2 * time.Second, 10 * time.Second} {
		now = now.Add(wait)
		_, body := deviceRequest(p, "/token", poll)
		fmt.Println(wait, body["error"])
	}
	_ = p.DenyDeviceCode(da["user_code"].(string))
	now = now.Add(10 * time.Second)
	_, body := deviceRequest(p, "/token", poll)
	fmt.Println(body["error"], body["error_description"])
	// Output:
	// interval 5
	// 5s authorization_pending
	// 2s slow_down
	// 10s authorization_pending
	// access_denied End-User aborted interaction
}

// ExampleProvider_SetDeviceAutoApprove approves every device code at once,
// for tests that need no pending phase.
func ExampleProvider_SetDeviceAutoApprove() {
	p, _ := logtotest.New(logtotest.Options{URL: "http://localhost:3001", Apps: []logtotest.App{logtotest.DefaultDeviceApp()}})
	p.SetDeviceAutoApprove(logtotest.DefaultUserID)
	_, da := deviceRequest(p, "/device/auth", url.Values{"client_id": {logtotest.DefaultDeviceAppID}, "scope": {"openid"}})
	status, _ := deviceRequest(p, "/token", url.Values{"client_id": {logtotest.DefaultDeviceAppID},
		"device_code": {da["device_code"].(string)}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}})
	fmt.Println(status)
	// Output:
	// 200
}
