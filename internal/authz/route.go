package authz

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Kind is what a request does, as far as the policy is concerned.
type Kind string

// The kinds of request. Only the first five are judged by their content;
// every other mutating request is allowed and logged.
const (
	KindRead    Kind = "read"             // GET, HEAD: answered without decoding anything
	KindCreate  Kind = "container.create" // POST /containers/create
	KindExec    Kind = "container.exec"   // POST /containers/{id}/exec
	KindUpdate  Kind = "container.update" // POST /containers/{id}/update
	KindPull    Kind = "image.pull"       // POST /images/create?fromImage=…
	KindStart   Kind = "container.start"  // POST /containers/{id}/start
	KindOther   Kind = "other"
	KindUnknown Kind = "unknown" // a URI that does not parse
)

// route is a request's path read the way the Engine's router reads it.
type route struct {
	Kind Kind
	// Path is the path without the API version prefix, cleaned.
	Path string
	// ID is the container a /containers/{id}/… request names.
	ID    string
	Query url.Values
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+(\.[0-9]+)?/`)

// classify reads the method and URI. The Engine's router matches the
// decoded path after cleaning it (gorilla/mux), so the plugin judges the
// cleaned, decoded path: "/v1.41/containers/%63reate" and
// "/containers/x/../create" are the create they lead to.
func classify(method, uri string) route {
	switch strings.ToUpper(method) {
	case "GET", "HEAD":
		return route{Kind: KindRead}
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return route{Kind: KindUnknown}
	}
	p := path.Clean("/" + u.Path)
	if loc := versionPrefix.FindStringIndex(p + "/"); loc != nil {
		p = path.Clean("/" + p[min(loc[1], len(p)):])
	}
	r := route{Kind: KindOther, Path: p, Query: u.Query()}
	if !strings.EqualFold(method, "POST") {
		return r
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case p == "/containers/create":
		r.Kind = KindCreate
	case p == "/images/create" && r.Query.Get("fromImage") != "":
		r.Kind = KindPull
	case len(parts) == 3 && parts[0] == "containers" && parts[1] != "":
		r.ID = parts[1]
		switch parts[2] {
		case "exec":
			r.Kind = KindExec
		case "update":
			r.Kind = KindUpdate
		case "start":
			r.Kind = KindStart
		}
	}
	return r
}
