// Package sbom writes a package inventory as a software bill of materials:
// CycloneDX 1.6 JSON (github.com/CycloneDX/cyclonedx-go) and SPDX 2.3 JSON
// (github.com/spdx/tools-golang). Both carry every package's purl, its
// licenses, the file it was read from and the image layer that introduced
// it.
package sbom

import (
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/github/go-spdx/v2/spdxexp"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/dockvet/dockvet/internal/inventory"
)

// Subject is what an SBOM describes.
type Subject struct {
	// Name is the image reference or directory.
	Name string
	// Image marks a container image (else a directory tree).
	Image bool
	// Digest is the image's digest, when known.
	Digest string
}

// Document is one SBOM's content.
type Document struct {
	Subject   Subject
	Inventory *inventory.Result
	// Tool and ToolVersion name the generator.
	Tool, ToolVersion string
	// Created is the document's timestamp.
	Created time.Time
}

// Property names dockvet adds to CycloneDX components (and, as
// annotations, to SPDX packages).
const (
	PropLayerIndex  = "dockvet:layerIndex"
	PropLayerDigest = "dockvet:layerDigest"
	PropEcosystem   = "dockvet:ecosystem"
	PropSource      = "dockvet:sourcePackage"
	PropPath        = "dockvet:path"
)

// newUUID is a random (version 4) UUID: every BOM gets its own serial
// number, as CycloneDX asks, even for unchanged content.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// properties are a package's dockvet facts as name/value pairs.
func properties(p *inventory.Package) [][2]string {
	var out [][2]string
	if p.Ecosystem != "" {
		out = append(out, [2]string{PropEcosystem, p.Ecosystem})
	}
	if p.LayerIndex >= 0 {
		out = append(out, [2]string{PropLayerIndex, strconv.Itoa(p.LayerIndex)})
	}
	if p.LayerDigest != "" {
		out = append(out, [2]string{PropLayerDigest, p.LayerDigest})
	}
	if p.SourceName != "" || p.SourceVersion != "" {
		n, v := p.Source()
		out = append(out, [2]string{PropSource, n + " " + v})
	}
	out = append(out, [2]string{PropPath, p.Path})
	return out
}

// license is one license string classified for the SBOM formats.
type license struct {
	raw        string
	id         string // a license-list identifier
	expression string // a compound SPDX expression
}

// classify reads a license string as an SPDX identifier, an SPDX
// expression, or free text ("Apache Software License", "PSF or ZPL").
func classify(s string) license {
	s = strings.TrimSpace(s)
	l := license{raw: s}
	if ok, id := spdxexp.ActiveLicense(s); ok {
		l.id = id
		return l
	}
	if strings.ContainsAny(s, " ()") {
		if norm, bad := spdxexp.ValidateAndNormalizeLicensesWithOptions([]string{s}, spdxexp.ValidateLicensesOptions{}); len(bad) == 0 && len(norm) == 1 {
			l.expression = norm[0]
		}
	}
	return l
}

