package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

// As a Docker CLI plugin, dockvet is installed as
// ~/.docker/cli-plugins/docker-vet and run as `docker vet …`.
const (
	pluginBinary = "docker-vet"
	pluginName   = "vet"
)

// PluginMetadataOptions are those of the Docker CLI's plugin discovery
// command.
type PluginMetadataOptions struct {
	*Shared
}

// NewCmdPluginMetadata answers the Docker CLI's plugin discovery.
func NewCmdPluginMetadata(f *Factory, runF func(*PluginMetadataOptions) error) *cobra.Command {
	opts := &PluginMetadataOptions{Shared: f.Shared}
	return &cobra.Command{
		Use:         "docker-cli-plugin-metadata",
		Hidden:      true,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfig: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runPluginMetadata(opts)
		},
	}
}

func runPluginMetadata(opts *PluginMetadataOptions) error {
	enc := json.NewEncoder(opts.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]string{
		"SchemaVersion":    "0.1.0",
		"Vendor":           "dockvet",
		"Version":          Version,
		"ShortDescription": "Audit Dockerfiles, images, Compose files and hosts for security",
		"URL":              "https://github.com/dockvet/dockvet",
	})
}
