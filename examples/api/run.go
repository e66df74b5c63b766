package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/logto-go/logto/examples/internal/serve"

	"github.com/logto-go/logto/examples/api/messages"
)

const (
	defaultEndpoint = "http://localhost:3001"
	defaultResource = "http://localhost:3002"

	shutdownTimeout = 10 * time.Second
)

// settings is the API configuration read from the environment.
type settings struct {
	Endpoint string // LOGTO_ENDPOINT
	Resource string // API_RESOURCE
	Addr     string // API_ADDR
}

func loadSettings(env func(string) string) (settings, error) {
	get := func(k string) string { return strings.TrimSpace(env(k)) }
	s := settings{Endpoint: get("LOGTO_ENDPOINT"), Resource: get("API_RESOURCE"), Addr: get("API_ADDR")}
	if s.Endpoint == "" {
		s.Endpoint = defaultEndpoint
	}
	if s.Resource == "" {
		s.Resource = defaultResource
	}
	if s.Addr == "" {
		addr, err := serve.ListenAddr(s.Resource)
		if err != nil {
			return s, fmt.Errorf("API_ADDR is unset and API_RESOURCE gives no address to listen on: %w", err)
		}
		s.Addr = addr
	}
	return s, nil
}

// newAPI builds the API handler; it does not contact Logto.
func newAPI(s settings, logger *slog.Logger) (http.Handler, error) {
	return messages.New(messages.Config{Endpoint: s.Endpoint, Audience: s.Resource, Logger: logger})
}

// runOptions are knobs for tests; the zero value is what main uses.
type runOptions struct {
	listener net.Listener // replaces listening on API_ADDR
	stderr   io.Writer    // logs; default os.Stderr
	ready    func()       // called once the server accepts connections
}

// run serves the API until ctx is done, then shuts down gracefully.
func run(ctx context.Context, env func(string) string, stdout io.Writer) error {
	return runWith(ctx, env, stdout, runOptions{})
}

func runWith(ctx context.Context, env func(string) string, stdout io.Writer, o runOptions) (err error) {
	if o.listener != nil {
		defer o.listener.Close()
	}
	if o.stderr == nil {
		o.stderr = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(o.stderr, nil))
	s, err := loadSettings(env)
	if err != nil {
		return err
	}
	h, err := newAPI(s, logger)
	if err != nil {
		return err
	}
	l := o.listener
	if l == nil {
		if l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", s.Addr); err != nil {
			return err
		}
	}
	srv := serve.NewServer(h, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()

	fmt.Fprintf(stdout, "API for resource %s, trusting tokens from %s/oidc, listening on %s\n", s.Resource, strings.TrimRight(s.Endpoint, "/"), l.Addr())
	logger.Info("listening", "addr", l.Addr().String(), "resource", s.Resource, "endpoint", s.Endpoint)
	if o.ready != nil {
		o.ready()
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	return err
}
