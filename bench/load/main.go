// Command load serves one page for a load generator (bench/load.sh runs wrk
// against it), either through the SDK's Client.Middleware (-mode=protected) or
// bare (-mode=bare), so the two runs differ by the per-request session read
// only.
//
//	go run ./bench/load -mode=protected -addr 127.0.0.1:0 -cookie-out /tmp/cookie
//
// The Client is logto.New with the reference session's AppID and CookieSecret
// (bench/testdata/reference-session.json) and Endpoint http://127.0.0.1:1: the
// page reads the Context from the cookie only, and any attempt to reach Logto
// fails and is counted (reported at exit; it must be 0).
//
// At start the program mints a session cookie carrying the reference session's
// tokens with the SDK's own sealing: it signs in, in process, against a
// logtotest provider holding the reference signing key, whose token responses
// are rewritten to the reference tokens (the ID token is re-signed at sign-in
// with the reference claims, because the SDK checks nonce and iat; it differs
// from the reference only in those two claims). -cookie-out writes the
// resulting Cookie header value to a file. The cookie is checked with the
// serving Client before the server starts.
//
// It prints "listening http://ADDR" on stdout once it accepts connections,
// and exits on SIGINT/SIGTERM or after -max-lifetime.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

const (
	appSecret = "BenchAppSecret0123456789abcdefAB" // 32 characters; only the in-process provider sees it
	baseURL   = "http://localhost:3000"
)

type accessToken struct {
	Token     string `json:"token"`
	Scope     string `json:"scope"`
	ExpiresAt int64  `json:"expiresAt"`
}

type reference struct {
	AppID        string                 `json:"appId"`
	Endpoint     string                 `json:"endpoint"`
	CookieSecret string                 `json:"cookieSecret"`
	IDToken      string                 `json:"idToken"`
	RefreshToken string                 `json:"refreshToken"`
	AccessTokens map[string]accessToken `json:"accessTokens"`
	SigningKey   struct {
		D string `json:"d"`
	} `json:"signingKey"`
}

func main() {
	var exitCode int
	defer func() { os.Exit(exitCode) }()
	mode := flag.String("mode", "protected", "protected (client.Middleware) or bare")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (keep it on loopback)")
	sessionPath := flag.String("session", "bench/testdata/reference-session.json", "reference session")
	cookieOut := flag.String("cookie-out", "", "write the minted Cookie header value to this file")
	maxLifetime := flag.Duration("max-lifetime", 5*time.Minute, "exit after this long whatever happens")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the serving phase to this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("load: ")
	if *mode != "protected" && *mode != "bare" {
		log.Fatalf("-mode must be protected or bare, not %q", *mode)
	}

	raw, err := os.ReadFile(*sessionPath)
	if err != nil {
		log.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		log.Fatalf("%s: %v", *sessionPath, err)
	}

	// The serving client: cookie-only; Logto is never reachable.
	var providerCalls atomic.Int64
	client, err := logto.New(logto.Config{
		AppID:        ref.AppID,
		AppSecret:    appSecret,
		Endpoint:     "http://127.0.0.1:1",
		BaseURL:      baseURL,
		CookieSecret: ref.CookieSecret,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			providerCalls.Add(1)
			return nil, errors.New("load: the page must not contact Logto")
		})},
	})
	if err != nil {
		log.Fatal(err)
	}

	var cookieHeader string
	if *mode == "protected" || *cookieOut != "" {
		cookieHeader, err = mintCookie(ref)
		if err != nil {
			log.Fatalf("minting the session cookie: %v", err)
		}
		if err := checkCookie(client, ref, cookieHeader); err != nil {
			log.Fatalf("the minted cookie does not work: %v", err)
		}
		n := strings.Count(cookieHeader, "; ") + 1
		log.Printf("session cookie: %d bytes in %d cookie(s) (Cookie header value)", len(cookieHeader), n)
		if *cookieOut != "" {
			if err := os.WriteFile(*cookieOut, []byte(cookieHeader), 0o600); err != nil {
				log.Fatal(err)
			}
		}
	}

	wantSub := subject(ref.IDToken)
	var notAuthenticated atomic.Int64
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if *mode == "protected" {
			lc := logto.FromContext(r.Context())
			if !lc.IsAuthenticated || lc.Claims.Sub != wantSub {
				notAuthenticated.Add(1)
				http.Error(w, "not signed in", http.StatusUnauthorized)
				return
			}
			who = lc.Claims.Sub
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>bench</title><p>Hello, "+html.EscapeString(who)+"</p>\n")
	})
	var h http.Handler = page
	if *mode == "protected" {
		h = client.Middleware(page)
	}
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		h.ServeHTTP(w, r)
	}))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	cpu0 := cpuTime()
	fmt.Printf("listening http://%s mode=%s\n", ln.Addr(), *mode)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(*maxLifetime):
			log.Printf("-max-lifetime %s reached", *maxLifetime)
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	cpu := cpuTime() - cpu0
	n := served.Load()
	perReq := 0.0
	if n > 0 {
		perReq = float64(cpu.Microseconds()) / float64(n)
	}
	log.Printf("mode=%s: served %d request(s), server CPU %.2fs (user+sys) = %.1f us/request; %d provider call(s), %d unauthenticated request(s)",
		*mode, n, cpu.Seconds(), perReq, providerCalls.Load(), notAuthenticated.Load())
	if providerCalls.Load() != 0 || notAuthenticated.Load() != 0 {
		exitCode = 1
	}
}

