package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/watch"
)

// DefaultSocket is where the Engine looks for a plugin named "dockvet"
// (`dockerd --authorization-plugin=dockvet`).
const DefaultSocket = "/run/docker/plugins/dockvet.sock"

// SocketPath reads a --listen value: "unix:///path.sock" or a path.
func SocketPath(listen string) (string, error) {
	p := listen
	if rest, ok := strings.CutPrefix(listen, "unix://"); ok {
		p = rest
	} else if strings.Contains(listen, "://") {
		return "", fmt.Errorf("%q: the plugin listens on a Unix socket only (unix:///path.sock)", listen)
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%q: want an absolute socket path (unix:///run/docker/plugins/dockvet.sock)", listen)
	}
	return filepath.Clean(p), nil
}

// Listen opens the plugin's Unix socket (mode 0600: only the daemon, as
// root, talks to it). A socket file left by an earlier run that nothing
// answers on is replaced; one that is in use is not.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is in use by another process", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	// Not through the umask, which is the whole process's.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, nil
}

// Serve serves the plugin protocol on a listener until its context ends.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// LogTo writes each decision as one JSON line through watch's sinks.
func LogTo(d *watch.Dispatcher) func(*Decision) {
	return func(dec *Decision) {
		b, err := json.Marshal(dec)
		if err != nil {
			return
		}
		d.Write(watch.LineRecord(b))
	}
}
