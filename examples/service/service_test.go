package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/internal/testkit"
	"github.com/logto-go/logto/logtotest"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l, "http://" + l.Addr().String()
}

// TestServiceDemo runs the job as `go run ./examples/service` does without
// LOGTO_ENDPOINT: the dev provider and the demo API in process, on
// loopback ports here.
func TestServiceDemo(t *testing.T) {
	t.Parallel()
	pl, providerURL := listen(t)
	al, apiURL := listen(t)
	var out bytes.Buffer
	logs := &testkit.Buffer{}
	err := runWith(t.Context(), envOf(map[string]string{"API_RESOURCE": apiURL}), &out,
		runOptions{providerURL: providerURL, providerListener: pl, apiListener: al, stderr: logs})
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nlogs:\n%s", err, &out, logs)
	}
	want := []string{
		`running the Logto dev provider \(logtodev\) at ` + regexp.QuoteMeta(providerURL) + ` with the machine-to-machine app logtotestdefaultm2m01`,
		`Serving the demo API \(examples/api\) at ` + regexp.QuoteMeta(apiURL),
		`Got a token for ` + regexp.QuoteMeta(apiURL) + ` with the scopes \["read:messages" "write:messages"\], valid for 1h0m0s\.`,
		`GET ` + regexp.QuoteMeta(apiURL) + `/api/messages: 1 message\(s\); the API saw sub logtotestdefaultm2m01 with the scopes \["read:messages" "write:messages"\]\.`,
		`POST ` + regexp.QuoteMeta(apiURL) + `/api/messages: message 2 "Hello from examples/service" by logtotestdefaultm2m01\.`,
		`GET ` + regexp.QuoteMeta(apiURL) + `/api/organizations/demo-org/messages with an organization token: 1 message\(s\), the first "Welcome, members of demo-org!"\.`,
	}
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(out.String()) {
			t.Errorf("stdout lacks %s:\n%s", w, &out)
		}
	}
	if strings.Contains(logs.String(), logtotest.DefaultM2MAppSecret) || strings.Contains(out.String(), logtotest.DefaultM2MAppSecret) {
		t.Error("the app secret was printed")
	}
}

// m2mSetup is a logtotest provider ("a real Logto") with a
// machine-to-machine app holding read:messages only and a member of acme,
// and the demo API on its own server.
func m2mSetup(t *testing.T) (*logtotest.Server, logtotest.App, string) {
	t.Helper()
	apiTS := httptest.NewUnstartedServer(nil)
	t.Cleanup(apiTS.Close)
	apiURL := "http://" + apiTS.Listener.Addr().String()
	app := logtotest.App{ID: "servicem2mapp00000001", Secret: "ServiceM2MSecret0000000000000001", MachineToMachine: true,
		Roles: []string{"reader"}, Organizations: []string{"acme"}, OrganizationRoles: []string{"acme:member"}}
	srv := logtotest.NewServer(t,
		logtotest.WithApps(app),
		logtotest.WithResources(logtotest.Resource{Indicator: apiURL, Scopes: []string{messages.ScopeRead, messages.ScopeWrite}}),
		logtotest.WithRoles(logtotest.Role{Name: "reader", Scopes: map[string][]string{apiURL: {messages.ScopeRead}}}),
		logtotest.WithOrganizations(logtotest.Organization{ID: "acme", Roles: []logtotest.OrganizationRole{{Name: "member", Scopes: []string{messages.ScopeRead}}}}),
	)
	h, err := messages.New(messages.Config{Endpoint: srv.URL(), Audience: apiURL})
	if err != nil {
		t.Fatal(err)
	}
	apiTS.Config.Handler = h
	apiTS.Start()
	return srv, app, apiURL
}

