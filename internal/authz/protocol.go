// Package authz is a Docker Engine authorization plugin: the Engine asks it
// about every API request before acting on it, and it answers with the
// rules the scanners use. A `POST /containers/create` body becomes the
// container spec that Compose files, `docker run` lines and live containers
// become (live.CreateSpec) and faces container.Check; an exec faces the
// watch exec rules; an update is checked for limits it removes; a pull and
// a create face the trust policy (allow-list, digests, signatures). What
// denies, and what is excepted, is the `enforce:` section of .dockvet.yaml.
//
// The plugin fails closed: a request it cannot judge (a body that does not
// decode, a policy that did not load, a decision that ran out of time) is
// denied unless the policy is in audit mode and says otherwise. Every
// decision is one JSON line.
package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The plugin protocol (https://docs.docker.com/engine/extend/plugins_authorization/).
//
// The Engine's own definitions of these messages live in its daemon module
// (pkg/authorization of github.com/moby/moby/v2, or of the frozen
// github.com/docker/docker), which would bring the daemon's dependency
// graph along; docker/go-plugins-helpers has them too, but its handler
// keeps going after a request fails to decode and its PeerCertificate
// panics on a malformed PEM block. The messages are three small JSON
// objects, written here with the Engine's field names.
const (
	PathActivate = "/Plugin.Activate"
	PathRequest  = "/AuthZPlugin.AuthZReq"
	PathResponse = "/AuthZPlugin.AuthZRes"

	// Implements is the plugin type the Engine asks for.
	Implements = "authz"

	// contentType is the plugin API's media type.
	contentType = "application/vnd.docker.plugins.v1.2+json"

	// DefaultMaxRequest bounds a message from the Engine: the Engine sends
	// request bodies of less than 1 MiB, which base64 makes 1.33 MiB, plus
	// headers.
	DefaultMaxRequest = 4 << 20
)

// Request is what the Engine sends for each API request (AuthZReq) and,
// after the daemon answered, for its response (AuthZRes). Only the fields
// the plugin reads are decoded: peer certificates and response bodies are
// neither read nor kept.
type Request struct {
	// User and UserAuthNMethod name who is asking, when the Engine knows:
	// the common name of a TLS client certificate ("TLS"), or what an
	// authentication plugin said.
	User            string `json:"User,omitempty"`
	UserAuthNMethod string `json:"UserAuthNMethod,omitempty"`
	RequestMethod   string `json:"RequestMethod,omitempty"`
	// RequestURI is the path and query as the client sent them,
	// "/v1.41/containers/create?name=web".
	RequestURI string `json:"RequestUri,omitempty"`
	// RequestBody is kept as the JSON string the Engine sent (base64) and
	// decoded only for the requests that are judged by their body.
	RequestBody    json.RawMessage   `json:"RequestBody,omitempty"`
	RequestHeaders map[string]string `json:"RequestHeaders,omitempty"`
}

// Body decodes the request body. The Engine sends one only for JSON
// requests of less than 1 MiB with a known length: nil otherwise.
func (r *Request) Body() ([]byte, error) {
	if len(r.RequestBody) == 0 || string(r.RequestBody) == "null" {
		return nil, nil
	}
	var b []byte
	if err := json.Unmarshal(r.RequestBody, &b); err != nil {
		return nil, fmt.Errorf("the request body the Engine sent is not base64: %v", err)
	}
	return b, nil
}

// Response is the plugin's answer. Msg is what the client sees when the
// request is denied; Err reports that the plugin failed, which the Engine
// also treats as a denial.
type Response struct {
	Allow bool   `json:"Allow"`
	Msg   string `json:"Msg,omitempty"`
	Err   string `json:"Err,omitempty"`
}

// errTooLarge is a message larger than the handler takes.
var errTooLarge = errors.New("the message is larger than the plugin takes")

// decodeRequest reads one message from the Engine, at most max bytes.
func decodeRequest(r io.Reader, max int64) (*Request, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading the message: %v", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w (%d bytes at most)", errTooLarge, max)
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("the message is not a plugin request: %s", oneLine(err.Error()))
	}
	return &req, nil
}

// Handler serves the plugin protocol. Bad messages get a 4xx with the
// reason in Err (the Engine denies the request it was asking about); the
// handler keeps serving.
type Handler struct {
	Decider *Decider
	// MaxRequest bounds a message (default DefaultMaxRequest).
	MaxRequest int64
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, Response{Err: "the plugin API takes POST requests"})
		return
	}
	switch r.URL.Path {
	case PathActivate:
		writeJSON(w, http.StatusOK, struct {
			Implements []string `json:"Implements"`
		}{[]string{Implements}})
	case PathResponse:
		// Responses are not filtered: every decision is made on the
		// request, so the response is allowed without reading it.
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<10))
		writeJSON(w, http.StatusOK, Response{Allow: true})
	case PathRequest:
		max := h.MaxRequest
		if max <= 0 {
			max = DefaultMaxRequest
		}
		req, err := decodeRequest(r.Body, max)
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, errTooLarge) {
				status = http.StatusRequestEntityTooLarge
			}
			h.Decider.Refused(r.Context(), err)
			writeJSON(w, status, Response{Err: "dockvet: " + err.Error()})
			return
		}
		d := h.Decider.Decide(r.Context(), req)
		writeJSON(w, http.StatusOK, d.Response())
	default:
		writeJSON(w, http.StatusNotFound, Response{Err: "dockvet: no such plugin endpoint " + r.URL.Path})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Allow":false,"Err":"dockvet: cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
