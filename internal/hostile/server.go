//go:build linux

package hostile

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// StartServer starts the registry a case needs on loopback and returns
// its host:port and a function that stops it.
//
//   - "redirect-loop" answers the API ping and redirects every other
//     request to itself (row 10);
//   - "registry" is an ordinary in-memory registry holding one small
//     image at hostile/small:1 (the twin).
func StartServer(kind string) (string, func(), error) {
	switch kind {
	case "redirect-loop":
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
		}))
		return hostOf(srv), srv.Close, nil
	case "registry":
		srv := httptest.NewServer(registry.New(registry.Logger(nullLogger())))
		host := hostOf(srv)
		img, err := random.Image(512, 1)
		if err != nil {
			srv.Close()
			return "", nil, err
		}
		ref, err := name.NewTag(host+"/hostile/small:1", name.Insecure)
		if err != nil {
			srv.Close()
			return "", nil, err
		}
		if err := remote.Write(ref, img); err != nil {
			srv.Close()
			return "", nil, fmt.Errorf("push the twin image: %w", err)
		}
		return host, srv.Close, nil
	case "":
		return "", func() {}, nil
	}
	return "", nil, fmt.Errorf("unknown server %q", kind)
}

func hostOf(srv *httptest.Server) string {
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func nullLogger() *log.Logger { return log.New(io.Discard, "", 0) }
