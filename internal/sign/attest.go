package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Predicate types dockvet reads.
const (
	predicateSLSA02    = "https://slsa.dev/provenance/v0.2"
	predicateSLSA1     = "https://slsa.dev/provenance/v1"
	predicateSPDX      = "https://spdx.dev/Document"
	predicateCycloneDX = "https://cyclonedx.org/bom"
)

// attest verifies one attestation with the same signers as signatures,
// and reads its predicate once it is known to be genuine and about this
// image.
func attest(ctx context.Context, t *target, c *candidate, trust Trust) Attestation {
	a := Attestation{Format: c.format, Source: c.source}
	if st := c.statement(); st != nil {
		a.PredicateType = st.PredicateType
	}
	v, err := check(ctx, t, c, trust)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Digest, a.Signer, a.SignedAt = v.digest, v.signer, v.signedAt
	if v.digest != t.digest.String() {
		a.Error = fmt.Sprintf("it is about %s, not about this image (%s)", v.digest, t.digest)
		return a
	}
	if v.statement != nil {
		readPredicate(v.statement.PredicateType, v.statement.Predicate, &a)
	}
	return a
}

// statement is the in-toto statement a candidate carries, if any.
func (c *candidate) statement() *statement {
	switch {
	case c.legacy != nil:
		return c.legacy.statement
	case c.bundle != nil:
		return c.bundle.statement
	}
	return nil
}

// provenance is what dockvet reads of SLSA provenance v0.2 and v1.
type provenance struct {
	// v0.2
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	Invocation struct {
		ConfigSource struct {
			URI        string            `json:"uri"`
			Digest     map[string]string `json:"digest"`
			EntryPoint string            `json:"entryPoint"`
		} `json:"configSource"`
	} `json:"invocation"`
	Materials []resource `json:"materials"`
	// v1
	BuildDefinition struct {
		ExternalParameters struct {
			Workflow struct {
				Repository string `json:"repository"`
				Ref        string `json:"ref"`
				Path       string `json:"path"`
			} `json:"workflow"`
			ConfigSource struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"configSource"`
			Source json.RawMessage `json:"source"`
		} `json:"externalParameters"`
		ResolvedDependencies []resource `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
	} `json:"runDetails"`
}

type resource struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// revision is a resource's commit: gitCommit or sha1 as provenance
// writers name it.
func revision(d map[string]string) string {
	for _, k := range []string{"gitCommit", "sha1", "sha256"} {
		if v := d[k]; v != "" {
			return v
		}
	}
	return ""
}

// readPredicate fills the attestation's builder and source (provenance)
// or summary (SBOM). A predicate that does not parse leaves them empty:
// the attestation is still genuine, its content is just not understood.
func readPredicate(predicateType string, raw json.RawMessage, a *Attestation) {
	switch {
	case predicateType == predicateSLSA02 || predicateType == predicateSLSA1 || strings.HasPrefix(predicateType, "https://slsa.dev/provenance/"):
		var p provenance
		if json.Unmarshal(raw, &p) != nil {
			return
		}
		a.Builder = firstOf(p.RunDetails.Builder.ID, p.Builder.ID)
		ext := p.BuildDefinition.ExternalParameters
		switch {
		case ext.Workflow.Repository != "":
			a.SourceRepository = ext.Workflow.Repository
			a.SourceRevision = ext.Workflow.Ref
		case ext.ConfigSource.URI != "":
			a.SourceRepository, a.SourceRevision = ext.ConfigSource.URI, revision(ext.ConfigSource.Digest)
		case p.Invocation.ConfigSource.URI != "":
			a.SourceRepository, a.SourceRevision = p.Invocation.ConfigSource.URI, revision(p.Invocation.ConfigSource.Digest)
		}
		for _, r := range append(p.BuildDefinition.ResolvedDependencies, p.Materials...) {
			if !strings.HasPrefix(r.URI, "git+") {
				continue
			}
			if a.SourceRepository == "" {
				a.SourceRepository = r.URI
			}
			if rev := revision(r.Digest); rev != "" && (a.SourceRevision == "" || strings.HasPrefix(a.SourceRevision, "refs/")) {
				a.SourceRevision = firstOf(joinRev(a.SourceRevision, rev), rev)
			}
			break
		}
	case predicateType == predicateSPDX || strings.HasPrefix(predicateType, "https://spdx.dev/"):
		var d struct {
			SPDXVersion string            `json:"spdxVersion"`
			Packages    []json.RawMessage `json:"packages"`
		}
		if json.Unmarshal(raw, &d) == nil && d.SPDXVersion != "" {
			a.Summary = fmt.Sprintf("SBOM, %s, %d packages", d.SPDXVersion, len(d.Packages))
		}
	case predicateType == predicateCycloneDX || strings.HasPrefix(predicateType, "https://cyclonedx.org/"):
		var d struct {
			SpecVersion string            `json:"specVersion"`
			Components  []json.RawMessage `json:"components"`
		}
		if json.Unmarshal(raw, &d) == nil && d.SpecVersion != "" {
			a.Summary = fmt.Sprintf("SBOM, CycloneDX %s, %d components", d.SpecVersion, len(d.Components))
		}
	}
}

func joinRev(ref, commit string) string {
	if ref == "" || !strings.HasPrefix(ref, "refs/") {
		return ""
	}
	return ref + " (" + commit + ")"
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
