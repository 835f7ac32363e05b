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

var _ = register(newPluginMetadataCmd)

// newPluginMetadataCmd answers the Docker CLI's plugin discovery.
func newPluginMetadataCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:         "docker-cli-plugin-metadata",
		Hidden:      true,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{"noConfig": "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(g.streams.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]string{
				"SchemaVersion":    "0.1.0",
				"Vendor":           "dockvet",
				"Version":          Version,
				"ShortDescription": "Audit Dockerfiles, images, Compose files and hosts for security",
				"URL":              "https://github.com/dockvet/dockvet",
			})
		},
	}
}
