package logto_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/logto-go/logto"
)

func ExampleResourceServer_OrganizationMiddleware() {
	client, op, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	r := requestWithCookies("GET", "https://app.example.com/", signInExample(client))
	userToken, _ := client.GetAccessToken(httptest.NewRecorder(), r, "https://api.example.com")
	acmeToken, _ := client.GetOrganizationResourceToken(httptest.NewRecorder(), r, "https://api.example.com", "acme")

	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint: op.URL(), // https://your-tenant.logto.app
		Audience: "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	items := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := logto.AccessTokenFromContext(r.Context())
		fmt.Fprint(w, "items of ", claims.OrganizationID)
	})
	mux := http.NewServeMux()
	// User tokens only: the user's own permissions.
	mux.Handle("GET /items", rs.Middleware("read:items")(items))
	// Tokens for the organization in the path: organization tokens, or
	// organization-scoped resource tokens of this API.
	organization := func(r *http.Request) string { return r.PathValue("org") }
	mux.Handle("GET /orgs/{org}/items", rs.OrganizationMiddleware(organization,
		logto.OrganizationToken|logto.OrganizationResourceToken, "read:items")(items))

	for _, call := range []struct{ path, token string }{
		{"/orgs/acme/items", acmeToken},
		{"/orgs/other/items", acmeToken},
		{"/orgs/acme/items", userToken},
		{"/items", acmeToken},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", call.path, nil)
		r.Header.Set("Authorization", "Bearer "+call.token)
		mux.ServeHTTP(w, r)
		fmt.Println(call.path, w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// /orgs/acme/items 200 items of acme
	// /orgs/other/items 403 {"error":"insufficient_scope","error_description":"the token is for another organization"}
	// /orgs/acme/items 403 {"error":"insufficient_scope","error_description":"token kind not accepted here: user token"}
	// /items 403 {"error":"insufficient_scope","error_description":"token kind not accepted here: organization-scoped resource token"}
}

func ExampleResourceServer_VerifyOrganization() {
	client, op, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	r := requestWithCookies("GET", "https://app.example.com/", signInExample(client))
	token, _ := client.GetOrganizationToken(httptest.NewRecorder(), r, "acme")

	rs, _ := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL(), Audience: "https://api.example.com"})
	claims, err := rs.VerifyOrganization(context.Background(), token, "acme", logto.OrganizationToken)
	fmt.Println(claims.Aud, err)

	_, err = rs.VerifyOrganization(context.Background(), token, "other", logto.OrganizationToken)
	fmt.Println(errors.Is(err, logto.ErrInsufficientScope), err)

	_, err = rs.Verify(context.Background(), token) // user tokens only
	fmt.Println(errors.Is(err, logto.ErrInvalidToken), err)
	// Output:
	// [urn:logto:organization:acme] <nil>
	// true logto: insufficient scope: the token is for another organization
	// true logto: invalid access token: token kind not accepted here: organization token
}

func ExampleAccessTokenClaims_Kind() {
	for _, c := range []logto.AccessTokenClaims{
		{Aud: logto.Audience{"https://api.example.com"}},
		{Aud: logto.Audience{"https://api.example.com"}, OrganizationID: "acme"},
		{Aud: logto.Audience{logto.OrganizationURN("acme")}},
		{Aud: logto.Audience{"https://other.example.com"}},
	} {
		fmt.Println(c.Kind("https://api.example.com"))
	}
	// Output:
	// user token
	// organization-scoped resource token
	// organization token
	// none
}
