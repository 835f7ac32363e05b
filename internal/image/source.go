package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/engine"
)

// OpenOptions say how to reach an image.
type OpenOptions struct {
	// Platform picks an image from a multi-platform index; nil means the
	// host's (and a single-platform image is then audited whatever it is).
	Platform *v1.Platform
	// Offline forbids the network: registries, and an Engine that is not
	// on a local socket.
	Offline bool
	// Insecure allows plain HTTP and unverified TLS to registries. Without
	// it only a loopback registry may use plain HTTP.
	Insecure bool
	// Keychain finds registry credentials; nil means the Docker
	// configuration (~/.docker/config.json and its credential helpers).
	Keychain authn.Keychain
	// Engine connects to the Docker Engine; nil means engine.Connect.
	Engine func(ctx context.Context) (*client.Client, error)
}

// Source prefixes of the contract.
const (
	SourceDockerArchive = "docker-archive"
	SourceOCIArchive    = "oci-archive"
	SourceOCI           = "oci"
	SourceDocker        = "docker"
	SourceRegistry      = "registry"
)

// Open finds the image a reference names. The caller must Close it.
func Open(ctx context.Context, ref string, o OpenOptions) (*Image, error) {
	explicit := o.Platform != nil
	plat := v1Host()
	if explicit {
		plat = *o.Platform
	}
	kind, rest, hasPrefix := strings.Cut(ref, ":")
	if hasPrefix {
		switch kind {
		case SourceDockerArchive, SourceOCIArchive:
			return openArchive(ref, rest, kind, plat, explicit)
		case SourceOCI:
			return openLayout(ref, rest, plat, explicit)
		case SourceDocker:
			return openEngine(ctx, ref, rest, o)
		case SourceRegistry:
			return openRegistry(ctx, ref, rest, plat, o)
		}
	}
	if fi, err := os.Stat(ref); err == nil {
		switch {
		case fi.Mode().IsRegular():
			return openArchive(ref, ref, "", plat, explicit)
		case fi.IsDir():
			if _, err := os.Stat(filepath.Join(ref, "index.json")); err == nil {
				return openLayout(ref, ref, plat, explicit)
			}
			return nil, fmt.Errorf("%s is a directory but not an OCI layout (no index.json); use oci:DIR for a layout", ref)
		}
	} else if looksLikeFile(ref) {
		return nil, fmt.Errorf("%s: no such file", ref)
	}
	return openByName(ctx, ref, plat, o)
}

// v1Host is the platform images default to: Linux on this machine's
// architecture (containers are Linux even on a Mac).
func v1Host() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
	}
	return p
}

func looksLikeFile(ref string) bool {
	l := strings.ToLower(ref)
	return strings.HasSuffix(l, ".tar") || strings.HasSuffix(l, ".tar.gz") || strings.HasPrefix(ref, "./") ||
		strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "/")
}

// openArchive opens a docker save or OCI archive file. kind is "" when the
// format is to be sniffed from the archive's members.
func openArchive(ref, file, kind string, plat v1.Platform, explicit bool) (*Image, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, unwrapPath(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	img, err := openArchiveReader(ref, f, fi.Size(), kind, plat, explicit)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	img.close = f.Close
	return img, nil
}

// archiveReader is what an archive is read from: a file, or memory.
type archiveReader interface {
	io.ReadSeeker
	io.ReaderAt
}

func openArchiveReader(ref string, r archiveReader, size int64, kind string, plat v1.Platform, explicit bool) (*Image, error) {
	st, err := indexTar(r, size)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		switch {
		case st.has("manifest.json"):
			kind = SourceDockerArchive
		case st.has("index.json"):
			kind = SourceOCIArchive
		default:
			return nil, errors.New("neither a docker save archive (no manifest.json) nor an OCI archive (no index.json)")
		}
	}
	var res *resolved
	if kind == SourceDockerArchive {
		res, err = resolveDocker(st)
	} else {
		res, err = resolveOCI(st, plat, explicit)
	}
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Source: kind}
	if err := res.build(img, nil); err != nil {
		return nil, err
	}
	img.open = storeOpener(st, res)
	return img, nil
}

// storeOpener opens layer i's blob. Its stored digest is not checked: the
// walk checks the digest of the uncompressed content against the config's
// diff ID, and the config and manifest were checked against their digests,
// so what is audited is what the image names. Hashing the compressed bytes
// too would cost a third more hashing and prove nothing more.
func storeOpener(st store, res *resolved) func(int) (blobReader, error) {
	return func(i int) (blobReader, error) {
		rc, _, err := st.open(res.layers[i].name)
		return rc, err
	}
}

// openLayout opens an OCI layout directory.
func openLayout(ref, dir string, plat v1.Platform, explicit bool) (*Image, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", dir, unwrapPath(err))
	}
	st := dirStore{root: root}
	res, err := resolveOCI(st, plat, explicit)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	img := &Image{Ref: ref, Source: SourceOCI, close: root.Close}
	if err := res.build(img, nil); err != nil {
		root.Close()
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	img.open = storeOpener(st, res)
	return img, nil
}

