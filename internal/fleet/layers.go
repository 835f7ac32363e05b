package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/image"
)

// layerStore keeps the walk's layer records in the fleet's database, so a
// base layer shared by many images is read once across the fleet. Within
// one process, a layer being read by one scan is waited for by the others
// (they would read the same bytes); across processes the first record
// written wins.
type layerStore struct {
	st *store.Store

	mu       sync.Mutex
	inflight map[string]chan struct{}
}

func newLayerStore(st *store.Store) *layerStore {
	return &layerStore{st: st, inflight: map[string]chan struct{}{}}
}

// scan is the layer store of one scan: what it promised to read is
// released when the scan ends, read or not.
type scanLayers struct {
	ls      *layerStore
	claimed []string
}

func (ls *layerStore) forScan() *scanLayers { return &scanLayers{ls: ls} }

// maxWait bounds how long a scan waits for another to read a layer.
const maxWait = 10 * time.Minute

func (s *scanLayers) Get(ctx context.Context, diffID, key string) (*image.LayerRecord, error) {
	k := diffID + " " + key
	for {
		r, err := s.ls.load(ctx, diffID, key)
		if err != nil || r != nil {
			return r, err
		}
		s.ls.mu.Lock()
		ch, busy := s.ls.inflight[k]
		if !busy {
			s.ls.inflight[k] = make(chan struct{})
			s.ls.mu.Unlock()
			s.claimed = append(s.claimed, k)
			return nil, nil
		}
		s.ls.mu.Unlock()
		t := time.NewTimer(maxWait)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return nil, nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

func (s *scanLayers) Put(ctx context.Context, diffID, key string, r *image.LayerRecord) error {
	err := s.ls.save(ctx, diffID, key, r)
	s.ls.release(diffID + " " + key)
	return err
}

// done releases what the scan claimed and did not record (it failed).
func (s *scanLayers) done() {
	for _, k := range s.claimed {
		s.ls.release(k)
	}
}

func (ls *layerStore) release(k string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ch, ok := ls.inflight[k]; ok {
		close(ch)
		delete(ls.inflight, k)
	}
}

// Records are stored as gzip'd JSON: most of a record is paths.
func (ls *layerStore) load(ctx context.Context, diffID, key string) (*image.LayerRecord, error) {
	b, err := ls.st.LayerFacts(ctx, diffID, key)
	if err != nil || b == nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil // unreadable: read the layer again
	}
	var r image.LayerRecord
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(&r); err != nil {
		return nil, nil
	}
	return &r, nil
}

func (ls *layerStore) save(ctx context.Context, diffID, key string, r *image.LayerRecord) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return ls.st.PutLayerFacts(ctx, diffID, key, buf.Bytes(), r.Tar)
}
