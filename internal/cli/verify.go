package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/sign"
)

var _ = register(newVerifyCmd)

// verifyTimeout bounds one image's verification: listing and reading its
// signature artifacts, and fetching a trusted root.
const verifyTimeout = 2 * time.Minute

type verifyOptions struct {
	keys           []string
	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	trustedRoot    string
	notation       string
	attestations   bool
}

func newVerifyCmd(g *globals) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Verify an image's signatures (cosign, Sigstore bundles, notation) and attestations",
		Long: "Verify the signatures stored in the registry next to an image: cosign signatures (the sha256-<digest>.sig tag and\n" +
			"OCI 1.1 referrers) with a public key (--key) or keyless (--certificate-identity and --certificate-oidc-issuer,\n" +
			"checked against a Sigstore trusted root: --trusted-root FILE, or the public Sigstore root fetched through TUF),\n" +
			"Sigstore bundles, and notation signatures with a notation trust policy and trust store (--notation DIR).\n" +
			"Without these flags the signers come from the image's trust rule in .dockvet.yaml.\n" +
			"A tag is resolved once; every signature is checked against that digest, and a signature of another digest fails.\n" +
			"Exit code 0: a signature verified; 1: none did; 2: the check could not be made.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runVerify(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.keys, "key", nil, "PEM public key (ECDSA P-256/P-384, Ed25519 or RSA) that may have signed the image; repeatable")
	f.StringVar(&o.identity, "certificate-identity", "", "keyless: the signer's identity (certificate subject: an e-mail address or workflow URI)")
	f.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "keyless: a regular expression the signer's identity must match")
	f.StringVar(&o.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer that vouched for the identity")
	f.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the OIDC issuer must match")
	f.StringVar(&o.trustedRoot, "trusted-root", "", "Sigstore trusted root (trusted_root.json) for keyless signatures and transparency logs; verifies offline")
	f.StringVar(&o.notation, "notation", "", "notation configuration directory: trustpolicy.oci.json and truststore/x509/…")
	f.BoolVar(&o.attestations, "attestations", false, "also verify in-toto attestations (SLSA provenance, SBOM) with the same signers")
	return cmd
}

func (g *globals) loader() (*sign.Loader, error) {
	dir, err := g.CacheDir()
	if err != nil {
		return nil, err
	}
	return &sign.Loader{Offline: g.offline, CacheDir: dir}, nil
}

func (g *globals) remote() sign.Remote { return sign.Remote{Insecure: g.insecureRegistry} }

