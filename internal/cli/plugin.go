package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli-plugins/socket"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dockvet/dockvet/internal/engine"
)

// As a Docker CLI plugin, dockvet is installed as
// ~/.docker/cli-plugins/docker-vet and run as `docker vet …`.
const (
	pluginBinary = "docker-vet"
	pluginName   = "vet"
)

// dockerGlobals are the Docker CLI's global flags as it passes them to a
// plugin, before the plugin's name: `docker --context prod vet container
// web` runs `docker-vet --context prod vet container web`. The names,
// shorthands and meanings are the Docker CLI's (cli/flags.ClientOptions).
type dockerGlobals struct {
	engine   engine.Options
	debug    bool
	logLevel string
}

func (g *dockerGlobals) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("docker", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	o := &g.engine
	fs.StringVar(&o.ConfigDir, "config", "", "Location of client config files")
	fs.BoolVarP(&g.debug, "debug", "D", false, "Enable debug mode")
	fs.StringVarP(&g.logLevel, "log-level", "l", "info", "Set the logging level")
	fs.BoolVar(&o.TLS, "tls", false, "Use TLS; implied by --tlsverify")
	fs.BoolVar(&o.TLSVerify, "tlsverify", false, "Use TLS and verify the remote")
	fs.StringVar(&o.CACert, "tlscacert", "", "Trust certs signed only by this CA")
	fs.StringVar(&o.Cert, "tlscert", "", "Path to TLS certificate file")
	fs.StringVar(&o.Key, "tlskey", "", "Path to TLS key file")
	fs.VarP(&onceString{dst: &o.Host}, "host", "H", "Daemon socket to connect to")
	fs.StringVarP(&o.Context, "context", "c", "", "Name of the context to use to connect to the daemon")
	return fs
}

// onceString is the Docker CLI's -H: one value, a second is an error.
type onceString struct {
	dst *string
	set bool
}

func (h *onceString) String() string { return *h.dst }
func (h *onceString) Type() string   { return "string" }
func (h *onceString) Set(s string) error {
	if h.set {
		return errors.New("specify only one -H")
	}
	*h.dst, h.set = s, true
	return nil
}

// pluginInvocation reads a plugin's command line: the Docker CLI's global
// flags, the plugin's name, then dockvet's own arguments. ok is false when
// dockvet was not run by the Docker CLI as its plugin (run as dockvet, or
// as docker-vet by hand without the plugin name): args are then dockvet's
// own. The metadata query comes without the plugin name.
func pluginInvocation(progName string, args []string) (g *dockerGlobals, rest []string, ok bool, err error) {
	byDocker := os.Getenv(metadata.ReexecEnvvar) != ""
	if filepath.Base(progName) != pluginBinary && !byDocker {
		return nil, args, false, nil
	}
	if len(args) > 0 && args[0] == metadata.MetadataSubcommandName {
		return nil, args, false, nil
	}
	g = &dockerGlobals{}
	fs := g.flagSet()
	if err := fs.Parse(args); err != nil {
		if !byDocker {
			return nil, args, false, nil
		}
		return nil, nil, true, err
	}
	rest = fs.Args()
	if len(rest) >= 2 && rest[0] == "help" && rest[1] == pluginName {
		// `docker help vet [COMMAND]` runs the plugin with those words.
		rest = append([]string{pluginName, "help"}, rest[2:]...)
	}
	if len(rest) == 0 || rest[0] != pluginName {
		return nil, args, false, nil
	}
	g.engine.TLSVerifySet = fs.Changed("tlsverify")
	return g, rest[1:], true, nil
}

// apply makes the Docker CLI's globals dockvet's: the Engine they name,
// the configuration directory for every library that reads Docker's
// configuration (registry credentials too, through DOCKER_CONFIG, which is
// what --config means to the Docker CLI), -D and --log-level for the
// Docker libraries' logs.
func (g *dockerGlobals) apply(s *Shared) error {
	if g.engine.ConfigDir != "" {
		if err := os.Setenv(engine.EnvConfig, g.engine.ConfigDir); err != nil {
			return err
		}
	}
	lvl, err := logrus.ParseLevel(g.logLevel)
	if err != nil {
		return errors.New("--log-level " + g.logLevel + ": unknown level (debug, info, warn, error, fatal)")
	}
	if g.debug {
		lvl = logrus.DebugLevel
	}
	logrus.SetLevel(lvl)
	logrus.SetOutput(s.IO.Err)
	s.Debug = g.debug
	s.dockerGlobals = &g.engine
	return nil
}

// asPlugin makes the command line read as `docker vet`: help and usage
// say `docker vet …`, and the Docker CLI's signal to stop (it closes the
// plugin socket when interrupted while its output is not a terminal)
// cancels ctx.
func asPlugin(ctx context.Context, root *cobra.Command) (context.Context, context.CancelFunc) {
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = "docker " + pluginName
	ctx, cancel := context.WithCancel(ctx)
	socket.ConnectAndWait(cancel)
	return ctx, cancel
}

// PluginMetadataOptions are those of the Docker CLI's plugin discovery
// command.
type PluginMetadataOptions struct {
	*Shared
}

// NewCmdPluginMetadata answers the Docker CLI's plugin discovery.
func NewCmdPluginMetadata(f *Factory, runF func(*PluginMetadataOptions) error) *cobra.Command {
	opts := &PluginMetadataOptions{Shared: f.Shared}
	return &cobra.Command{
		Use:         metadata.MetadataSubcommandName,
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

// runPluginMetadata writes the metadata every Docker CLI plugin must give
// (the Docker CLI's own type, so that no field is missed or misspelt).
func runPluginMetadata(opts *PluginMetadataOptions) error {
	enc := json.NewEncoder(opts.IO.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "dockvet",
		Version:          Version,
		ShortDescription: "Audit Dockerfiles, images, Compose files, containers and hosts for security",
		URL:              "https://github.com/dockvet/dockvet",
	})
}
