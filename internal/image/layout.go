package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// resolved is what an archive's or layout's metadata says about the one
// image to audit.
type resolved struct {
	name           string // a repository tag the archive carries
	manifestDigest v1.Hash
	config         []byte
	configDigest   v1.Hash
	layers         []layerRef
}

// layerRef names one layer's blob in a store.
type layerRef struct {
	name      string
	digest    v1.Hash // when the blob is named by its digest
	mediaType types.MediaType
	size      int64 // stored bytes, when the manifest or archive says
}

// dockerManifest is the manifest.json of `docker save` (and of
// go-containerregistry's tarball writer).
type dockerManifest []struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// legacyConfigName matches "<hex>.json", how docker save before 25 names a
// config: by its digest.
var legacyConfigName = regexp.MustCompile(`^([0-9a-f]{64})\.json$`)

// resolveDocker reads a docker save archive's manifest.json.
func resolveDocker(st store) (*resolved, error) {
	data, err := readMeta(st, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m dockerManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest.json is not valid: %v", err)
	}
	switch {
	case len(m) == 0:
		return nil, fmt.Errorf("manifest.json lists no image")
	case len(m) > 1:
		var tags []string
		for _, d := range m {
			tags = append(tags, d.RepoTags...)
		}
		return nil, fmt.Errorf("the archive holds %d images (%s); save one image per archive", len(m), strings.Join(tags, ", "))
	}
	d := m[0]
	res := &resolved{}
	if len(d.RepoTags) > 0 {
		res.name = d.RepoTags[0]
	}
	if d.Config == "" {
		return nil, fmt.Errorf("manifest.json names no config")
	}
	if res.config, err = readMeta(st, d.Config); err != nil {
		return nil, err
	}
	res.configDigest = sha256Of(res.config)
	want, named := isDigestName(d.Config)
	if m := legacyConfigName.FindStringSubmatch(path.Base(cleanRel(d.Config))); m != nil {
		want, named = v1.Hash{Algorithm: "sha256", Hex: m[1]}, true
	}
	if named && want != res.configDigest {
		return nil, fmt.Errorf("config %s does not match its digest (holds %s)", d.Config, short(res.configDigest))
	}
	for _, p := range d.Layers {
		if !st.has(p) {
			return nil, fmt.Errorf("manifest.json names layer %s, which the archive does not contain", p)
		}
		ref := layerRef{name: p}
		if h, ok := isDigestName(p); ok {
			ref.digest = h
		}
		if rc, n, err := st.open(p); err == nil {
			rc.Close()
			ref.size = n
		}
		res.layers = append(res.layers, ref)
	}
	return res, nil
}

// Budgets for walking an OCI layout's indexes. Depth alone does not bound
// the walk: indexes that each list the next one 30 times (40 KB) made
// 30^4 visits, 1.7 GB and 92 s of CPU. Each index is read once however
// often it is listed, and the indexes and manifests reached are counted;
// past a budget the layout is refused with the budget named.
const (
	// maxIndexDepth bounds nested indexes, so a hostile layout cannot loop.
	maxIndexDepth = 4
	// maxIndexes bounds the distinct indexes read: a multi-platform image
	// has one, a layout holding many tagged images a few.
	maxIndexes = 64
	// maxIndexManifests bounds the image manifests the indexes list: a
	// layout of every platform of hundreds of tags stays under it.
	maxIndexManifests = 4096
)

type candidate struct {
	desc     v1.Descriptor
	platform *v1.Platform
}

// resolveOCI reads an OCI layout's index.json and picks the image for the
// platform.
func resolveOCI(st store, want v1.Platform, explicit bool) (*resolved, error) {
	data, err := readMeta(st, "index.json")
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("index.json is not valid: %v", err)
	}
	var cands []candidate
	w := &indexWalk{st: st, seen: map[v1.Hash]bool{}}
	if err := w.collect(idx, 0, &cands); err != nil {
		return nil, err
	}
	desc, err := pickManifest(st, cands, want, explicit)
	if err != nil {
		return nil, err
	}
	mdata, err := readBlob(st, desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(mdata))
	if err != nil {
		return nil, fmt.Errorf("manifest %s is not valid: %v", short(desc.Digest), err)
	}
	res := &resolved{manifestDigest: desc.Digest, configDigest: m.Config.Digest}
	if desc.Annotations != nil {
		res.name = desc.Annotations["org.opencontainers.image.ref.name"]
	}
	if res.config, err = readBlob(st, m.Config.Digest); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	for _, l := range m.Layers {
		name, err := blobName(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
		if !st.has(name) {
			return nil, fmt.Errorf("the manifest names layer %s, which is missing", short(l.Digest))
		}
		res.layers = append(res.layers, layerRef{name: name, digest: l.Digest, mediaType: l.MediaType, size: l.Size})
	}
	return res, nil
}

// indexWalk lists the image manifests an index reaches, visiting each
// digest once.
type indexWalk struct {
	st      store
	seen    map[v1.Hash]bool // indexes and manifests already listed
	indexes int              // distinct indexes read
}

