package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Streamed archives keep their small files in memory until the end; this
// caps them all together.
const maxStreamMetadata = 64 << 20

// streamStore is what a streamed archive left: its small files, and the
// layers already walked, by member name.
type streamStore struct {
	meta   memStore
	layers map[string]*Layer
}

func (s streamStore) open(name string) (io.ReadCloser, int64, error) { return s.meta.open(name) }
func (s streamStore) has(name string) bool {
	_, ok := s.layers[cleanRel(name)]
	return ok || s.meta.has(name)
}

// readStream reads a docker save (or OCI) archive in one pass, in whatever
// order its members come. Small members (manifests, configs, indexes) are
// kept; every other member is walked as a layer at once, and placed in the
// image by the archive's manifest when the stream ends.
func (w *walker) readStream(r io.Reader) error {
	tr := tar.NewReader(r)
	st := streamStore{meta: memStore{}, layers: map[string]*Layer{}}
	links := map[string]string{}
	var metaBytes int64
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("truncated archive")
			}
			return fmt.Errorf("not a valid tar archive (%v)", err)
		}
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			links[cleanRel(hdr.Name)] = linkTarget(hdr)
			continue
		}
		if hdr.Typeflag != tar.TypeReg { // the reader turns the legacy TypeRegA into TypeReg
			continue
		}
		name := cleanRel(hdr.Name)
		if metadataName(name) {
			if hdr.Size > maxMetadata {
				return fmt.Errorf("%s is %s, too large for image metadata", name, humanBytes(hdr.Size))
			}
			if metaBytes += hdr.Size; metaBytes > maxStreamMetadata {
				return fmt.Errorf("the archive's metadata exceeds %s", humanBytes(maxStreamMetadata))
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return layerErr(name, err)
			}
			st.meta[name] = data
			continue
		}
		var body io.Reader = tr
		if _, ok := isDigestName(name); (ok || !strings.Contains(path.Base(name), ".")) && hdr.Size <= maxMetadata {
			// A small blob may be a manifest or config (JSON) or a small
			// layer; so may a member named without an extension
			// ("sha256:<hex>", go-containerregistry's config).
			data, err := io.ReadAll(tr)
			if err != nil {
				return layerErr(name, err)
			}
			if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && json.Valid(data) {
				if metaBytes += hdr.Size; metaBytes > maxStreamMetadata {
					return fmt.Errorf("the archive's metadata exceeds %s", humanBytes(maxStreamMetadata))
				}
				st.meta[name] = data
				continue
			}
			body = bytes.NewReader(data)
		}
		l := &Layer{Index: -1, HistoryIndex: -1}
		label := "layer " + name
		if _, dup := st.layers[name]; dup {
			return fmt.Errorf("the archive holds %s twice", name)
		}
		diffID, _, err := w.readLayer(l, body, label)
		if err != nil {
			return err
		}
		w.walkedDiff[l] = diffID
		st.layers[name] = l
	}
	for name, target := range links {
		if l, ok := st.layers[target]; ok && st.layers[name] == nil {
			st.layers[name] = l
		}
		if b, ok := st.meta[target]; ok && !st.meta.has(name) {
			st.meta[name] = b
		}
	}
	var res *resolved
	var err error
	switch {
	case st.meta.has("manifest.json"):
		res, err = resolveDocker(st)
		w.img.Source = cmp.Or(w.img.Source, SourceDockerArchive)
	case st.meta.has("index.json"):
		res, err = resolveOCI(st, w.img.want, w.img.explicit)
		w.img.Source = cmp.Or(w.img.Source, SourceOCIArchive)
	default:
		err = errors.New("the archive has neither manifest.json nor index.json")
	}
	if err != nil {
		return err
	}
	layers := make([]*Layer, len(res.layers))
	used := map[*Layer]bool{}
	for i, ref := range res.layers {
		l := st.layers[cleanRel(ref.name)]
		if l == nil {
			return fmt.Errorf("the manifest names layer %s, which the archive does not contain", ref.name)
		}
		if used[l] {
			l = w.cloneLayer(l)
		}
		used[l] = true
		layers[i] = l
	}
	// The walk hashed each layer; the config is what they must match.
	walked := make([]*Layer, len(layers))
	copy(walked, layers)
	if err := res.build(w.img, layers); err != nil {
		return err
	}
	for i, l := range walked {
		if h := w.walkedDiff[l]; h != l.DiffID {
			return fmt.Errorf("layer %d: content does not match its digest: the config says %s, the layer holds %s", i, short(l.DiffID), short(h))
		}
	}
	return nil
}

// metadataName recognises the small members of docker save and OCI
// archives by name.
func metadataName(name string) bool {
	switch name {
	case "manifest.json", "index.json", "oci-layout", "repositories":
		return true
	}
	base := path.Base(name)
	return base == "json" || base == "VERSION" || path.Ext(base) == ".json"
}

// cloneLayer copies a walked layer for a second position in the image (an
// OCI archive stores a blob once however often the image uses it). The
// copy's files were not visited by analyzers; the original's were.
func (w *walker) cloneLayer(src *Layer) *Layer {
	l := *src
	files := w.records[src]
	out := make([]*File, len(files))
	for i, f := range files {
		c := w.view.newFile()
		*c = *f
		c.Layer = &l
		out[i] = c
		if r, ok := w.view.rawNames[f]; ok {
			w.view.rawNames[c] = r
		}
	}
	w.records[&l] = out
	w.walkedDiff[&l] = w.walkedDiff[src]
	return &l
}