// CycloneDX writes doc as CycloneDX 1.6 JSON.
func CycloneDX(w io.Writer, doc *Document) error {
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + newUUID()
	root := &cdx.Component{BOMRef: "subject", Type: cdx.ComponentTypeApplication, Name: doc.Subject.Name}
	if doc.Subject.Image {
		root.Type = cdx.ComponentTypeContainer
		if d, ok := strings.CutPrefix(doc.Subject.Digest, "sha256:"); ok {
			root.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: d}}
		}
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: doc.Created.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: doc.Tool, Version: doc.ToolVersion},
		}},
		Component: root,
	}
	var comps []cdx.Component
	var deps []string
	if o := doc.Inventory.OS; o != nil {
		c := cdx.Component{BOMRef: "os", Type: cdx.ComponentTypeOS, Name: o.ID, Version: o.VersionID, Description: o.PrettyName}
		props := []cdx.Property{{Name: PropPath, Value: o.Path}}
		if o.Distroless {
			props = append(props, cdx.Property{Name: "dockvet:distroless", Value: "true"})
		}
		c.Properties = &props
		comps = append(comps, c)
		deps = append(deps, c.BOMRef)
	}
	refs := map[string]int{}
	for i := range doc.Inventory.Packages {
		p := &doc.Inventory.Packages[i]
		c := cdx.Component{
			BOMRef:     bomRef(p, refs),
			Type:       cdx.ComponentTypeLibrary,
			Name:       p.Name,
			Version:    p.Version,
			PackageURL: p.PURL,
		}
		if ls := cdxLicenses(p.Licenses); ls != nil {
			c.Licenses = ls
		}
		var props []cdx.Property
		for _, kv := range properties(p) {
			props = append(props, cdx.Property{Name: kv[0], Value: kv[1]})
		}
		c.Properties = &props
		c.Evidence = &cdx.Evidence{Occurrences: &[]cdx.EvidenceOccurrence{{Location: p.Path}}}
		comps = append(comps, c)
		deps = append(deps, c.BOMRef)
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: root.BOMRef, Dependencies: &deps}}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

// bomRef is a component's reference: its purl, made unique when the same
// package is found in several files.
func bomRef(p *inventory.Package, seen map[string]int) string {
	ref := p.PURL
	seen[ref]++
	if n := seen[ref]; n > 1 {
		ref += "#" + strconv.Itoa(n)
	}
	return ref
}

// cdxLicenses lists licenses as CycloneDX wants them: one expression when
// they are all SPDX identifiers or expressions and one of them is
// compound (several licences of one package all apply: AND), otherwise
// one entry per license, by SPDX identifier when it is one and by name
// when not.
func cdxLicenses(ls []string) *cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	var terms []string
	compound := false
	for _, s := range ls {
		l := classify(s)
		switch {
		case l.expression != "":
			compound = true
			terms = append(terms, "("+l.expression+")")
		case l.id != "":
			terms = append(terms, l.id)
		}
	}
	if compound && len(terms) == len(ls) {
		expr := strings.Join(terms, " AND ")
		if len(terms) == 1 {
			expr = strings.TrimSuffix(strings.TrimPrefix(expr, "("), ")")
		}
		return &cdx.Licenses{{Expression: expr}}
	}
	var out cdx.Licenses
	for _, s := range ls {
		l := classify(s)
		if l.id != "" {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: l.id}})
		} else if l.raw != "" {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l.raw}})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

