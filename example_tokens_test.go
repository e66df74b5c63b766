package logto_test

import (
	"context"
	"fmt"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// withExampleAPI registers https://api.example.com (scope read:items) and an
// organization the demo user belongs to, and asks for both at sign-in.
func withExampleAPI(o *logtotest.Options, c *logto.Config) {
	o.Resources = append(o.Resources, logtotest.Resource{Indicator: "https://api.example.com", Scopes: []string{"read:items"}})
	o.Users[0].Organizations = []string{"acme"}
	c.Resources = []string{"https://api.example.com"}
	c.Scopes = []string{"read:items", logto.UserScopeOrganizations}
}

func ExampleClient_GetAccessToken() {
	client, _, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	signedIn := signInExample(client)

	w := httptest.NewRecorder()
	r := requestWithCookies("GET", "https://app.example.com/api/items", signedIn)
	token, err := client.GetAccessToken(w, r, "https://api.example.com")
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(token)
	fmt.Println(claims.Aud, claims.Scope)
	fmt.Println("session cookie updated:", len(w.Result().Cookies()) > 0)
	// Output:
	// [https://api.example.com] read:items
	// session cookie updated: true
}

func ExampleClient_GetOrganizationToken() {
	client, _, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	signedIn := signInExample(client)

	r := requestWithCookies("GET", "https://app.example.com/", signedIn)
	token, err := client.GetOrganizationToken(httptest.NewRecorder(), r, "acme")
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(token)
	org, _ := logto.OrganizationIDFromURN(claims.Aud[0])
	fmt.Println(claims.Aud[0], org)

	_, err = client.GetOrganizationToken(httptest.NewRecorder(), r, "not-a-member")
	fmt.Println(logto.StatusCode(err), err)
	// Output:
	// urn:logto:organization:acme acme
	// 403 logto: provider token: oauth_error (HTTP 403): access_denied: user is not a member of the organization
}

func ExampleClient_FetchUserInfo() {
	client, _, stop := exampleSetup()
	defer stop()
	signedIn := signInExample(client)

	r := requestWithCookies("GET", "https://app.example.com/", signedIn)
	ui, err := client.FetchUserInfo(httptest.NewRecorder(), r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ui.Sub == logtotest.DefaultUserID, ui.Username)
	// Output:
	// true probeuser
}

func ExampleWithAccessToken() {
	client, _, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	signedIn := signInExample(client)

	r := requestWithCookies("GET", "https://app.example.com/", signedIn)
	lc, err := client.GetContext(httptest.NewRecorder(), r,
		logto.WithAccessToken("https://api.example.com"), logto.WithOrganization("acme"))
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := logto.InsecureDecodeAccessTokenClaims(lc.AccessToken)
	fmt.Println(claims.Aud, claims.OrganizationID)
	fmt.Println(lc) // tokens are redacted when printed
	// Output:
	// [https://api.example.com] acme
	// logto.Context{IsAuthenticated:true, Sub:"defaultuser1", Scopes:["read:items"], AccessToken:[REDACTED], OrganizationTokens:0}
}

// A token for every organization the ID token lists. An organization that
// fails (here the user left it after signing in) is reported in the error;
// the others still get their tokens.
func ExampleWithOrganizationTokens() {
	client, op, stop := exampleSetupWith(func(o *logtotest.Options, c *logto.Config) {
		withExampleAPI(o, c)
		o.Users[0].Organizations = []string{"acme", "globex", "initech"}
	})
	defer stop()
	signedIn := signInExample(client)

	user := logtotest.DefaultUser()
	user.Organizations = []string{"acme", "globex"} // the user leaves initech
	op.AddUser(user)

	r := requestWithCookies("GET", "https://app.example.com/", signedIn)
	lc, err := client.GetContext(httptest.NewRecorder(), r, logto.WithOrganizationTokens())
	fmt.Println(slices.Sorted(maps.Keys(lc.OrganizationTokens)))
	fmt.Println(logto.StatusCode(err), err)
	// Output:
	// [acme globex]
	// 403 organization initech: logto: provider token: oauth_error (HTTP 403): access_denied: user is not a member of the organization
}

// Looking at a token the client just obtained from Logto. An API verifies
// the tokens it receives with ResourceServer instead.
func ExampleInsecureDecodeAccessTokenClaims() {
	client, _, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	r := requestWithCookies("GET", "https://app.example.com/", signInExample(client))

	token, err := client.GetAccessToken(httptest.NewRecorder(), r, "https://api.example.com")
	if err != nil {
		log.Fatal(err)
	}
	claims, err := logto.InsecureDecodeAccessTokenClaims(token)
	fmt.Println(claims.Aud, claims.Scopes(), err)
	_, err = logto.InsecureDecodeAccessTokenClaims("an-opaque-token")
	fmt.Println(err)
	// Output:
	// [https://api.example.com] [read:items] <nil>
	// logto: not a JWT access token (opaque tokens have no claims)
}

func ExampleResourceServer_Middleware() {
	_, op, stop := exampleSetupWith(withExampleAPI)
	defer stop()

	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint: op.URL(), // https://your-tenant.logto.app
		Audience: "https://api.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	api := rs.Middleware("read:items")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := logto.AccessTokenFromContext(r.Context())
		fmt.Fprintln(w, "items for", claims.Sub)
	}))

	w := httptest.NewRecorder()
	api.ServeHTTP(w, httptest.NewRequest("GET", "/items", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer realm="https://api.example.com"
}

func ExampleResourceServer_Verify() {
	client, op, stop := exampleSetupWith(withExampleAPI)
	defer stop()
	r := requestWithCookies("GET", "https://app.example.com/", signInExample(client))
	token, _ := client.GetAccessToken(httptest.NewRecorder(), r, "https://api.example.com")

	rs, _ := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL(), Audience: "https://api.example.com"})
	claims, err := rs.Verify(context.Background(), token)
	fmt.Println(err, claims.Sub == logtotest.DefaultUserID, claims.HasScopes("read:items"))
	// Output:
	// <nil> true true
}

func ExampleOrganizationURN() {
	urn := logto.OrganizationURN("acme")
	id, err := logto.OrganizationIDFromURN(urn)
	fmt.Println(urn, id, err)
	_, err = logto.OrganizationIDFromURN("https://api.example.com")
	fmt.Println(err)
	// Output:
	// urn:logto:organization:acme acme <nil>
	// logto: invalid organization URN
}
