// Package engine is dockvet's one way to reach a Docker Engine. Every
// surface that talks to the daemon (image sources, the host audit, live
// containers, watch) connects here, so that dockvet talks to the Engine
// the Docker CLI would talk to with the same flags and environment:
// --host/-H and DOCKER_HOST, --context, DOCKER_CONTEXT and the current
// context of the Docker configuration (DOCKER_CONFIG, the plugin's
// --config), the TLS material of contexts, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH and the --tls flags, and ssh:// hosts. The contexts are
// read with the Docker CLI's own context store and endpoint code, and the
// precedence is its resolveContextName's.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	dcontext "github.com/docker/cli/cli/context"
	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	dopts "github.com/docker/cli/opts"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
)

// DefaultContext is the context the Docker CLI builds from --host,
// DOCKER_HOST and the TLS settings when no stored context is chosen.
const DefaultContext = "default"

// Environment variables of the Docker CLI.
const (
	EnvHost      = "DOCKER_HOST"
	EnvContext   = "DOCKER_CONTEXT"
	EnvConfig    = "DOCKER_CONFIG"
	EnvTLS       = "DOCKER_TLS"
	EnvTLSVerify = "DOCKER_TLS_VERIFY"
	EnvCertPath  = "DOCKER_CERT_PATH"
)

// Options are the Docker CLI's connection flags as given; what is not
// given comes from the environment, as the Docker CLI reads it.
type Options struct {
	// Host is --host/-H.
	Host string
	// Context is --context/-c.
	Context string
	// ConfigDir is the Docker configuration directory (the plugin's
	// --config); empty means DOCKER_CONFIG, else ~/.docker.
	ConfigDir string
	// TLS is --tls; TLSVerify --tlsverify, and TLSVerifySet whether it was
	// given at all (--tlsverify=false still turns TLS on, as in the
	// Docker CLI).
	TLS          bool
	TLSVerify    bool
	TLSVerifySet bool
	// CACert, Cert and Key are --tlscacert, --tlscert and --tlskey; empty
	// means the file of that name in DOCKER_CERT_PATH (else the
	// configuration directory).
	CACert, Cert, Key string
}

// Endpoint is a resolved Engine: where it is, which context and setting
// chose it, and how to connect.
type Endpoint struct {
	// Host is the Engine's address.
	Host string
	// Context is the context it came from ("default" for --host,
	// DOCKER_HOST and the built-in socket).
	Context string
	// From says what chose the context or address.
	From string

	ep  docker.Endpoint
	cfg *configfile.ConfigFile
}

// Info is what reports record of the Endpoint.
func (e *Endpoint) Info() *finding.EngineInfo {
	info := &finding.EngineInfo{Host: e.Host, Context: e.Context, From: e.From}
	if e.usesTLS() {
		info.TLS = "verify"
		if e.ep.SkipTLSVerify {
			info.TLS = "no-verify"
		}
	}
	return info
}

func (e *Endpoint) usesTLS() bool {
	if strings.HasPrefix(e.Host, "unix://") || strings.HasPrefix(e.Host, "npipe://") || strings.HasPrefix(e.Host, "ssh://") || strings.HasPrefix(e.Host, "fd://") {
		return false
	}
	return e.ep.TLSData != nil || e.ep.SkipTLSVerify
}

// String names the Engine for a person: its address, and the context
// when one was chosen.
func (e *Endpoint) String() string {
	if e.Context != DefaultContext {
		return fmt.Sprintf("%s (context %s)", e.Host, e.Context)
	}
	return e.Host
}

// Origin says what chose the Engine, for a person: "default context",
// "from DOCKER_HOST", "context prod, from DOCKER_CONTEXT".
func (e *Endpoint) Origin() string {
	switch {
	case e.From == "default":
		return "default context"
	case e.Context == DefaultContext:
		return "from " + e.From
	}
	return "context " + e.Context + ", from " + e.From
}

// Local reports whether the Engine is on a local socket, which --offline
// allows.
func (e *Endpoint) Local() bool {
	return strings.HasPrefix(e.Host, "unix://") || strings.HasPrefix(e.Host, "npipe://")
}

// ConfigDir is the Docker configuration directory o names: the flag, else
// DOCKER_CONFIG, else ~/.docker. It is read at every call (the Docker
// CLI's config.Dir is read once per process).
func ConfigDir(o Options) string {
	if o.ConfigDir != "" {
		return filepath.Clean(o.ConfigDir)
	}
	if d := os.Getenv(EnvConfig); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}

// Resolve finds the Engine o and the environment name, by the Docker CLI's
// rules: --context, then --host (the default context), then DOCKER_HOST
// (the default context), then DOCKER_CONTEXT, then the configuration's
// currentContext, else the default context. Nothing is dialled.
func Resolve(o Options) (*Endpoint, error) {
	if o.Context != "" && o.Host != "" {
		return nil, errors.New("conflicting options: cannot specify both --host and --context")
	}
	dir := ConfigDir(o)
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("docker configuration %s: %v", dir, oneLine(err.Error()))
	}
	name, from := contextName(o, cfg, dir)
	e := &Endpoint{Context: name, From: from, cfg: cfg}
	if name == DefaultContext {
		if e.ep, err = defaultEndpoint(o, dir); err != nil {
			return nil, err
		}
		e.Host = e.ep.Host
		return e, nil
	}
	st := store.New(filepath.Join(dir, "contexts"), storeConfig)
	meta, err := st.GetMetadata(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("docker context %q (%s) does not exist in %s", name, from, filepath.Join(dir, "contexts"))
		}
		return nil, fmt.Errorf("docker context %q (%s): %v", name, from, oneLine(err.Error()))
	}
	epMeta, err := docker.EndpointFromContext(meta)
	if err != nil {
		return nil, fmt.Errorf("docker context %q (%s): %v", name, from, err)
	}
	if e.ep, err = docker.WithTLSData(st, name, epMeta); err != nil {
		return nil, fmt.Errorf("docker context %q (%s): TLS material: %v", name, from, oneLine(err.Error()))
	}
	e.Host = e.ep.Host
	if e.Host == "" {
		// A context without a host means the default socket, as
		// docker.Endpoint.ClientOpts leaves it to the client.
		e.Host = client.DefaultDockerHost
	}
	return e, nil
}