// SPDX writes doc as SPDX 2.3 JSON.
func SPDX(w io.Writer, doc *Document) error {
	created := doc.Created.UTC().Format("2006-01-02T15:04:05Z")
	name := doc.Subject.Name
	sd := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: "https://spdx.org/spdxdocs/dockvet/" + spdxIDPart(name) + "-" + newUUID(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: doc.Tool + "-" + doc.ToolVersion}},
			Created:  created,
		},
	}
	rootID := common.ElementID("Subject")
	root := &spdx.Package{
		PackageName:               name,
		PackageSPDXIdentifier:     rootID,
		PackageDownloadLocation:   "NOASSERTION",
		FilesAnalyzed:             false,
		IsFilesAnalyzedTagPresent: true,
		PrimaryPackagePurpose:     "APPLICATION",
	}
	if doc.Subject.Image {
		root.PrimaryPackagePurpose = "CONTAINER"
		if d, ok := strings.CutPrefix(doc.Subject.Digest, "sha256:"); ok {
			root.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: d}}
		}
	}
	sd.Packages = append(sd.Packages, root)
	sd.Relationships = append(sd.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(rootID)), Relationship: "DESCRIBES",
	})
	contains := func(id common.ElementID) {
		sd.Relationships = append(sd.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(rootID)), RefB: common.MakeDocElementID("", string(id)), Relationship: "CONTAINS",
		})
	}
	if o := doc.Inventory.OS; o != nil {
		// No primaryPackagePurpose: the SPDX 2.3 JSON schema spells the
		// operating system's OPERATING_SYSTEM, its revision (and the
		// specification's text) OPERATING-SYSTEM, and validators use
		// either; no value passes both. The comment says what it is.
		id := common.ElementID("OperatingSystem")
		sd.Packages = append(sd.Packages, &spdx.Package{
			PackageName: o.ID, PackageVersion: o.VersionID, PackageSPDXIdentifier: id,
			PackageDownloadLocation: "NOASSERTION", IsFilesAnalyzedTagPresent: true,
			PackageSourceInfo: "read from " + o.Path, PackageDescription: o.PrettyName,
			PackageComment: "the operating system distribution",
		})
		contains(id)
	}
	others := map[string]*spdx.OtherLicense{}
	for i := range doc.Inventory.Packages {
		p := &doc.Inventory.Packages[i]
		id := common.ElementID("Package-" + strconv.Itoa(i+1))
		sp := &spdx.Package{
			PackageName:               p.Name,
			PackageSPDXIdentifier:     id,
			PackageVersion:            p.Version,
			PackageDownloadLocation:   "NOASSERTION",
			IsFilesAnalyzedTagPresent: true,
			PackageLicenseConcluded:   "NOASSERTION",
			PackageLicenseDeclared:    spdxLicense(p.Licenses, others),
			PackageCopyrightText:      "NOASSERTION",
			PackageSourceInfo:         "read from " + p.Path,
			PrimaryPackagePurpose:     "LIBRARY",
		}
		if p.PURL != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL}}
		}
		for _, kv := range properties(p) {
			sp.Annotations = append(sp.Annotations, spdx.Annotation{
				Annotator:         common.Annotator{AnnotatorType: "Tool", Annotator: doc.Tool + "-" + doc.ToolVersion},
				AnnotationDate:    created,
				AnnotationType:    "OTHER",
				AnnotationComment: kv[0] + "=" + kv[1],
			})
		}
		sd.Packages = append(sd.Packages, sp)
		contains(id)
	}
	for _, id := range slices.Sorted(maps.Keys(others)) {
		sd.OtherLicenses = append(sd.OtherLicenses, others[id])
	}
	return spdxjson.Write(sd, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
}

// spdxLicense turns license strings into one SPDX expression. Strings
// that are not SPDX identifiers or expressions become LicenseRef-
// identifiers whose text is recorded in the document, as SPDX requires.
func spdxLicense(ls []string, others map[string]*spdx.OtherLicense) string {
	var parts []string
	for _, s := range ls {
		l := classify(s)
		switch {
		case l.id != "":
			parts = append(parts, l.id)
		case l.expression != "":
			parts = append(parts, "("+l.expression+")")
		case l.raw != "":
			ref := "LicenseRef-" + spdxIDPart(l.raw)
			// Two texts may make the same identifier ("GPL-2.0" and
			// "GPL-2.0+"); each keeps one of its own.
			for n := 2; others[ref] != nil && others[ref].ExtractedText != l.raw; n++ {
				ref = "LicenseRef-" + spdxIDPart(l.raw) + "-" + strconv.Itoa(n)
			}
			if _, ok := others[ref]; !ok {
				others[ref] = &spdx.OtherLicense{LicenseIdentifier: ref, LicenseName: l.raw, ExtractedText: l.raw}
			}
			parts = append(parts, ref)
		}
	}
	switch len(parts) {
	case 0:
		return "NOASSERTION"
	case 1:
		return strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")")
	}
	return strings.Join(parts, " AND ")
}

var nonIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxIDPart makes s usable in SPDX identifiers: letters, digits, "." and
// "-" only.
func spdxIDPart(s string) string {
	s = strings.Trim(nonIDChars.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "unnamed"
	}
	return s
}
