// Package live audits containers that exist on a Docker Engine. It turns a
// container's inspect data into the container spec that Compose files and
// `docker run` lines also become, so the one set of container rules
// (internal/container) judges all three, and adds the checks that need the
// Engine itself: the image a container runs (its USER and HEALTHCHECK) and
// whether its tag still names that image.
//
// Fetching and judging are apart: Fetch, Complete and Running ask the Engine
// once and return plain data (Container); Spec and Audit never touch the
// Engine. `dockvet container` fetches by name, `dockvet watch` fetches one
// container per event, and the host audit keeps Containers in its snapshot
// and audits them without asking again.
package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// Client is the part of the Engine API the live audit reads. The client
// internal/engine.Connect returns satisfies it.
type Client interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ImageInspect(ctx context.Context, id string, options ...client.ImageInspectOption) (client.ImageInspectResult, error)
	VolumeInspect(ctx context.Context, id string, options client.VolumeInspectOptions) (client.VolumeInspectResult, error)
}

var _ Client = (*client.Client)(nil)

// Container is what the Engine says about one container: everything the
// live audit judges, fetched once. It is plain data (JSON as the Engine
// writes it), so a snapshot of a host can hold it and tests can build it.
type Container struct {
	// Inspect is the container's inspect data (GET /containers/ID/json).
	Inspect containertypes.InspectResponse `json:"inspect"`
	// Image is the inspect data of the image the container runs
	// (Inspect.Image, by ID); nil when it was not fetched or no longer
	// exists. The image rules need it.
	Image *image.InspectResponse `json:"image,omitempty"`
	// Tagged is the image the container's image reference (Config.Image)
	// names now; nil when the reference is an ID or a digest, or names no
	// local image any more. When it is not Image, the container runs an
	// image its tag has moved away from.
	Tagged *image.InspectResponse `json:"tagged,omitempty"`
	// Volumes are the named volumes the container mounts, by name: a local
	// volume created with `o=bind,device=PATH` exposes PATH on the host,
	// which only the volume's own inspect data says.
	Volumes map[string]volume.Volume `json:"volumes,omitempty"`
}

// Name is the container's name without the Engine's leading slash, or its
// short ID when it has none.
func (c *Container) Name() string {
	if n := strings.TrimPrefix(c.Inspect.Name, "/"); n != "" {
		return n
	}
	return c.ShortID()
}

// ShortID is the 12-character ID the Docker CLI shows.
func (c *Container) ShortID() string {
	id := strings.TrimPrefix(c.Inspect.ID, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// NotFoundError says the Engine has no container by that name or ID.
type NotFoundError struct {
	Ref string
}

func (e *NotFoundError) Error() string { return "no such container: " + e.Ref }

// NotFound marks the error for containerd's errdefs.IsNotFound.
func (e *NotFoundError) NotFound() {}

// IsNotFound reports whether err says a container does not exist.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// Fetch asks the Engine about one container, by name, ID or ID prefix, and
// about its image and volumes. A container that does not exist is a
// *NotFoundError.
func Fetch(ctx context.Context, c Client, ref string) (*Container, error) {
	return newFetcher(c).fetch(ctx, ref)
}

// Complete adds to inspect data already fetched (a host snapshot, an
// event) what the audit also needs from the Engine: the image and the
// volumes. A removed image or volume is not an error; it is left out.
func Complete(ctx context.Context, c Client, in containertypes.InspectResponse) (*Container, error) {
	return newFetcher(c).complete(ctx, in)
}

// Running fetches every container `docker ps` lists (running, paused or
// restarting), sorted by name. A container that goes away while it is
// being fetched is left out.
func Running(ctx context.Context, c Client) ([]*Container, error) {
	list, err := c.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	f := newFetcher(c)
	var out []*Container
	for _, s := range list.Items {
		ct, err := f.fetch(ctx, s.ID)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if st := ct.Inspect.State; st != nil && !st.Running {
			continue // it stopped between the list and the inspect
		}
		out = append(out, ct)
	}
	slices.SortFunc(out, func(a, b *Container) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// fetcher asks for each image and volume once, however many containers
// share it.
type fetcher struct {
	c       Client
	images  map[string]*image.InspectResponse
	volumes map[string]*volume.Volume
}

func newFetcher(c Client) *fetcher {
	return &fetcher{c: c, images: map[string]*image.InspectResponse{}, volumes: map[string]*volume.Volume{}}
}

func (f *fetcher) fetch(ctx context.Context, ref string) (*Container, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, &NotFoundError{Ref: ref}
	}
	res, err := f.c.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, &NotFoundError{Ref: ref}
		}
		return nil, fmt.Errorf("inspecting container %s: %w", ref, err)
	}
	return f.complete(ctx, res.Container)
}

func (f *fetcher) complete(ctx context.Context, in containertypes.InspectResponse) (*Container, error) {
	ct := &Container{Inspect: in}
	var err error
	if in.Image != "" {
		if ct.Image, err = f.image(ctx, in.Image); err != nil {
			return nil, err
		}
	}
	if in.Config != nil {
		if ref, ok := tagReference(in.Config.Image, in.Image); ok {
			if ct.Tagged, err = f.image(ctx, ref); err != nil {
				return nil, err
			}
		}
	}
	for _, mp := range in.Mounts {
		if mp.Name == "" || mp.Type != "" && mp.Type != "volume" {
			continue
		}
		v, err := f.volume(ctx, mp.Name)
		if err != nil {
			return nil, err
		}
		if v != nil {
			if ct.Volumes == nil {
				ct.Volumes = map[string]volume.Volume{}
			}
			ct.Volumes[mp.Name] = *v
		}
	}
	return ct, nil
}

// image inspects an image; nil when the Engine has none by that reference.
func (f *fetcher) image(ctx context.Context, ref string) (*image.InspectResponse, error) {
	if img, ok := f.images[ref]; ok {
		return img, nil
	}
	res, err := f.c.ImageInspect(ctx, ref)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	var img *image.InspectResponse
	if err == nil {
		img = &res.InspectResponse
	}
	f.images[ref] = img
	return img, nil
}

// volume inspects a volume; nil when it no longer exists.
func (f *fetcher) volume(ctx context.Context, name string) (*volume.Volume, error) {
	if v, ok := f.volumes[name]; ok {
		return v, nil
	}
	res, err := f.c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("inspecting volume %s: %w", name, err)
	}
	var v *volume.Volume
	if err == nil {
		v = &res.Volume
	}
	f.volumes[name] = v
	return v, nil
}

// tagReference is the container's image reference when it is a tag that
// can move ("nginx", "nginx:1.27"), not an image ID or a digest.
func tagReference(ref, imageID string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "sha256:") {
		return "", false
	}
	if isHex(ref) && strings.HasPrefix(strings.TrimPrefix(imageID, "sha256:"), ref) {
		return "", false // an ID prefix
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	if _, ok := named.(reference.Digested); ok {
		return "", false
	}
	return ref, true
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return s != ""
}