// trust builds the signers from the flags, or from the trust policy when
// no flag names one.
func (o *verifyOptions) trust(l *sign.Loader, pol *policy.Policy, ref string) (sign.Trust, error) {
	var t sign.Trust
	for _, k := range o.keys {
		s, err := l.Key(k, o.trustedRoot)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	keyless := o.identity != "" || o.identityRegexp != ""
	switch {
	case keyless && o.issuer == "" && o.issuerRegexp == "":
		return nil, errors.New("--certificate-identity needs --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)")
	case !keyless && (o.issuer != "" || o.issuerRegexp != ""):
		return nil, errors.New("--certificate-oidc-issuer needs --certificate-identity (or --certificate-identity-regexp)")
	case keyless:
		s, err := l.Identity(o.identity, o.identityRegexp, o.issuer, o.issuerRegexp, o.trustedRoot)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	if o.notation != "" {
		s, err := l.Notation(o.notation)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	if len(t) > 0 {
		return t, nil
	}
	if img, err := policy.ParseImage(strings.TrimPrefix(ref, image.SourceRegistry+":")); err == nil {
		if signers := pol.RequiredSigners(img); len(signers) > 0 {
			return l.FromPolicy(signers)
		}
	}
	return nil, sign.ErrNoSigners
}

func (g *globals) runVerify(ctx context.Context, ref string, o *verifyOptions) error {
	format, err := g.checkFormat([]string{"table", "json"})
	if err != nil {
		return err
	}
	if g.offline {
		return fail("%s: --offline forbids reading signatures from the registry", ref)
	}
	l, err := g.loader()
	if err != nil {
		return err
	}
	trust, err := o.trust(l, g.cfg.Policy(), ref)
	if err != nil {
		return fail("%v", err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	res, err := sign.Verify(ctx, ref, sign.Options{Remote: g.remote(), Trust: trust, Attestations: o.attestations})
	if err != nil {
		return fail("%v", err)
	}
	if format == "json" {
		err = g.writeJSON(verifyDocument{SchemaVersion: 1, Tool: finding.Tool{Name: "dockvet", Version: Version}, Result: res, Verified: res.Verified()})
	} else {
		err = g.write(renderVerify(res))
	}
	if err != nil {
		return err
	}
	if !res.Verified() {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// verifyDocument is `dockvet verify --format json`.
type verifyDocument struct {
	SchemaVersion int          `json:"schemaVersion"`
	Tool          finding.Tool `json:"tool"`
	Verified      bool         `json:"verified"`
	*sign.Result
}

// renderVerify is the table a person reads: each signature, verified or
// not and why, who signed and when.
func renderVerify(r *sign.Result) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n  digest %s (%s)\n", r.Ref, r.Digest, r.MediaType)
	if len(r.Signatures) == 0 {
		fmt.Fprintf(&b, "  no signatures\n")
	}
	for _, s := range r.Signatures {
		status := "VERIFIED"
		if !s.Verified() {
			status = "FAILED  "
		}
		fmt.Fprintf(&b, "  %s  %s signature, %s\n", status, s.Format, s.Source)
		if !s.Verified() {
			fmt.Fprintf(&b, "            %s\n", s.Error)
			continue
		}
		fmt.Fprintf(&b, "            signed by %s\n", s.Signer)
		fmt.Fprintf(&b, "            signed at %s\n", signedAt(s.SignedAt, s.TimeSource, s.Log))
		fmt.Fprintf(&b, "            covers    %s\n", s.Digest)
	}
	if len(r.Attestations) > 0 {
		fmt.Fprintf(&b, "  attestations:\n")
	}
	for _, a := range r.Attestations {
		status := "VERIFIED"
		if !a.Verified() {
			status = "FAILED  "
		}
		what := a.PredicateType
		if what == "" {
			what = "attestation"
		}
		fmt.Fprintf(&b, "  %s  %s, %s\n", status, what, a.Source)
		if !a.Verified() {
			fmt.Fprintf(&b, "            %s\n", a.Error)
			continue
		}
		fmt.Fprintf(&b, "            signed by %s\n", a.Signer)
		if a.Builder != "" {
			fmt.Fprintf(&b, "            builder   %s\n", a.Builder)
		}
		if a.SourceRepository != "" {
			src := a.SourceRepository
			if a.SourceRevision != "" {
				src += " at " + a.SourceRevision
			}
			fmt.Fprintf(&b, "            source    %s\n", src)
		}
		if a.Summary != "" {
			fmt.Fprintf(&b, "            %s\n", a.Summary)
		}
	}
	if r.Truncated {
		fmt.Fprintf(&b, "  (more artifacts are attached than dockvet checks)\n")
	}
	n := 0
	for _, s := range r.Signatures {
		if s.Verified() {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(&b, "Verified: %d of %d signatures of %s verify.\n", n, len(r.Signatures), r.Digest)
	} else {
		fmt.Fprintf(&b, "Not verified: %s.\n", r.Problem())
	}
	return b.Bytes()
}

func signedAt(t time.Time, source string, log *sign.LogEntry) string {
	if t.IsZero() {
		return "unknown (no transparency log entry or timestamp vouches for a time)"
	}
	s := t.UTC().Format(time.RFC3339) + " (" + source
	if log != nil {
		s += fmt.Sprintf(", entry %d", log.Index)
	}
	return s + ")"
}

// verifyImage is `dockvet image --verify`: when the trust policy requires
// signatures of the audited image, check them and report DV6501 if none
// verifies.
func (g *globals) verifyImage(ctx context.Context, img *image.Image, target finding.Target) ([]finding.Finding, error) {
	l, err := g.loader()
	if err != nil {
		return nil, err
	}
	c := &sign.Checker{Policy: g.cfg.Policy(), Remote: g.remote(), Loader: l, Enabled: g.cfg.Enabled}
	nm := img.Name
	if nm == "" || !c.Requires(nm) {
		g.notice("%s: the trust policy requires no signature of this image; nothing to verify", target.Name)
		return nil, nil
	}
	if g.offline {
		return nil, fmt.Errorf("--verify reads signatures from the registry, which --offline forbids")
	}
	digests, err := sign.ImageDigests(ctx, img, g.remote())
	if err != nil {
		return nil, err
	}
	if img.Source == image.SourceDocker {
		rd, err := engineRepoDigests(ctx, img.Name)
		if err != nil {
			return nil, err
		}
		digests = append(digests, sign.RepoDigests(nm, rd)...)
	}
	return c.Check(ctx, sign.Subject{Name: nm, Digests: digests, Target: target, Who: "Image " + nm})
}

// engineRepoDigests are the registry digests the Engine recorded for an
// image when it was pulled.
func engineRepoDigests(ctx context.Context, ref string) ([]string, error) {
	c, err := engine.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", ref, oneLine(err.Error()))
	}
	return res.RepoDigests, nil
}

// verifyContainers is --verify of `dockvet container` and `dockvet host`:
// each container's image against the trust policy's signature
// requirements.
func (g *globals) verifyContainers(ctx context.Context, cs []*live.Container, r *finding.Report) {
	l, err := g.loader()
	if err != nil {
		r.Errors = append(r.Errors, finding.InputError{Target: "trust policy", Kind: finding.SurfaceContainer, Message: err.Error()})
		return
	}
	c := &sign.Checker{Policy: g.cfg.Policy(), Remote: g.remote(), Loader: l, Enabled: g.cfg.Enabled}
	for _, lc := range cs {
		if lc.Inspect.Config == nil || !c.Requires(lc.Inspect.Config.Image) {
			continue
		}
		if g.offline {
			r.Errors = append(r.Errors, finding.InputError{Target: lc.Name(), Kind: finding.SurfaceContainer,
				Message: "--verify reads signatures from the registry, which --offline forbids"})
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
		fs, err := c.Container(vctx, lc, finding.Target{})
		cancel()
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: lc.Name(), Kind: finding.SurfaceContainer, Message: oneLine(err.Error())})
			continue
		}
		r.Findings = append(r.Findings, fs...)
	}
}

// verifyHostContainers is `dockvet host --verify`: the running
// containers of the snapshot, completed with their images' inspect data.
func (g *globals) verifyHostContainers(ctx context.Context, api host.EngineAPI, snap *host.Snapshot, r *finding.Report) {
	lcli, ok := api.(live.Client)
	if !ok {
		return
	}
	var cs []*live.Container
	for _, hc := range snap.Engine.Containers {
		cctx, cancel := context.WithTimeout(ctx, engineTimeout)
		lc, err := live.Complete(cctx, lcli, hc.Inspect)
		cancel()
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: hc.Name, Kind: finding.SurfaceContainer, Message: oneLine(err.Error())})
			continue
		}
		cs = append(cs, lc)
	}
	before := len(r.Findings)
	g.verifyContainers(ctx, cs, r)
	// Findings about a container belong to it as a target of its own.
	for _, f := range r.Findings[before:] {
		t := finding.Target{Kind: f.TargetKind, Name: f.Target}
		if !slices.Contains(r.Targets, t) {
			r.Targets = append(r.Targets, t)
		}
	}
}
