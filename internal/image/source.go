package image

import (
	"bufio"
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
	"time"

	"github.com/dockvet/dockvet/internal/safefile"

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
	// AnyPlatform audits an image whose platform is not Platform instead
	// of refusing it (a single-platform image, an archive, the Engine's).
	AnyPlatform bool
	// Source pins where a reference without a source prefix is read
	// (ParseSource's names); empty means the contract's default: a file
	// or directory by its path, a name from the Engine, then the registry.
	Source string
	// Offline forbids the network: registries, and an Engine that is not
	// on a local socket.
	Offline bool
	// Insecure allows plain HTTP and unverified TLS to registries. Without
	// it only a loopback registry may use plain HTTP.
	Insecure bool
	// Keychain finds registry credentials; nil means the Docker
	// configuration (~/.docker/config.json and its credential helpers).
	Keychain authn.Keychain
	// RegistryTimeout bounds each wait on a registry: connecting, the TLS
	// handshake, the response headers, and each read of a body that has
	// stalled (--registry-timeout); zero means DefaultRegistryTimeout.
	RegistryTimeout time.Duration
	// Endpoint resolves the Docker Engine as the command line and
	// environment name it (engine.Resolve); nil resolves it from the
	// environment alone. It is called only when a source needs the Engine.
	Endpoint func() (*engine.Endpoint, error)
	// Engine connects to the Docker Engine; nil means Endpoint.Connect.
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

// Sources are the names --source takes: the prefixes, and "engine" for
// "docker" (the Docker Engine, which is what people call it).
var Sources = []string{"engine", SourceRegistry, SourceDockerArchive, SourceOCIArchive, SourceOCI}

// ParseSource reads a --source value into a source prefix.
func ParseSource(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "engine", SourceDocker, "daemon":
		return SourceDocker, nil
	case SourceRegistry, "remote":
		return SourceRegistry, nil
	case SourceDockerArchive, SourceOCIArchive, SourceOCI:
		return strings.ToLower(strings.TrimSpace(s)), nil
	}
	return "", fmt.Errorf("unknown source %q (want one of %s)", s, strings.Join(Sources, ", "))
}

