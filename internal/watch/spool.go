package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// spool keeps the findings a webhook has not accepted yet, one file per
// finding, named by a sequence number so that the oldest is delivered
// first. A file is written under a temporary name, fsync'd and renamed,
// so a crash leaves either the whole finding or none of it; what cannot
// be read back as a finding is moved aside (to "rejected/"), never
// posted and never silently deleted.
type spool struct {
	dir string
	max int

	mu    sync.Mutex
	seq   uint64
	names []string // pending, oldest first
	dirty bool
}

const (
	spoolExt      = ".json"
	spoolTmp      = ".tmp-"
	spoolRejected = "rejected"
	maxSpooled    = 1 << 20
)

// openSpool opens (creating) a spool directory and lists what an earlier
// run left in it.
func openSpool(dir string, max int) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	// A spool that cannot be written is found now, not at the first
	// finding.
	probe, err := os.CreateTemp(dir, spoolTmp+"probe-*")
	if err != nil {
		return nil, err
	}
	probe.Close()
	os.Remove(probe.Name())
	s := &spool{dir: dir, max: max}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasPrefix(name, spoolTmp):
			// A write that did not reach its rename: the finding was
			// never spooled, so nothing was promised about it.
			os.Remove(filepath.Join(dir, name))
		default:
			if seq, ok := parseSpoolName(name); ok {
				s.names = append(s.names, name)
				s.seq = max64(s.seq, seq)
			}
		}
	}
	slices.Sort(s.names)
	// Sequence numbers start at the clock, so that delivery IDs differ
	// between runs even when the spool was empty.
	s.seq = max64(s.seq, uint64(time.Now().UnixNano()))
	return s, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// parseSpoolName reads the sequence number of a spool file name
// ("00001795722465350495235.json").
func parseSpoolName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, spoolExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// parseSpooled checks that a spool file holds one finding record, as
// watch wrote it, and returns the body to post.
func parseSpooled(data []byte) ([]byte, error) {
	if len(data) > maxSpooled {
		return nil, fmt.Errorf("%d bytes, more than a finding", len(data))
	}
	body := bytes.TrimSpace(data)
	var rec struct {
		RuleID *string          `json:"ruleId"`
		Event  *json.RawMessage `json:"event"`
		// Verdict marks a decision of `dockvet authz` (LineRecord).
		Verdict *string `json:"verdict"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a JSON finding: %v", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	if rec.Verdict != nil && *rec.Verdict != "" {
		return body, nil
	}
	if rec.RuleID == nil || *rec.RuleID == "" || rec.Event == nil {
		return nil, errors.New("not a finding record (no ruleId or event)")
	}
	return body, nil
}

func (s *spool) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.names)
}

// put spools one body; it reports false when the spool is full.
func (s *spool) put(body []byte) (bool, error) {
	s.mu.Lock()
	if len(s.names) >= s.max {
		s.mu.Unlock()
		return false, nil
	}
	s.seq++
	name := fmt.Sprintf("%020d%s", s.seq, spoolExt)
	s.mu.Unlock()

	f, err := os.CreateTemp(s.dir, spoolTmp+"*")
	if err != nil {
		return false, err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return false, err
	}
	s.mu.Lock()
	// Names are taken in order but may be renamed out of order by
	// concurrent writers; keep the list sorted.
	i, _ := slices.BinarySearch(s.names, name)
	s.names = slices.Insert(s.names, i, name)
	s.dirty = true
	s.mu.Unlock()
	return true, nil
}

// sync makes the renames durable (one fsync of the directory per burst).
func (s *spool) sync() error {
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = false
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// oldest returns the oldest spooled finding. A file that does not hold a
// finding is moved to rejected/ and reported through bad; the next one is
// returned.
func (s *spool) oldest(bad func(name string, err error)) (name string, body []byte, ok bool) {
	for {
		s.mu.Lock()
		if len(s.names) == 0 {
			s.mu.Unlock()
			return "", nil, false
		}
		name = s.names[0]
		s.mu.Unlock()
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			s.forget(name)
			continue
		}
		if err == nil {
			body, err = parseSpooled(data)
		}
		if err != nil {
			if rerr := s.reject(name); rerr != nil {
				err = fmt.Errorf("%v; moving it aside: %v", err, rerr)
			}
			bad(name, err)
			continue
		}
		return name, body, true
	}
}

func (s *spool) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := slices.BinarySearch(s.names, name); ok {
		s.names = slices.Delete(s.names, i, i+1)
	}
}

// done removes a delivered finding.
func (s *spool) done(name string) error {
	s.forget(name)
	err := os.Remove(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// reject moves a finding the webhook refused (or an unreadable file) to
// rejected/, where a person can look at it.
func (s *spool) reject(name string) error {
	s.forget(name)
	rej := filepath.Join(s.dir, spoolRejected)
	if err := os.MkdirAll(rej, 0o700); err != nil {
		return err
	}
	return os.Rename(filepath.Join(s.dir, name), filepath.Join(rej, name))
}
