package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/sbom"
)

// sbomFormats are the formats `dockvet sbom` writes; table lists the
// packages for a person. cyclonedx-json and spdx-json are the names Trivy
// and Syft give the same formats.
var sbomFormats = []string{"table", "cyclonedx", "spdx", "cyclonedx-json", "spdx-json"}

// SBOMOptions are those of `dockvet sbom`.
type SBOMOptions struct {
	*Shared
	// Ref is an image in any form `dockvet image` takes, or a directory
	// tree read as a root filesystem.
	Ref string
}

// NewCmdSBOM lists the packages of an image or a directory tree.
func NewCmdSBOM(f *Factory, runF func(*SBOMOptions) error) *cobra.Command {
	opts := &SBOMOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "List the packages of an image or a directory tree as an SBOM (CycloneDX or SPDX)",
		Long: "List every OS and language package found in REF, with its purl, licenses, the file it was read from and, for an\n" +
			"image, the layer that introduced it. REF is an image in any form 'dockvet image' takes (docker-archive:FILE.tar,\n" +
			"oci-archive:FILE.tar, oci:DIR, docker:NAME, registry:NAME, a .tar path, a bare NAME[:TAG][@DIGEST]) or a directory\n" +
			"tree read as a root filesystem (a directory with an index.json is an OCI layout).\n" +
			"--format cyclonedx (or cyclonedx-json) writes CycloneDX 1.6 JSON, --format spdx (or spdx-json) SPDX 2.3 JSON; table (the\n" +
			"default) lists the packages. Licences come from the package metadata: Debian's /usr/share/doc/*/copyright files, apk's\n" +
			"L: fields, rpm headers, and language manifests (package.json, METADATA, gemspecs, composer.json, pom.xml).\n" +
			"Files that cannot be read are reported on standard error; the rest of the inventory is still written.",
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{noConfig: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runSBOM(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Source, "source", "", "where to read a REF without a source prefix: "+strings.Join(image.Sources, ", ")+" (default: a file or directory by its path, a name from the Engine, then the registry)")
	fl.BoolVar(&opts.AnyPlatform, "any-platform", false, "read an image whose platform is not --platform instead of refusing it")
	opts.bindEngine(fl)
	return cmd
}

func runSBOM(ctx context.Context, opts *SBOMOptions) error {
	format, err := opts.checkFormat(sbomFormats)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	subject, inv, err := inventoryOf(ctx, opts.Shared, opts.Ref)
	if err != nil {
		return err
	}
	for _, e := range inv.Errors {
		opts.notice("%s: %s: %s: skipped: %s", opts.Ref, e.Path, e.Extractor, e.Err)
	}
	doc := &sbom.Document{Subject: subject, Inventory: inv, Tool: "dockvet", ToolVersion: Version, Created: opts.Now()}
	var buf bytes.Buffer
	switch format {
	case "cyclonedx", "cyclonedx-json":
		err = sbom.CycloneDX(&buf, doc)
	case "spdx", "spdx-json":
		err = sbom.SPDX(&buf, doc)
	default:
		writeInventoryTable(&buf, doc)
	}
	if err != nil {
		return fail("writing the %s SBOM: %v", format, err)
	}
	return opts.write(buf.Bytes())
}

// inventoryOf takes the inventory of ref: a directory tree is read as a
// root filesystem, anything else is an image (one walk, the package
// analyzer alone).
func inventoryOf(ctx context.Context, opts *Shared, ref string) (sbom.Subject, *inventory.Result, error) {
	if isTreeDir(ref) {
		inv, err := inventory.ScanDir(ctx, ref)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return sbom.Subject{}, nil, fail("%s: interrupted", ref)
			}
			return sbom.Subject{}, nil, fail("%s: %v", ref, unwrap(err))
		}
		return sbom.Subject{Name: ref}, inv, nil
	}
	open, err := opts.imageOpenOptions()
	if err != nil {
		return sbom.Subject{}, nil, err
	}
	limitImageMemory()
	img, err := image.Open(ctx, ref, open)
	if err != nil {
		return sbom.Subject{}, nil, fail("%v", err)
	}
	defer img.Close()
	if img.SourceNote != "" {
		opts.alert("%s", img.SourceNote)
	}
	pkgs := image.NewPackages(ctx)
	view, err := image.Walk(ctx, img, image.DefaultOptions(), pkgs)
	if err != nil {
		return sbom.Subject{}, nil, fail("%s: %v", ref, err)
	}
	if err := image.CheckPlatform(img, open); err != nil {
		return sbom.Subject{}, nil, fail("%s: %v", ref, err)
	}
	for _, s := range view.Skipped {
		if s.Analyzer == pkgs.Name() {
			opts.notice("%s: %s (layer %d): not inventoried: %s", ref, s.File.Path(), s.File.Layer.Index, s.Reason)
		}
	}
	subject := sbom.Subject{Name: ref, Image: true}
	switch {
	case img.Digest.Hex != "":
		subject.Digest = img.Digest.String()
	case img.ConfigDigest.Hex != "":
		subject.Digest = img.ConfigDigest.String()
	}
	return subject, pkgs.Result(), nil
}

// isTreeDir reports whether ref names a directory to read as a root
// filesystem: an existing directory, without a source prefix, that is not
// an OCI layout.
func isTreeDir(ref string) bool {
	fi, err := os.Stat(ref)
	if err != nil || !fi.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(ref, "index.json"))
	return err != nil
}

func writeInventoryTable(w io.Writer, doc *sbom.Document) {
	inv := doc.Inventory
	if o := inv.OS; o != nil {
		name := o.PrettyName
		if name == "" {
			name = o.ID + " " + o.VersionID
		}
		fmt.Fprintf(w, "%s: %s", doc.Subject.Name, name)
		if eco := o.Ecosystem(); eco != "" {
			fmt.Fprintf(w, " (%s)", eco)
		}
		fmt.Fprintln(w)
	}
	layers := false
	for _, p := range inv.Packages {
		layers = layers || p.LayerIndex >= 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "TYPE\tNAME\tVERSION\tECOSYSTEM\tPATH"
	if layers {
		header += "\tLAYER"
	}
	fmt.Fprintln(tw, header)
	for _, p := range inv.Packages {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", p.Type, p.Name, p.Version, dash(p.Ecosystem), p.Path)
		if layers {
			l := "-"
			if p.LayerIndex >= 0 {
				l = strconv.Itoa(p.LayerIndex)
			}
			line += "\t" + l
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d packages\n", len(inv.Packages))
}