// Open finds the image a reference names. The caller must Close it.
func Open(ctx context.Context, ref string, o OpenOptions) (*Image, error) {
	img, err := open(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	img.want, img.explicit = hostOr(o.Platform), o.Platform != nil && !o.AnyPlatform
	if err := CheckPlatform(img, o); err != nil {
		img.Close()
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	return img, nil
}

func hostOr(p *v1.Platform) v1.Platform {
	if p != nil {
		return *p
	}
	return v1Host()
}

func open(ctx context.Context, ref string, o OpenOptions) (*Image, error) {
	// With AnyPlatform, an index of one image gives that image whatever
	// its platform; an index of several still needs the one asked for.
	explicit := o.Platform != nil && !o.AnyPlatform
	plat := hostOr(o.Platform)
	source, err := ParseSource(o.Source)
	if err != nil {
		return nil, err
	}
	kind, rest, hasPrefix := strings.Cut(ref, ":")
	if hasPrefix && isSourcePrefix(kind) {
		if source != "" && source != kind {
			return nil, fmt.Errorf("%s names the %s source, but --source says %s", ref, kind, source)
		}
	} else if source != "" {
		kind, rest, hasPrefix = source, ref, true
	}
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

func isSourcePrefix(s string) bool {
	switch s {
	case SourceDockerArchive, SourceOCIArchive, SourceOCI, SourceDocker, SourceRegistry:
		return true
	}
	return false
}

// CheckPlatform refuses an image of another platform than --platform asked
// for: a single-platform image, an archive or the Engine's image is what
// it is, and a report about it would be about another image than the one
// asked for. AnyPlatform audits it anyway. An image whose configuration
// is not read yet (a stream) passes: the caller checks it after the walk.
func CheckPlatform(img *Image, o OpenOptions) error {
	if o.Platform == nil || o.AnyPlatform || img.Config == nil {
		return nil
	}
	have := v1.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
	return platformError(have, *o.Platform)
}

func platformError(have, want v1.Platform) error {
	if platformMatches(have, want) {
		return nil
	}
	return fmt.Errorf("the image is %s and has no %s image (--platform); --any-platform audits it anyway", have.String(), want.String())
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

// archiveSuffixes are the file names Open takes for archives even when
// the file does not exist (to say so rather than look for an image name).
var archiveSuffixes = []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.zstd"}

func looksLikeFile(ref string) bool {
	l := strings.ToLower(ref)
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "/")
}

// openArchive opens a docker save or OCI archive file. kind is "" when the
// format is to be sniffed from the archive's members.
func openArchive(ref, file, kind string, plat v1.Platform, explicit bool) (*Image, error) {
	f, err := safefile.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", file, safefile.Message(err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if c := archiveCompression(f); c != "" {
		return openCompressedArchive(ref, file, f, kind, c)
	}
	img, err := openArchiveReader(ref, f, fi.Size(), kind, plat, explicit)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	img.close, img.Location = f.Close, file
	return img, nil
}

// archiveCompression names the compression of an archive file from its first
// bytes: "gzip" (docker save | gzip, .tar.gz, .tgz), "zstd", or "" for a
// plain tar.
func archiveCompression(f *os.File) string {
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return "gzip"
	case n == 4 && magic == [4]byte{0x28, 0xb5, 0x2f, 0xfd}:
		return "zstd"
	}
	return ""
}

// openCompressedArchive reads a gzip- or zstd-compressed docker save or
// OCI archive. A compressed tar cannot be read at an offset, so it is
// read once as a stream, the way the Engine's docker save is (stream.go):
// inflated as it is read, never to disk, layers walked as they come and
// placed by the archive's manifest at its end. The walk's limits bound
// what it inflates.
func openCompressedArchive(ref, file string, f *os.File, kind, algo string) (*Image, error) {
	img := &Image{Ref: ref, Source: kind, Location: file, close: f.Close}
	img.stream = func(w *walker) error {
		br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 64<<10)
		un, closeFn, err := decompress(br)
		if err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
		defer closeFn()
		if err := w.readStream(un); err != nil {
			return fmt.Errorf("%s (%s-compressed): %v", file, algo, err)
		}
		return nil
	}
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
	img := &Image{Ref: ref, Source: SourceOCI, Location: dir, close: root.Close}
	if err := res.build(img, nil); err != nil {
		root.Close()
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	img.open = storeOpener(st, res)
	return img, nil
}

// openByName resolves a bare reference: the local Engine first, as
// `docker run` does, then the registry. Falling back is said (SourceNote),
// and a failure names every source tried and why each failed.
func openByName(ctx context.Context, ref string, plat v1.Platform, o OpenOptions) (*Image, error) {
	ep, err := endpoint(o)
	if err != nil {
		return nil, fmt.Errorf("%s: the Engine: %v", ref, err)
	}
	img, engineErr := readEngine(ctx, ref, ref, ep, o)
	if engineErr == nil {
		return img, nil
	}
	if o.Offline {
		return nil, fmt.Errorf("%s: not read from the Engine at %s (%v), and --offline forbids the registry", ref, ep, engineErr)
	}
	img, regErr := openRegistry(ctx, ref, ref, plat, o)
	if regErr != nil {
		return nil, fmt.Errorf("%s: not found: the Engine at %s: %v; the registry: %v", ref, ep, engineErr, strings.TrimPrefix(regErr.Error(), ref+": "))
	}
	img.SourceNote = fmt.Sprintf("%s: not read from the Engine at %s (%v); read from the registry %s instead", ref, ep, engineErr, img.Location)
	return img, nil
}

// endpoint is the Engine o names, else the environment's.
func endpoint(o OpenOptions) (*engine.Endpoint, error) {
	if o.Endpoint != nil {
		return o.Endpoint()
	}
	return engine.Resolve(engine.Options{})
}

// openEngine reads `docker:NAME`.
func openEngine(ctx context.Context, ref, nm string, o OpenOptions) (*Image, error) {
	ep, err := endpoint(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	img, err := readEngine(ctx, ref, nm, ep, o)
	if err != nil {
		return nil, fmt.Errorf("%s: the Engine at %s: %v", ref, ep, err)
	}
	return img, nil
}

// readEngine streams `docker save` from the Engine. The save format lists
// layers in no useful order, so the archive is read in one pass as it comes
// and layers are placed by their digests at its end (see stream.go). Its
// errors say why the Engine could not give the image, without the
// reference: "unreachable (…)", "no such image".
func readEngine(ctx context.Context, ref, nm string, ep *engine.Endpoint, o OpenOptions) (*Image, error) {
	if nm == "" {
		return nil, errors.New("no image name")
	}
	if o.Offline && !ep.Local() {
		return nil, fmt.Errorf("it is a network address and --offline forbids the network")
	}
	connect := o.Engine
	if connect == nil {
		connect = ep.Connect
	}
	c, err := connect(ctx)
	if err != nil {
		msg := oneLine(err.Error())
		if i := strings.Index(msg, " is not reachable: "); i >= 0 {
			msg = msg[i+len(" is not reachable: "):]
		}
		return nil, fmt.Errorf("unreachable (%s)", msg)
	}
	inspect, err := c.ImageInspect(ctx, nm)
	if err != nil {
		c.Close()
		if errdefs.IsNotFound(err) {
			return nil, errors.New("no such image")
		}
		return nil, errors.New(oneLine(err.Error()))
	}
	if o.Platform != nil && !o.AnyPlatform && inspect.Os != "" {
		if err := platformError(v1.Platform{OS: inspect.Os, Architecture: inspect.Architecture, Variant: inspect.Variant}, *o.Platform); err != nil {
			c.Close()
			return nil, err
		}
	}
	img := &Image{Ref: ref, Source: SourceDocker, Name: nm, Location: ep.String(), RepoDigests: inspect.RepoDigests, close: c.Close,
		contentTotal: inspect.Size}
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
	img := &Image{Ref: ref, Source: SourceRegistry, Name: r.Name(), Location: r.Context().RegistryStr(),
		RepoDigests: []string{r.Context().Digest(digest.String()).String()}}
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
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(registryTransport(o.Insecure, o.RegistryTimeout))}
}

// registryTransport refuses plain HTTP to anything but loopback unless
// --insecure-registry was given. go-containerregistry would otherwise fall
// back to HTTP for private-network and .local registries on its own. It
// bounds redirects and waits (see registry.go).
func registryTransport(insecure bool, timeout time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	timeouts(t, timeout)
	var rt http.RoundTripper = t
	if insecure {
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only with --insecure-registry
	} else {
		rt = plainHTTPGuard{t}
	}
	return &boundedTransport{next: rt, idle: registryTimeout(timeout)}
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
