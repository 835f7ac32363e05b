package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
)

// cleanEnv clears the Docker CLI's variables for one test and points the
// configuration at a directory of its own.
func cleanEnv(t *testing.T) string {
	t.Helper()
	for _, k := range []string{EnvHost, EnvContext, EnvTLS, EnvTLSVerify, EnvCertPath, "DOCKER_API_VERSION"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv(EnvConfig, dir)
	return dir
}

// addContext stores a context the way `docker context create` does, with
// the Docker CLI's store.
func addContext(t *testing.T, cfgDir, name, host string, tlsFiles map[string][]byte, skipVerify bool) {
	t.Helper()
	st := store.New(filepath.Join(cfgDir, "contexts"), storeConfig)
	meta := store.Metadata{Name: name, Metadata: map[string]any{"Description": "test"},
		Endpoints: map[string]any{docker.DockerEndpoint: docker.EndpointMeta{Host: host, SkipTLSVerify: skipVerify}}}
	if err := st.CreateOrUpdate(meta); err != nil {
		t.Fatal(err)
	}
	if tlsFiles != nil {
		if err := st.ResetEndpointTLSMaterial(name, docker.DockerEndpoint, &store.EndpointTLSData{Files: tlsFiles}); err != nil {
			t.Fatal(err)
		}
	}
}

func writeConfig(t *testing.T, dir, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPrecedence is the Docker CLI's resolveContextName: --context, then
// --host, then DOCKER_HOST, then DOCKER_CONTEXT, then the configuration's
// currentContext, else the default context and its socket.
func TestPrecedence(t *testing.T) {
	dir := cleanEnv(t)
	addContext(t, dir, "cfg", "tcp://cfg.example:2375", nil, false)
	addContext(t, dir, "env", "tcp://env.example:2375", nil, false)
	addContext(t, dir, "flag", "ssh://me@flag.example", nil, false)

	check := func(what string, o Options, host, ctx, from string) {
		t.Helper()
		e, err := Resolve(o)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if e.Host != host || e.Context != ctx || e.From != from {
			t.Errorf("%s: %s context %s from %s; want %s %s %s", what, e.Host, e.Context, e.From, host, ctx, from)
		}
	}
	check("nothing", Options{}, "unix:///var/run/docker.sock", "default", "default")
	writeConfig(t, dir, `{"currentContext": "cfg"}`)
	check("config", Options{}, "tcp://cfg.example:2375", "cfg", "currentContext in "+filepath.Join(dir, "config.json"))
	t.Setenv(EnvContext, "env")
	check("DOCKER_CONTEXT", Options{}, "tcp://env.example:2375", "env", EnvContext)
	t.Setenv(EnvHost, "tcp://host.example:2376")
	check("DOCKER_HOST", Options{}, "tcp://host.example:2376", "default", EnvHost)
	check("--host", Options{Host: "unix:///run/other.sock"}, "unix:///run/other.sock", "default", "--host")
	check("--context", Options{Context: "flag"}, "ssh://me@flag.example", "flag", "--context")
	// A host without a scheme is TCP, as with docker -H.
	check("-H host:port", Options{Host: "10.0.0.1:2375"}, "tcp://10.0.0.1:2375", "default", "--host")

	if _, err := Resolve(Options{Context: "flag", Host: "unix:///x"}); err == nil || !strings.Contains(err.Error(), "cannot specify both --host and --context") {
		t.Errorf("--host with --context: %v", err)
	}
	t.Setenv(EnvHost, "")
	t.Setenv(EnvContext, "absent")
	if _, err := Resolve(Options{}); err == nil || err.Error() != `docker context "absent" (DOCKER_CONTEXT) does not exist in `+filepath.Join(dir, "contexts") {
		t.Errorf("missing context: %v", err)
	}
	// --config (the plugin's) names another configuration directory.
	other := t.TempDir()
	addContext(t, other, "there", "tcp://there.example:2375", nil, false)
	writeConfig(t, other, `{"currentContext": "there"}`)
	t.Setenv(EnvContext, "")
	check("--config", Options{ConfigDir: other}, "tcp://there.example:2375", "there", "currentContext in "+filepath.Join(other, "config.json"))
	writeConfig(t, dir, `{"currentContext": `)
	if _, err := Resolve(Options{}); err == nil || !strings.Contains(err.Error(), "docker configuration "+dir) {
		t.Errorf("a malformed config.json: %v", err)
	}
}

// pki is a CA, a server certificate for 127.0.0.1 and a client
// certificate, in PEM.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey []byte
	pool                                             *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key := func() (*ecdsa.PrivateKey, []byte) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	caKey, _ := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, tmpl *x509.Certificate) ([]byte, []byte) {
		k, kPEM := key()
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kPEM
	}
	p := &pki{ca: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.serverCert, p.serverKey = issue(2, &x509.Certificate{Subject: pkix.Name{CommonName: "engine"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	p.clientCert, p.clientKey = issue(3, &x509.Certificate{Subject: pkix.Name{CommonName: "client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return p
}

// tlsEngine answers the Engine's /_ping on loopback over TLS, and only to
// clients with a certificate of the test CA, as a dockerd with --tlsverify.
func tlsEngine(t *testing.T, p *pki) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	}))
	cert, err := tls.X509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "tcp://" + srv.Listener.Addr().String()
}

func ping(t *testing.T, e *Endpoint) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

// TestTLS connects to an Engine that requires a client certificate with
// the TLS material of a stored context, and with DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH; without the material, the same Engine refuses.
func TestTLS(t *testing.T) {
	dir := cleanEnv(t)
	p := newPKI(t)
	host := tlsEngine(t, p)

	addContext(t, dir, "secure", host, map[string][]byte{"ca.pem": p.ca, "cert.pem": p.clientCert, "key.pem": p.clientKey}, false)
	e, err := Resolve(Options{Context: "secure"})
	if err != nil {
		t.Fatal(err)
	}
	if info := e.Info(); info.TLS != "verify" || info.Context != "secure" || info.Host != host {
		t.Errorf("info %+v", info)
	}
	if err := ping(t, e); err != nil {
		t.Errorf("context with TLS material: %v", err)
	}

	addContext(t, dir, "bare", host, nil, false)
	e, err = Resolve(Options{Context: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(t, e); err == nil || !strings.Contains(err.Error(), "is not reachable") || !strings.Contains(err.Error(), host) {
		t.Errorf("context without TLS material: %v", err)
	}

	certs := t.TempDir()
	for name, b := range map[string][]byte{"ca.pem": p.ca, "cert.pem": p.clientCert, "key.pem": p.clientKey} {
		if err := os.WriteFile(filepath.Join(certs, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvHost, host)
	t.Setenv(EnvTLSVerify, "1")
	t.Setenv(EnvCertPath, certs)
	e, err = Resolve(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info := e.Info(); info.TLS != "verify" || info.From != EnvHost {
		t.Errorf("info %+v", info)
	}
	if err := ping(t, e); err != nil {
		t.Errorf("DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: %v", err)
	}
	// The same files named by the plugin's --tlscacert/--tlscert/--tlskey.
	t.Setenv(EnvTLSVerify, "")
	t.Setenv(EnvCertPath, t.TempDir())
	e, err = Resolve(Options{TLSVerify: true, TLSVerifySet: true, CACert: filepath.Join(certs, "ca.pem"),
		Cert: filepath.Join(certs, "cert.pem"), Key: filepath.Join(certs, "key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(t, e); err != nil {
		t.Errorf("--tlsverify --tlscacert --tlscert --tlskey: %v", err)
	}
	// Without TLS the TLS Engine does not answer.
	t.Setenv(EnvHost, host)
	e, err = Resolve(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Info().TLS != "" {
		t.Errorf("no TLS asked, info %+v", e.Info())
	}
	if err := ping(t, e); err == nil {
		t.Error("plain HTTP to a TLS Engine answered")
	}
}

// TestUnreachable names the address and the reason in one line.
func TestUnreachable(t *testing.T) {
	cleanEnv(t)
	sock := filepath.Join(t.TempDir(), "none.sock")
	e, err := Resolve(Options{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	err = ping(t, e)
	if err == nil || err.Error() != "docker engine at unix://"+sock+" is not reachable: no such file or directory" {
		t.Errorf("err = %v", err)
	}
	if !e.Local() || e.Origin() != "from --host" {
		t.Errorf("local %v, origin %q", e.Local(), e.Origin())
	}
}
