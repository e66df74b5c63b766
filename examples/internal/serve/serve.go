// Package serve holds what the example commands share to serve HTTP.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ListenAddr is the address to listen on for a public URL: ":port" when the
// host is localhost (so both 127.0.0.1 and ::1 work), host:port otherwise.
func ListenAddr(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = ""
	}
	return net.JoinHostPort(host, port), nil
}

// NewServer is an http.Server for h with timeouts and size limits, logging
// its errors to logger.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// shutdownTimeout bounds the graceful shutdown of All's servers.
const shutdownTimeout = 10 * time.Second

// All serves each handler on the port of its public URL (see ListenAddr)
// until ctx is done or one server fails, then shuts them all down. It
// listens on every port before serving any, so a port in use fails at once,
// and calls ready (may be nil) once all are listening.
func All(ctx context.Context, handlers map[string]http.Handler, logger *slog.Logger, ready func()) error {
	listeners := map[net.Listener]http.Handler{}
	for rawURL, h := range handlers {
		addr, err := ListenAddr(rawURL)
		if err == nil {
			var l net.Listener
			if l, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr); err == nil {
				listeners[l] = h
				continue
			}
		}
		for l := range listeners {
			l.Close()
		}
		return fmt.Errorf("%s: %w", rawURL, err)
	}
	errc := make(chan error, len(listeners))
	var servers []*http.Server
	for l, h := range listeners {
		srv := NewServer(h, logger)
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(l) }()
	}
	if ready != nil {
		ready()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		err = errors.Join(err, srv.Shutdown(sctx))
	}
	return err
}