// TestServiceWithLogto runs the job against a Logto given by
// LOGTO_ENDPOINT and an API given by API_URL, and checks what the provider
// saw: one client credentials request per token, each with the app's Basic
// credentials, the resource or the organization, and the scopes.
func TestServiceWithLogto(t *testing.T) {
	t.Parallel()
	srv, app, apiURL := m2mSetup(t)
	var out bytes.Buffer
	env := map[string]string{
		"LOGTO_ENDPOINT": srv.URL(), "LOGTO_M2M_APP_ID": app.ID, "LOGTO_M2M_APP_SECRET": app.Secret,
		"API_RESOURCE": apiURL, "API_URL": apiURL + "/", "LOGTO_ORGANIZATION_ID": "acme",
	}
	if err := runWith(t.Context(), envOf(env), &out, runOptions{stderr: &testkit.Buffer{}}); err != nil {
		t.Fatalf("run: %v\n%s", err, &out)
	}
	for _, w := range []string{
		`the API saw sub servicem2mapp00000001 with the scopes ["read:messages"].`,
		`Not posting: the token lacks write:messages`,
		`/api/organizations/acme/messages with an organization token: 1 message(s)`,
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, &out)
		}
	}
	if strings.Contains(out.String(), "LOGTO_ENDPOINT is not set") {
		t.Error("ran the demo provider")
	}

	var forms []url.Values
	for _, r := range srv.Requests() {
		if r.Path != "/oidc/token" {
			continue
		}
		if r.Header.Get("Authorization") == "" || r.Form.Get("client_secret") != "" {
			t.Errorf("token request without client_secret_basic: %v", r.Header)
		}
		forms = append(forms, r.Form)
	}
	want := []url.Values{
		{"grant_type": {"client_credentials"}, "resource": {apiURL}, "scope": {"read:messages write:messages"}},
		{"grant_type": {"client_credentials"}, "organization_id": {"acme"}, "scope": {"read:messages"}},
	}
	if len(forms) != len(want) {
		t.Fatalf("token requests %v, want %v", forms, want)
	}
	for i := range want {
		if forms[i].Encode() != want[i].Encode() {
			t.Errorf("token request %d: %v, want %v", i, forms[i], want[i])
		}
	}
}

// TestServiceFailures: a wrong secret and an organization the app is not
// in fail the job with typed errors that never carry the secret.
func TestServiceFailures(t *testing.T) {
	t.Parallel()
	srv, app, apiURL := m2mSetup(t)
	base := map[string]string{
		"LOGTO_ENDPOINT": srv.URL(), "LOGTO_M2M_APP_ID": app.ID, "LOGTO_M2M_APP_SECRET": app.Secret, "API_RESOURCE": apiURL,
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		code string
		kind error
	}{
		{"bad secret", map[string]string{"LOGTO_M2M_APP_SECRET": "WrongSecret000000000000000000001"}, "invalid_client", logto.ErrProviderResponse},
		{"not in the organization", map[string]string{"LOGTO_ORGANIZATION_ID": "globex"}, "access_denied", logto.ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			var out bytes.Buffer
			logs := &testkit.Buffer{}
			err := runWith(context.Background(), envOf(env), &out, runOptions{stderr: logs})
			var pe *logto.ProviderError
			if !errors.As(err, &pe) || pe.Code != tc.code || !errors.Is(err, tc.kind) {
				t.Fatalf("run: %v, want a ProviderError %s matching %v", err, tc.code, tc.kind)
			}
			secret := env["LOGTO_M2M_APP_SECRET"]
			if strings.Contains(err.Error(), secret) || strings.Contains(out.String(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("the secret was printed: %v", err)
			}
		})
	}
}

func TestLoadSettings(t *testing.T) {
	t.Parallel()
	s, err := loadSettings(envOf(nil), "http://localhost:3001")
	if err != nil || !s.Demo || !s.ServeAPI || s.M2M.AppID != logtotest.DefaultM2MAppID || s.APIURL != defaultAPIResource ||
		s.M2M.Resource != defaultAPIResource || s.OrganizationID != demoOrgID || strings.Join(s.M2M.Scopes, " ") != "read:messages write:messages" {
		t.Errorf("demo settings %+v, %v", s, err)
	}
	s, err = loadSettings(envOf(map[string]string{"API_URL": "http://localhost:4000", "LOGTO_ORGANIZATION_ID": "-", "LOGTO_M2M_SCOPES": " read:messages "}), "http://localhost:3001")
	if err != nil || s.ServeAPI || s.APIURL != "http://localhost:4000" || s.OrganizationID != "" || strings.Join(s.M2M.Scopes, " ") != "read:messages" {
		t.Errorf("demo with API_URL %+v, %v", s, err)
	}
	for _, env := range []map[string]string{
		{"LOGTO_ENDPOINT": "https://t.logto.app"},
		{"LOGTO_ENDPOINT": "https://t.logto.app", "LOGTO_M2M_APP_ID": "id"},
		{"LOGTO_M2M_APP_ID": "id"}, // demo with an ID but no secret
		{"API_URL": "ftp://x"},
	} {
		if _, err := loadSettings(envOf(env), "http://localhost:3001"); err == nil {
			t.Errorf("%v: no error", env)
		}
	}
}
