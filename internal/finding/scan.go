package finding

import (
	"slices"
	"strings"
	"time"
)

// ScanInfo says how a report was made: when, against which Docker Engine,
// and with which vulnerability data. It is what lets a reader tell a clean
// report from one that checked less than it seems to.
type ScanInfo struct {
	// Time is when the audit ran (a timing field: the only part of a
	// report that differs between two runs over the same input).
	Time time.Time `json:"time"`
	// Engine is the Docker Engine the run talked to, when it talked to one.
	Engine *EngineInfo `json:"engine,omitempty"`
	// VulnerabilityDatabase is the vulnerability data the run matched
	// against; absent when no vulnerability check applied (a Dockerfile,
	// or the practice disabled).
	VulnerabilityDatabase *DatabaseInfo `json:"vulnerabilityDatabase,omitempty"`
}

// EngineInfo names a Docker Engine the way the Docker CLI resolved it.
type EngineInfo struct {
	// Host is the Engine's address (unix:///var/run/docker.sock,
	// tcp://…, ssh://…).
	Host string `json:"host"`
	// Context is the Docker context the address came from ("default"
	// for --host, DOCKER_HOST or the built-in socket).
	Context string `json:"context"`
	// From says what chose it: --host, DOCKER_HOST, --context,
	// DOCKER_CONTEXT, the current context of the Docker configuration,
	// or the default.
	From string `json:"from"`
	// TLS is set when the connection uses TLS (verify: with the server's
	// certificate checked).
	TLS string `json:"tls,omitempty"`
}

// Database states.
const (
	// DatabaseComplete: the database has data for every ecosystem of the
	// audited packages.
	DatabaseComplete = "complete"
	// DatabasePartial: some ecosystems of the audited packages have no
	// data; those packages were not checked.
	DatabasePartial = "partial"
	// DatabaseMissing: there is no database; no package was checked.
	DatabaseMissing = "missing"
)

// DatabaseInfo is the vulnerability database a report was matched against.
type DatabaseInfo struct {
	// Status is complete, partial or missing (the constants above).
	Status string `json:"status"`
	// Ecosystems are what the database holds.
	Ecosystems []EcosystemInfo `json:"ecosystems"`
	// Needed are the ecosystems of the audited packages; Missing those of
	// them the database has no data for.
	Needed  []string `json:"needed,omitempty"`
	Missing []string `json:"missing,omitempty"`
	// Stale is set when the least fresh ecosystem was last updated longer
	// ago than the run's limit (--db-max-age); MaxAge is that limit.
	Stale  bool   `json:"stale,omitempty"`
	MaxAge string `json:"maxAge,omitempty"`
	// DefaultSeverity is the severity given to an advisory that rates
	// nothing, neither itself nor through an alias the database holds.
	DefaultSeverity Severity `json:"defaultSeverity"`
	// Notices are the sentences the run printed about missing data, so a
	// report read later says what a quiet run did not.
	Notices []string `json:"notices,omitempty"`
}

// EcosystemInfo is one ecosystem of a vulnerability database.
type EcosystemInfo struct {
	Name    string    `json:"name"`
	Records int       `json:"records"`
	Updated time.Time `json:"updated"`
}

// MissingData reports whether the report's vulnerability check covered less
// than the audited packages: no database, or none for some ecosystems.
func (r *Report) MissingData() bool {
	if r.Scan == nil || r.Scan.VulnerabilityDatabase == nil {
		return false
	}
	s := r.Scan.VulnerabilityDatabase.Status
	return s == DatabaseMissing || s == DatabasePartial
}

// ImageInfo identifies an audited image: where it was read from and what
// it is, so that a report can be tied to one exact image.
type ImageInfo struct {
	// Target is the target the image's findings name (the reference as
	// given on the command line or in the request).
	Target string `json:"target"`
	// Source is where the image was read: docker-archive, oci-archive,
	// oci, docker (the Engine) or registry.
	Source string `json:"source"`
	// Location is the file, Engine address or registry the source was.
	Location string `json:"location,omitempty"`
	// SourceNote says why the source is not the first one tried (a bare
	// name the Engine could not give).
	SourceNote string `json:"sourceNote,omitempty"`
	// Name is the repository reference the image is known by, when there
	// is one.
	Name string `json:"name,omitempty"`
	// ID is the image ID: the digest of its configuration.
	ID string `json:"id"`
	// ManifestDigest is the digest of the manifest read (for an index,
	// the chosen platform's manifest), when the source has one.
	ManifestDigest string `json:"manifestDigest,omitempty"`
	// RepoDigests are name@digest references a registry serves the image
	// under, as the Engine records them or as the registry answered.
	RepoDigests []string `json:"repoDigests,omitempty"`
	// Platform is os/architecture[/variant] from the configuration.
	Platform string `json:"platform,omitempty"`
	// OS is the distribution the image is built on, from its release
	// files, when it says.
	OS *OSInfo `json:"os,omitempty"`
	// Created is the configuration's creation time, when set.
	Created *time.Time `json:"created,omitempty"`
	// Layers is the number of filesystem layers; Size the bytes of their
	// file content, uncompressed.
	Layers int   `json:"layers"`
	Size   int64 `json:"size"`
	// Repository and Revision are the source the image says it was built
	// from (its org.opencontainers.image.source and .revision labels).
	Repository string `json:"repository,omitempty"`
	Revision   string `json:"revision,omitempty"`
}

// OSInfo is a distribution release.
type OSInfo struct {
	ID         string `json:"id"`
	VersionID  string `json:"versionId,omitempty"`
	PrettyName string `json:"prettyName,omitempty"`
}

// String is "debian 12", as people and the table read it.
func (o *OSInfo) String() string {
	if o == nil {
		return ""
	}
	if o.PrettyName != "" {
		return o.PrettyName
	}
	return strings.TrimSpace(o.ID + " " + o.VersionID)
}

// finalizeScan orders what the scan information lists.
func (r *Report) finalizeScan() {
	slices.SortStableFunc(r.Images, func(a, b ImageInfo) int { return strings.Compare(a.Target, b.Target) })
	if r.Scan == nil || r.Scan.VulnerabilityDatabase == nil {
		return
	}
	d := r.Scan.VulnerabilityDatabase
	slices.SortFunc(d.Ecosystems, func(a, b EcosystemInfo) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(d.Needed)
	d.Needed = slices.Compact(d.Needed)
	slices.Sort(d.Missing)
	d.Missing = slices.Compact(d.Missing)
	if d.Ecosystems == nil {
		d.Ecosystems = []EcosystemInfo{}
	}
}
