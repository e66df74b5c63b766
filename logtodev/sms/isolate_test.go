package sms_test

import "github.com/logto-go/logto/internal/testkit"

// Parallel tests' httptest servers must not close each other's client
// connections (httptest.Server.Close closes http.DefaultTransport's).
func init() { testkit.IsolateDefaultTransport() }
