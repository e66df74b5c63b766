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
//
// A setting given as a flag wins over its environment variable, which wins
// over the -config file, which wins over the default.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("logto-dev", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, "Usage: logto-dev [flags]\n\n"+
			"A flag wins over its environment variable, which wins over the -config file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "JSON config `file`: apps, users, resources, roles, organizations [LOGTO_DEV_CONFIG]")
	addr := fs.String("addr", "localhost:3001", "listen `address` [LOGTO_DEV_ADDR]")
	base := fs.String("url", "", "public base `URL`; the issuer is <url>/oidc [LOGTO_DEV_URL] (default http://<addr>)")
	smsSpec := fs.String("sms", "", "SMS connector `spec`: console, console:<record-file> or smsaero:<config.json> [LOGTO_DEV_SMS] (default console)")
	appID := fs.String("app-id", logtotest.DefaultAppID, "client `ID` (with -config: of its only app)")
	appSecret := fs.String("app-secret", logtotest.DefaultAppSecret, "client `secret` (with -config: of its only app)")
	redirect := fs.String("redirect-uri", logtotest.DefaultRedirectURI, "redirect `URIs`, comma-separated (with -config: of its only app)")
	postLogout := fs.String("post-logout-redirect-uri", logtotest.DefaultPostLogoutRedirectURI, "post-logout redirect `URIs`, comma-separated (with -config: of its only app)")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// setting resolves one setting: flag, environment, config file, default.
	setting := func(name, flagValue, env, file, fallback string) string {
		if set[name] {
			return flagValue
		}
		if v := getenv(env); v != "" {
			return v
		}
		if file != "" {
			return file
		}
		return fallback
	}

	cfg := &fileConfig{}
	path := setting("config", *configPath, "LOGTO_DEV_CONFIG", "", "")
	if path != "" {
		var err error
		if cfg, err = loadConfig(path); err != nil {
			return err
		}
	}
	*addr = setting("addr", *addr, "LOGTO_DEV_ADDR", cfg.Addr, "localhost:3001")
	*base = setting("url", *base, "LOGTO_DEV_URL", cfg.URL, "")
	*smsSpec = setting("sms", *smsSpec, "LOGTO_DEV_SMS", cfg.SMS, "")
	if !set["disable-registration"] {
		*noRegister = cfg.DisableRegistration
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

	opts := cfg.options(*base)
	switch len(opts.Apps) {
	case 0:
		opts.Apps = []logtotest.App{{
			ID: *appID, Secret: *appSecret, Name: "Development app",
			RedirectURIs: splitList(*redirect), PostLogoutRedirectURIs: splitList(*postLogout),
		}}
	case 1:
		a := &opts.Apps[0]
		if set["app-id"] {
			a.ID = *appID
		}
		if set["app-secret"] {
			a.Secret = *appSecret
		}
		if set["redirect-uri"] {
			a.RedirectURIs = splitList(*redirect)
		}
		if set["post-logout-redirect-uri"] {
			a.PostLogoutRedirectURIs = splitList(*postLogout)
		}
	default:
		for _, name := range []string{"app-id", "app-secret", "redirect-uri", "post-logout-redirect-uri"} {
			if set[name] {
				return fmt.Errorf("-%s edits the config file's only app, but %s declares %d apps: edit the file instead", name, path, len(opts.Apps))
			}
		}
	}
	if opts.Users == nil {
		opts.Users = []logtotest.User{logtotest.DefaultUser()}
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level}))
	srv, err := logtodev.New(logtodev.Options{Provider: opts, SMS: conn, Logger: logger, DisableRegistration: *noRegister})
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Logto dev provider listening on %s\n", ln.Addr())
	if path != "" {
		fmt.Fprintf(stdout, "  Config:        %s\n", path)
	}
	printDirectory(stdout, srv.Provider.Issuer(), opts)
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

// printDirectory prints what the provider serves. Secrets are printed only
// when they are logtotest's published defaults (DefaultAppSecret, the
// password of DefaultUser); any other is "(not shown)".
func printDirectory(w io.Writer, issuer string, o logtotest.Options) {
	fmt.Fprintf(w, "  Issuer:        %s\n", issuer)
	fmt.Fprintf(w, "  Discovery:     %s/.well-known/openid-configuration\n", issuer)
	for _, a := range o.Apps {
		fmt.Fprintf(w, "  App ID:        %s\n", a.ID)
		if a.Public {
			fmt.Fprintf(w, "  App secret:    (none: public app, PKCE)\n")
		} else {
			fmt.Fprintf(w, "  App secret:    %s\n", shown(a.Secret, logtotest.DefaultAppSecret))
		}
		fmt.Fprintf(w, "  Redirect URIs: %s\n", strings.Join(a.RedirectURIs, ", "))
		fmt.Fprintf(w, "  Sign-out URIs: %s\n", strings.Join(a.PostLogoutRedirectURIs, ", "))
	}
	for _, r := range o.Resources {
		fmt.Fprintf(w, "  API resource:  %s (scopes: %s)\n", r.Indicator, strings.Join(r.Scopes, " "))
	}
	for _, r := range o.Roles {
		var grants []string
		for _, ind := range sortedKeys(r.Scopes) {
			grants = append(grants, strings.Join(r.Scopes[ind], " ")+" on "+ind)
		}
		fmt.Fprintf(w, "  Role:          %s (%s)\n", r.Name, strings.Join(grants, "; "))
	}
	for _, org := range o.Organizations {
		var roles []string
		for _, r := range org.Roles {
			roles = append(roles, r.Name)
		}
		fmt.Fprintf(w, "  Organization:  %s %q, roles: %s\n", org.ID, org.Name, strings.Join(roles, ", "))
	}
	for _, u := range o.Users {
		var parts []string
		password := ""
		if u.Password != "" {
			password = shown(u.Password, logtotest.DefaultUser().Password)
		}
		for _, kv := range [][2]string{{"phone", u.Phone}, {"username", u.Username}, {"password", password}, {"email", u.Email}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+" "+kv[1])
			}
		}
		if len(u.Roles) > 0 {
			parts = append(parts, "roles "+strings.Join(u.Roles, " "))
		}
		if len(u.Organizations) > 0 {
			parts = append(parts, "organizations "+strings.Join(u.Organizations, " "))
		}
		fmt.Fprintf(w, "  User:          %s: %s\n", u.ID, strings.Join(parts, ", "))
	}
}

// shown returns secret when it is the published default, else a
// placeholder.
func shown(secret, published string) string {
	if secret == published {
		return secret
	}
	return "(not shown)"
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