// openByName resolves a bare reference: the local Engine first, as
// `docker run` does, then the registry.
func openByName(ctx context.Context, ref string, plat v1.Platform, o OpenOptions) (*Image, error) {
	img, engineErr := openEngine(ctx, ref, ref, o)
	if engineErr == nil {
		img.Source = SourceDocker
		return img, nil
	}
	if o.Offline {
		return nil, fmt.Errorf("%s: not found in the local Engine (%v), and --offline forbids the registry", ref, engineErr)
	}
	return openRegistry(ctx, ref, ref, plat, o)
}

// openEngine streams `docker save` from the Engine. The save format lists
// layers in no useful order, so the archive is read in one pass as it comes
// and layers are placed by their digests at its end (see stream.go).
func openEngine(ctx context.Context, ref, nm string, o OpenOptions) (*Image, error) {
	if nm == "" {
		return nil, fmt.Errorf("%s: no image name", ref)
	}
	if o.Offline && !localEngine() {
		return nil, fmt.Errorf("%s: DOCKER_HOST=%s is a network address and --offline forbids the network", ref, os.Getenv("DOCKER_HOST"))
	}
	connect := o.Engine
	if connect == nil {
		connect = engine.Connect
	}
	c, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	inspect, err := c.ImageInspect(ctx, nm)
	if err != nil {
		c.Close()
		if errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("%s: no such image in the local Engine", ref)
		}
		return nil, fmt.Errorf("%s: %v", ref, oneLine(err.Error()))
	}
	img := &Image{Ref: ref, Source: SourceDocker, Name: nm, close: c.Close, contentTotal: inspect.Size}
	if inspect.RootFS.Layers != nil {
		img.layerCount = len(inspect.RootFS.Layers)
	}
	if id, err := v1.NewHash(inspect.ID); err == nil {
		img.ConfigDigest = id
	}
	img.stream = func(w *walker) error {
		rc, err := c.ImageSave(w.ctx, []string{inspect.ID})
		if err != nil {
			return fmt.Errorf("docker save: %v", oneLine(err.Error()))
		}
		defer rc.Close()
		return w.readStream(rc)
	}
	return img, nil
}

// localEngine reports whether DOCKER_HOST names a local socket.
func localEngine() bool {
	h := os.Getenv("DOCKER_HOST")
	return h == "" || strings.HasPrefix(h, "unix://") || strings.HasPrefix(h, "npipe://")
}

// openRegistry reads an image from a registry with the user's Docker
// credentials.
func openRegistry(ctx context.Context, ref, nm string, plat v1.Platform, o OpenOptions) (*Image, error) {
	if o.Offline {
		return nil, fmt.Errorf("%s: --offline forbids reading from a registry", ref)
	}
	r, err := name.ParseReference(nm, NameOptions(o)...)
	if err != nil {
		return nil, fmt.Errorf("%s: not an image reference: %v", ref, err)
	}
	ropts := append(RemoteOptions(ctx, o), remote.WithPlatform(plat))
	rimg, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, oneLine(err.Error()))
	}
	raw, err := rimg.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s: config: %v", ref, oneLine(err.Error()))
	}
	m, err := rimg.Manifest()
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %v", ref, oneLine(err.Error()))
	}
	digest, err := rimg.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, oneLine(err.Error()))
	}
	res := &resolved{name: r.Name(), manifestDigest: digest, config: raw, configDigest: sha256Of(raw)}
	if res.configDigest != m.Config.Digest {
		return nil, fmt.Errorf("%s: config does not match its digest", ref)
	}
	for _, l := range m.Layers {
		res.layers = append(res.layers, layerRef{digest: l.Digest, mediaType: l.MediaType, size: l.Size})
	}
	img := &Image{Ref: ref, Source: SourceRegistry, Name: r.Name()}
	if err := res.build(img, nil); err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	layers, err := rimg.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, oneLine(err.Error()))
	}
	img.open = func(i int) (blobReader, error) {
		// go-containerregistry checks the blob's digest as it is read.
		return layers[i].Compressed()
	}
	return img, nil
}

// NameOptions are the reference parsing options of a registry read:
// --insecure-registry lets a name default to plain HTTP.
func NameOptions(o OpenOptions) []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// RemoteOptions are the options every registry read uses (images here,
// signatures in internal/sign): the user's Docker credentials and a
// transport that refuses plain HTTP except to loopback unless
// --insecure-registry is given.
func RemoteOptions(ctx context.Context, o OpenOptions) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(registryTransport(o.Insecure))}
}

// registryTransport refuses plain HTTP to anything but loopback unless
// --insecure-registry was given. go-containerregistry would otherwise fall
// back to HTTP for private-network and .local registries on its own.
func registryTransport(insecure bool) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only with --insecure-registry
		return t
	}
	return plainHTTPGuard{t}
}

type plainHTTPGuard struct{ next http.RoundTripper }

func (g plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !loopback(req.URL) {
		return nil, fmt.Errorf("refusing plain HTTP to %s (use --insecure-registry to allow it)", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

func loopback(u *url.URL) bool {
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
