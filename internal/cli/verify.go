package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/sign"
)

// verifyTimeout bounds one image's verification: listing and reading its
// signature artifacts, and fetching a trusted root.
const verifyTimeout = 2 * time.Minute

// VerifyOptions are those of `dockvet verify`.
type VerifyOptions struct {
	*Shared
	Ref            string
	Keys           []string
	Identity       string
	IdentityRegexp string
	Issuer         string
	IssuerRegexp   string
	TrustedRoot    string
	Notation       string
	Attestations   bool
}

// NewCmdVerify verifies an image's signatures and attestations.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{Shared: f.Shared}
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
			opts.Ref = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Keys, "key", nil, "PEM public key (ECDSA P-256/P-384, Ed25519 or RSA) that may have signed the image; repeatable")
	fl.StringVar(&opts.Identity, "certificate-identity", "", "keyless: the signer's identity (certificate subject: an e-mail address or workflow URI)")
	fl.StringVar(&opts.IdentityRegexp, "certificate-identity-regexp", "", "keyless: a regular expression the signer's identity must match")
	fl.StringVar(&opts.Issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer that vouched for the identity")
	fl.StringVar(&opts.IssuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the OIDC issuer must match")
	fl.StringVar(&opts.TrustedRoot, "trusted-root", "", "Sigstore trusted root (trusted_root.json) for keyless signatures and transparency logs; verifies offline")
	fl.StringVar(&opts.Notation, "notation", "", "notation configuration directory: trustpolicy.oci.json and truststore/x509/…")
	fl.BoolVar(&opts.Attestations, "attestations", false, "also verify in-toto attestations (SLSA provenance, SBOM) with the same signers")
	return cmd
}

// signLoader reads keys, trusted roots and notation configurations, and
// caches the public Sigstore root under the cache directory (cacheDirFlag
// is --cache-dir; empty: the default).
func signLoader(cacheDirFlag string, offline bool) (*sign.Loader, error) {
	dir, err := resolveCacheDir(cacheDirFlag)
	if err != nil {
		return nil, err
	}
	return &sign.Loader{Offline: offline, CacheDir: dir}, nil
}

// newSignChecker is the trust policy's signature checker (DV6501).
func newSignChecker(cfg *config.Config, cacheDirFlag string, offline, insecure bool) (*sign.Checker, error) {
	l, err := signLoader(cacheDirFlag, offline)
	if err != nil {
		return nil, err
	}
	return &sign.Checker{Policy: cfg.Policy(), Remote: sign.Remote{Insecure: insecure}, Loader: l, Enabled: cfg.Enabled}, nil
}

// signChecker is newSignChecker with the shared flags.
func (s *Shared) signChecker() (*sign.Checker, error) {
	return newSignChecker(s.cfg, s.CacheDir, s.Offline, s.InsecureRegistry)
}

// trust builds the signers from the flags, or from the trust policy when
// no flag names one.
func (opts *VerifyOptions) trust(l *sign.Loader, pol *policy.Policy) (sign.Trust, error) {
	var t sign.Trust
	for _, k := range opts.Keys {
		s, err := l.Key(k, opts.TrustedRoot)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	keyless := opts.Identity != "" || opts.IdentityRegexp != ""
	switch {
	case keyless && opts.Issuer == "" && opts.IssuerRegexp == "":
		return nil, errors.New("--certificate-identity needs --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)")
	case !keyless && (opts.Issuer != "" || opts.IssuerRegexp != ""):
		return nil, errors.New("--certificate-oidc-issuer needs --certificate-identity (or --certificate-identity-regexp)")
	case keyless:
		s, err := l.Identity(opts.Identity, opts.IdentityRegexp, opts.Issuer, opts.IssuerRegexp, opts.TrustedRoot)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	if opts.Notation != "" {
		s, err := l.Notation(opts.Notation)
		if err != nil {
			return nil, err
		}
		t = append(t, s)
	}
	if len(t) > 0 {
		return t, nil
	}
	if img, err := policy.ParseImage(strings.TrimPrefix(opts.Ref, image.SourceRegistry+":")); err == nil {
		if signers := pol.RequiredSigners(img); len(signers) > 0 {
			return l.FromPolicy(signers)
		}
	}
	return nil, sign.ErrNoSigners
}

func runVerify(ctx context.Context, opts *VerifyOptions) error {
	format, err := opts.checkFormat([]string{"table", "json"})
	if err != nil {
		return err
	}
	if opts.Offline {
		return fail("%s: --offline forbids reading signatures from the registry", opts.Ref)
	}
	l, err := signLoader(opts.CacheDir, opts.Offline)
	if err != nil {
		return err
	}
	trust, err := opts.trust(l, opts.cfg.Policy())
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	res, err := sign.Verify(ctx, opts.Ref, sign.Options{Remote: sign.Remote{Insecure: opts.InsecureRegistry}, Trust: trust, Attestations: opts.Attestations})
	if err != nil {
		return fail("%v", err)
	}
	if format == "json" {
		err = opts.writeJSON(verifyDocument{SchemaVersion: 1, Tool: finding.Tool{Name: "dockvet", Version: Version}, Result: res, Verified: res.Verified()})
	} else {
		err = opts.write(renderVerify(res))
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