// mintCookie signs in against an in-process provider that answers with the
// reference tokens and returns the session's Cookie header value.
func mintCookie(ref reference) (string, error) {
	d, err := base64.RawURLEncoding.DecodeString(ref.SigningKey.D)
	if err != nil {
		return "", fmt.Errorf("signingKey.d: %w", err)
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d)
	if err != nil {
		return "", fmt.Errorf("signingKey: %w", err)
	}
	idClaims, err := jwtClaims(ref.IDToken)
	if err != nil {
		return "", fmt.Errorf("idToken: %w", err)
	}
	var resources []string
	var providerResources []logtotest.Resource
	for k := range ref.AccessTokens {
		if k != "@" {
			r := strings.TrimPrefix(k, "@")
			resources = append(resources, r)
			providerResources = append(providerResources, logtotest.Resource{Indicator: r, Scopes: strings.Fields(ref.AccessTokens[k].Scope)})
		}
	}
	p, err := logtotest.New(logtotest.Options{
		URL:        ref.Endpoint,
		SigningKey: key,
		Apps: []logtotest.App{{
			ID: ref.AppID, Secret: appSecret, Name: "bench",
			RedirectURIs:           []string{baseURL + "/callback"},
			PostLogoutRedirectURIs: []string{baseURL + "/"},
		}},
		Users: []logtotest.User{{
			ID: subject(ref.IDToken), Username: "probeuser", Name: "Probe User",
			Email: "probe@example.com", Phone: "15551234567",
		}},
		Resources: providerResources,
	})
	if err != nil {
		return "", err
	}

	// Token responses carry the reference tokens. The resource a refresh is
	// for is set by the /mint handler below before each GetAccessToken.
	var mu sync.Mutex
	var refreshFor string
	expiresIn := func(e accessToken) int64 { return e.ExpiresAt - time.Now().Unix() }
	p.SetHooks(logtotest.Hooks{
		IDTokenClaims: func(c map[string]any) {
			for k, v := range idClaims {
				if k != "nonce" && k != "iat" {
					c[k] = v
				}
			}
		},
		TokenResponseFor: func(grant string, status *int, body map[string]any) {
			switch grant {
			case "authorization_code":
				if *status != http.StatusOK {
					return
				}
				e := ref.AccessTokens["@"]
				body["access_token"], body["refresh_token"] = e.Token, ref.RefreshToken
				body["expires_in"], body["scope"] = expiresIn(e), e.Scope
			case "refresh_token":
				mu.Lock()
				e, ok := ref.AccessTokens["@"+refreshFor]
				mu.Unlock()
				if !ok {
					return
				}
				*status = http.StatusOK
				clear(body)
				body["access_token"], body["refresh_token"] = e.Token, ref.RefreshToken
				body["expires_in"], body["scope"], body["token_type"] = expiresIn(e), e.Scope, "Bearer"
			}
		},
	})

	app := map[string]http.Handler{}
	transport := inProcess(app)
	mintClient, err := logto.New(logto.Config{
		AppID:        ref.AppID,
		AppSecret:    appSecret,
		Endpoint:     ref.Endpoint,
		BaseURL:      baseURL,
		CookieSecret: ref.CookieSecret,
		Resources:    resources,
		HTTPClient:   &http.Client{Transport: transport, Timeout: 10 * time.Second},
	})
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/", mintClient.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("GET /mint", mintClient.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, res := range resources {
			mu.Lock()
			refreshFor = res
			mu.Unlock()
			tok, err := mintClient.GetAccessToken(w, r, res)
			if err != nil || tok != ref.AccessTokens["@"+res].Token {
				http.Error(w, fmt.Sprintf("%s: %v (token matches: %v)", res, err, tok == ref.AccessTokens["@"+res].Token), http.StatusInternalServerError)
				return
			}
		}
	})))
	u, _ := url.Parse(ref.Endpoint)
	app[u.Host] = p
	app["localhost:3000"] = mux

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: transport, Jar: jar, Timeout: 10 * time.Second}
	for _, path := range []string{"/sign-in", "/mint"} {
		resp, err := browser.Get(baseURL + path)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s (ended at %s): %s: %s", path, resp.Request.URL, resp.Status, body)
		}
	}
	// The jar ignores ports: keep only the app's session cookies.
	base, _ := url.Parse(baseURL)
	var parts []string
	for _, c := range jar.Cookies(base) {
		if c.Name == "logto_"+ref.AppID || strings.HasPrefix(c.Name, "logto_"+ref.AppID+".") {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		return "", errors.New("no session cookie after sign-in")
	}
	cookie := strings.Join(parts, "; ")

	// Every reference access token is in the cookie: served from it, without
	// a token request.
	before := p.CountRequests("/oidc/token")
	if before != 1+len(resources) {
		return "", fmt.Errorf("minting made %d token request(s), want %d", before, 1+len(resources))
	}
	r := httptest.NewRequest(http.MethodGet, baseURL+"/", nil)
	r.Header.Set("Cookie", cookie)
	for k, e := range ref.AccessTokens {
		tok, err := mintClient.GetAccessToken(httptest.NewRecorder(), r, strings.TrimPrefix(k, "@"))
		if err != nil {
			return "", fmt.Errorf("access token %q from the cookie: %w", k, err)
		}
		if tok != e.Token {
			return "", fmt.Errorf("access token %q from the cookie is not the reference token", k)
		}
	}
	if n := p.CountRequests("/oidc/token") - before; n != 0 {
		return "", fmt.Errorf("reading the access tokens made %d token request(s)", n)
	}
	return cookie, nil
}

// checkCookie reads the cookie with the serving client, the way the page will.
func checkCookie(c *logto.Client, ref reference, cookie string) error {
	r := httptest.NewRequest(http.MethodGet, baseURL+"/", nil)
	r.Header.Set("Cookie", cookie)
	lc, err := c.GetContext(nil, r)
	if err != nil {
		return err
	}
	if !lc.IsAuthenticated || lc.Claims.Sub != subject(ref.IDToken) {
		return fmt.Errorf("not authenticated: %v", lc)
	}
	return nil
}

func jwtClaims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return m, d.Decode(&m)
}

func subject(idToken string) string {
	m, _ := jwtClaims(idToken)
	s, _ := m["sub"].(string)
	return s
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// inProcess routes requests by host to handlers, without a network.
func inProcess(hosts map[string]http.Handler) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		h, ok := hosts[req.URL.Host]
		if !ok {
			return nil, fmt.Errorf("load: no in-process host %q", req.URL.Host)
		}
		r := req.Clone(req.Context())
		r.Host = req.URL.Host
		r.RequestURI = req.URL.RequestURI()
		r.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
		r.RemoteAddr = "127.0.0.1:40000"
		if r.Body == nil {
			r.Body = http.NoBody
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	})
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
