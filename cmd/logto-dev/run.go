package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
	"github.com/logto-go/logto/logtotest"
)

// shutdownTimeout bounds the graceful shutdown.
const shutdownTimeout = 5 * time.Second

// run parses args (without the program name) and getenv, serves until ctx
// is done, then shuts down gracefully. Everything it prints goes to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("logto-dev", flag.ContinueOnError)
	fs.SetOutput(stdout)
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	addr := fs.String("addr", def("LOGTO_DEV_ADDR", "localhost:3001"), "listen `address` [LOGTO_DEV_ADDR]")
	base := fs.String("url", getenv("LOGTO_DEV_URL"), "public base `URL`; the issuer is <url>/oidc [LOGTO_DEV_URL] (default http://<addr>)")
	smsSpec := fs.String("sms", getenv("LOGTO_DEV_SMS"), "SMS connector `spec`: console, console:<record-file> or smsaero:<config.json> [LOGTO_DEV_SMS]")
	appID := fs.String("app-id", logtotest.DefaultAppID, "client `ID`")
	appSecret := fs.String("app-secret", logtotest.DefaultAppSecret, "client `secret`")
	redirect := fs.String("redirect-uri", logtotest.DefaultRedirectURI, "redirect `URIs`, comma-separated")
	postLogout := fs.String("post-logout-redirect-uri", logtotest.DefaultPostLogoutRedirectURI, "post-logout redirect `URIs`, comma-separated")
	noRegister := fs.Bool("disable-registration", false, "unknown phone numbers cannot register")
	verbose := fs.Bool("v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	conn, err := sms.LoadConnector(*smsSpec, stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if *base == "" {
		*base = defaultURL(*addr, ln.Addr())
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level}))
	app := logtotest.App{
		ID: *appID, Secret: *appSecret, Name: "Development app",
		RedirectURIs: splitList(*redirect), PostLogoutRedirectURIs: splitList(*postLogout),
	}
	user := logtotest.DefaultUser()
	srv, err := logtodev.New(logtodev.Options{
		Provider: logtotest.Options{URL: *base, Apps: []logtotest.App{app}, Users: []logtotest.User{user}},
		SMS:      conn, Logger: logger, DisableRegistration: *noRegister,
	})
	if err != nil {
		return err
	}

	p := srv.Provider
	fmt.Fprintf(stdout, "Logto dev provider listening on %s\n", ln.Addr())
	fmt.Fprintf(stdout, "  Issuer:        %s\n", p.Issuer())
	fmt.Fprintf(stdout, "  Discovery:     %s/.well-known/openid-configuration\n", p.Issuer())
	fmt.Fprintf(stdout, "  App ID:        %s\n", app.ID)
	fmt.Fprintf(stdout, "  App secret:    %s\n", app.Secret)
	fmt.Fprintf(stdout, "  Redirect URIs: %s\n", strings.Join(app.RedirectURIs, ", "))
	fmt.Fprintf(stdout, "  Sign-out URIs: %s\n", strings.Join(app.PostLogoutRedirectURIs, ", "))
	fmt.Fprintf(stdout, "  Demo user:     phone %s, username %s, password %s\n", user.Phone, user.Username, user.Password)
	if *smsSpec == "" || strings.HasPrefix(*smsSpec, "console") {
		fmt.Fprintln(stdout, "  SMS codes are printed here.")
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	fmt.Fprintln(stdout, "Logto dev provider stopped")
	return err
}

// defaultURL is http://<host of addr>:<listening port>, with localhost for
// an empty or unspecified host.
func defaultURL(addr string, listening net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	port := "80"
	if a, ok := listening.(*net.TCPAddr); ok {
		port = fmt.Sprint(a.Port)
	}
	return "http://" + net.JoinHostPort(host, port)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