// storeConfig types the docker endpoint of stored contexts, as the Docker
// CLI's DefaultContextStoreConfig does; the context's own metadata is read
// as a plain map (dockvet only needs its endpoint).
var storeConfig = store.NewConfig(
	func() any { return &map[string]any{} },
	store.EndpointTypeGetter(docker.DockerEndpoint, func() any { return &docker.EndpointMeta{} }),
)

// contextName is the Docker CLI's resolveContextName, with what decided.
func contextName(o Options, cfg *configfile.ConfigFile, dir string) (string, string) {
	switch {
	case o.Context != "":
		return o.Context, "--context"
	case o.Host != "":
		return DefaultContext, "--host"
	case os.Getenv(EnvHost) != "":
		return DefaultContext, EnvHost
	case os.Getenv(EnvContext) != "":
		return os.Getenv(EnvContext), EnvContext
	case cfg != nil && cfg.CurrentContext != "":
		return cfg.CurrentContext, "currentContext in " + filepath.Join(dir, config.ConfigFileName)
	}
	return DefaultContext, "default"
}

// defaultEndpoint is the Docker CLI's resolveDefaultDockerEndpoint with
// its flags' defaults (cli/flags: InstallFlags, SetDefaultOptions) read
// now: TLS is on with --tls, DOCKER_TLS, --tlsverify or
// DOCKER_TLS_VERIFY; its files default to DOCKER_CERT_PATH, else the
// configuration directory; a missing default certificate or key is
// left out.
func defaultEndpoint(o Options, dir string) (docker.Endpoint, error) {
	verify := os.Getenv(EnvTLSVerify) != ""
	if o.TLSVerifySet {
		verify = o.TLSVerify
	}
	useTLS := o.TLS || os.Getenv(EnvTLS) != "" || o.TLSVerifySet || verify
	host, err := dopts.ParseHost(useTLS, firstNonEmpty(o.Host, os.Getenv(EnvHost)))
	if err != nil {
		from := "--host"
		if o.Host == "" {
			from = EnvHost
		}
		return docker.Endpoint{}, fmt.Errorf("%s %q: %v", from, firstNonEmpty(o.Host, os.Getenv(EnvHost)), err)
	}
	ep := docker.Endpoint{EndpointMeta: docker.EndpointMeta{Host: host}}
	if !useTLS {
		return ep, nil
	}
	certDir := firstNonEmpty(os.Getenv(EnvCertPath), dir)
	ca := firstNonEmpty(o.CACert, filepath.Join(certDir, "ca.pem"))
	cert, key := o.Cert, o.Key
	if cert == "" {
		cert = existing(filepath.Join(certDir, "cert.pem"))
	}
	if key == "" {
		key = existing(filepath.Join(certDir, "key.pem"))
	}
	if o.CACert == "" {
		ca = existing(ca)
	}
	ep.SkipTLSVerify = !verify
	if ep.TLSData, err = dcontext.TLSDataFromFiles(ca, cert, key); err != nil {
		return docker.Endpoint{}, fmt.Errorf("TLS material for %s: %v", host, oneLine(err.Error()))
	}
	return ep, nil
}

func existing(p string) string {
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Client returns a client for the Endpoint without dialling it: TLS from
// the context or flags, ssh:// through the Docker CLI's connection helper,
// the configuration's HTTP headers, DOCKER_API_VERSION.
func (e *Endpoint) Client() (*client.Client, error) {
	opts, err := e.ep.ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %v", e, oneLine(err.Error()))
	}
	if e.cfg != nil && len(e.cfg.HTTPHeaders) > 0 {
		opts = append(opts, client.WithHTTPHeaders(e.cfg.HTTPHeaders))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %v", e, oneLine(err.Error()))
	}
	return c, nil
}

// Connect returns a client for the Endpoint, negotiating the API version
// with it. It pings the daemon, so an unreachable Engine is one clear error
// here, naming the address, rather than a late failure.
func (e *Endpoint) Connect(ctx context.Context) (*client.Client, error) {
	c, err := e.Client()
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("docker engine at %s is not reachable: %s", e, reason(err))
	}
	return c, nil
}

// reason is the part of a dial error a person acts on: "no such file or
// directory" rather than the client's advice about the daemon running.
func reason(err error) string {
	msg := oneLine(err.Error())
	for _, cut := range []string{"Cannot connect to the Docker daemon at ", "error during connect: "} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[i+len(cut):]
		}
	}
	msg = strings.TrimSuffix(msg, ". Is the docker daemon running?")
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "dial ") {
		msg = msg[i+2:]
	}
	return msg
}

// Connect returns a client for the Engine the environment alone names
// (no flags), as Resolve and Endpoint.Connect do.
func Connect(ctx context.Context) (*client.Client, error) {
	e, err := Resolve(Options{})
	if err != nil {
		return nil, err
	}
	return e.Connect(ctx)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