func (w *indexWalk) collect(idx *v1.IndexManifest, depth int, out *[]candidate) error {
	for _, d := range idx.Manifests {
		switch d.MediaType {
		case types.OCIImageIndex, types.DockerManifestList:
			if depth >= maxIndexDepth {
				return fmt.Errorf("indexes nested more than %d deep", maxIndexDepth)
			}
			if w.seen[d.Digest] {
				continue
			}
			w.seen[d.Digest] = true
			if w.indexes++; w.indexes > maxIndexes {
				return fmt.Errorf("the layout's indexes reach more than %d indexes (budget maxIndexes)", maxIndexes)
			}
			data, err := readBlob(w.st, d.Digest)
			if err != nil {
				return fmt.Errorf("index: %w", err)
			}
			child, err := v1.ParseIndexManifest(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("index %s is not valid: %v", short(d.Digest), err)
			}
			if err := w.collect(child, depth+1, out); err != nil {
				return err
			}
		case types.OCIManifestSchema1, types.DockerManifestSchema2, "":
			// A manifest listed again (by another index, or twice in one)
			// is the same image; its first listing keeps its platform.
			if w.seen[d.Digest] {
				continue
			}
			w.seen[d.Digest] = true
			if len(*out) >= maxIndexManifests {
				return fmt.Errorf("the layout's indexes list more than %d image manifests (budget maxIndexManifests)", maxIndexManifests)
			}
			*out = append(*out, candidate{desc: d, platform: d.Platform})
		}
	}
	return nil
}

// pickManifest chooses the image for a platform. Without an explicit
// --platform, a single image is audited whatever its platform.
func pickManifest(st store, cands []candidate, want v1.Platform, explicit bool) (v1.Descriptor, error) {
	// Attestation manifests (buildx) say unknown/unknown: never an image.
	cands = slices.DeleteFunc(cands, func(c candidate) bool {
		return c.platform != nil && c.platform.OS == "unknown"
	})
	if len(cands) == 0 {
		return v1.Descriptor{}, fmt.Errorf("the index lists no image manifest")
	}
	if len(cands) == 1 && !explicit {
		return cands[0].desc, nil
	}
	var seen []string
	for i := range cands {
		c := &cands[i]
		if c.platform == nil {
			c.platform = platformOfConfig(st, c.desc)
		}
		if c.platform == nil {
			continue
		}
		seen = append(seen, c.platform.String())
		if platformMatches(*c.platform, want) {
			return c.desc, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s (the index has: %s); choose one with --platform", want.String(), strings.Join(seen, ", "))
}

// platformMatches compares what an index says with what was asked; an
// unset field asked for matches anything.
func platformMatches(have, want v1.Platform) bool {
	if have.Architecture == "arm64" && have.Variant == "v8" {
		have.Variant = ""
	}
	if want.Architecture == "arm64" && want.Variant == "v8" {
		want.Variant = ""
	}
	return (want.OS == "" || have.OS == want.OS) && (want.Architecture == "" || have.Architecture == want.Architecture) &&
		(want.Variant == "" || have.Variant == want.Variant)
}

// platformOfConfig reads an image's platform from its config when the index
// does not say.
func platformOfConfig(st store, d v1.Descriptor) *v1.Platform {
	mdata, err := readBlob(st, d.Digest)
	if err != nil {
		return nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(mdata))
	if err != nil {
		return nil
	}
	cdata, err := readBlob(st, m.Config.Digest)
	if err != nil {
		return nil
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cdata))
	if err != nil {
		return nil
	}
	return &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
}

// build fills img from what the metadata said. Layer objects are made here
// for random-access sources; a streamed source passes the layers it read.
func (res *resolved) build(img *Image, layers []*Layer) error {
	cf, err := v1.ParseConfigFile(bytes.NewReader(res.config))
	if err != nil {
		return fmt.Errorf("config is not valid: %v", err)
	}
	if cf.RootFS.Type != "" && cf.RootFS.Type != "layers" {
		return fmt.Errorf("config has rootfs type %q, not layers", cf.RootFS.Type)
	}
	if len(cf.RootFS.DiffIDs) != len(res.layers) {
		return fmt.Errorf("the manifest names %d layers but the config lists %d", len(res.layers), len(cf.RootFS.DiffIDs))
	}
	img.Config, img.ConfigDigest, img.Digest = cf, res.configDigest, res.manifestDigest
	if img.Name == "" {
		img.Name = res.name
	}
	if layers == nil {
		layers = make([]*Layer, len(res.layers))
		for i := range layers {
			layers[i] = &Layer{}
		}
	}
	for i, l := range layers {
		l.Index, l.DiffID, l.HistoryIndex = i, cf.RootFS.DiffIDs[i], -1
		l.Digest, l.MediaType, l.blobSize = res.layers[i].digest, res.layers[i].mediaType, res.layers[i].size
	}
	img.Layers = layers
	mapHistory(img)
	return nil
}

// mapHistory gives each layer the history entry that made it, skipping the
// entries of instructions that made no layer (ENV, CMD, …). When the counts
// disagree the history cannot be trusted for attribution and is left out.
func mapHistory(img *Image) {
	hist := img.Config.History
	li := 0
	for hi := range hist {
		if hist[hi].EmptyLayer {
			continue
		}
		if li < len(img.Layers) {
			img.Layers[li].History, img.Layers[li].HistoryIndex = &hist[hi], hi
		}
		li++
	}
	if li != len(img.Layers) {
		for _, l := range img.Layers {
			l.History, l.HistoryIndex = nil, -1
		}
	}
}
