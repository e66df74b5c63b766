package logto_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"golang.org/x/oauth2"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// m2mExampleProvider serves a Logto with the API https://api.example.com
// (read:items, write:items) and a Machine-to-machine app whose role grants
// read:items and which is a member of the organization "acme" (organization
// permission read:reports). It returns the endpoint and a stop function.
func m2mExampleProvider() (string, func()) {
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String()
	app := logtotest.DefaultM2MApp()
	app.Roles = []string{"items-reader"}
	app.Organizations, app.OrganizationRoles = []string{"acme"}, []string{"acme:reporter"}
	p, err := logtotest.New(logtotest.Options{
		URL:       endpoint,
		Apps:      []logtotest.App{app},
		Resources: []logtotest.Resource{{Indicator: "https://api.example.com", Scopes: []string{"read:items", "write:items"}}},
		Roles:     []logtotest.Role{{Name: "items-reader", Scopes: map[string][]string{"https://api.example.com": {"read:items"}}}},
		Organizations: []logtotest.Organization{{ID: "acme", Roles: []logtotest.OrganizationRole{
			{Name: "reporter", Scopes: []string{"read:reports"}},
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	return endpoint, srv.Close
}

func ExampleNewM2M() {
	endpoint, stop := m2mExampleProvider()
	defer stop()

	m2m, err := logto.NewM2M(logto.M2MConfig{
		Endpoint:  endpoint, // e.g. https://your-tenant.logto.app
		AppID:     logtotest.DefaultM2MAppID,
		AppSecret: logtotest.DefaultM2MAppSecret,
		Resource:  "https://api.example.com",
		Scopes:    []string{"read:items", "write:items"},
	})
	if err != nil {
		log.Fatal(err) // a *logto.ConfigError names the field
	}
	tok, err := m2m.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(tok.AccessToken)
	fmt.Println(claims.Aud, claims.Sub == logtotest.DefaultM2MAppID, tok.Scopes) // the role grants read:items only
	fmt.Println("valid for", time.Until(tok.Expiry).Round(time.Minute))          // m2m.Token renews it a minute before
	// Output:
	// [https://api.example.com] true [read:items]
	// valid for 1h0m0s
}

func ExampleM2M_Client() {
	endpoint, stop := m2mExampleProvider()
	defer stop()

	// The API: a ResourceServer accepts the app's token like a user's.
	rs, _ := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: endpoint, Audience: "https://api.example.com"})
	api := httptest.NewServer(rs.Middleware("read:items")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := logto.AccessTokenFromContext(r.Context())
		fmt.Fprintf(w, "items for %s", claims.Sub)
	})))
	defer api.Close()

	m2m, _ := logto.NewM2M(logto.M2MConfig{
		Endpoint: endpoint, AppID: logtotest.DefaultM2MAppID, AppSecret: logtotest.DefaultM2MAppSecret,
		Resource: "https://api.example.com", Scopes: []string{"read:items"},
	})
	resp, err := m2m.Client(nil).Get(api.URL + "/items")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// 200 items for logtotestdefaultm2m01
}

// An organization token for an organization the app belongs to, and Logto's
// 403 for one it does not.
func ExampleM2M_Token_organization() {
	endpoint, stop := m2mExampleProvider()
	defer stop()

	for _, org := range []string{"acme", "globex"} {
		m2m, _ := logto.NewM2M(logto.M2MConfig{
			Endpoint: endpoint, AppID: logtotest.DefaultM2MAppID, AppSecret: logtotest.DefaultM2MAppSecret,
			OrganizationID: org, Scopes: []string{"read:reports"},
		})
		tok, err := m2m.Token(context.Background())
		if err != nil {
			fmt.Println(logto.StatusCode(err), err)
			continue
		}
		claims, _ := logto.InsecureDecodeAccessTokenClaims(tok.AccessToken)
		fmt.Println(claims.Aud, tok.Scopes)
	}
	// Output:
	// [urn:logto:organization:acme] [read:reports]
	// 403 logto: provider token: oauth_error (HTTP 403): access_denied: app has not associated with the organization
}

func ExampleM2M_TokenSource() {
	endpoint, stop := m2mExampleProvider()
	defer stop()

	m2m, _ := logto.NewM2M(logto.M2MConfig{
		Endpoint: endpoint, AppID: logtotest.DefaultM2MAppID, AppSecret: logtotest.DefaultM2MAppSecret,
		Resource: "https://api.example.com", Scopes: []string{"read:items"},
	})
	ctx := context.Background()
	// For code built on golang.org/x/oauth2, e.g. oauth2.NewClient(ctx, ts).
	var ts oauth2.TokenSource = m2m.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.Valid(), tok.Extra("scope"))
	// Output:
	// Bearer true read:items
}

func ExampleManagementAPIResource() {
	fmt.Println(logto.ManagementAPIResource("https://abc123.logto.app"))  // Logto Cloud
	fmt.Println(logto.ManagementAPIResource("abc123"))                    // a tenant ID (needed behind a custom domain)
	fmt.Println(logto.ManagementAPIResource("https://logto.example.com")) // self-hosted
	// Output:
	// https://abc123.logto.app/api
	// https://abc123.logto.app/api
	// https://default.logto.app/api
}
