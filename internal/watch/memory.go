package watch

import (
	"sync"
	"time"
)

// memory is what watch remembers so that it reports each finding once:
// the findings already reported, by the actor they concern (a container,
// an image, a plugin), and the last events read, so that a resumed stream
// that sends them again is not audited twice. An actor's findings are
// forgotten a while after it is removed; the event memory is a ring.
type memory struct {
	mu      sync.Mutex
	scopes  map[string]map[string]struct{}
	retired map[string]time.Time

	ring   []string
	next   int
	events map[string]struct{}
}

func newMemory(events int) *memory {
	return &memory{
		scopes:  map[string]map[string]struct{}{},
		retired: map[string]time.Time{},
		ring:    make([]string, events),
		events:  make(map[string]struct{}, events),
	}
}

// first records key under scope and reports whether it is new.
func (m *memory) first(scope, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.scopes[scope]
	if s == nil {
		s = map[string]struct{}{}
		m.scopes[scope] = s
	}
	if _, ok := s[key]; ok {
		return false
	}
	s[key] = struct{}{}
	return true
}

// has reports whether key is recorded under scope.
func (m *memory) has(scope, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.scopes[scope][key]
	return ok
}

// retire marks an actor as removed; expire forgets it later (a queued job
// may still be reporting about it).
func (m *memory) retire(scope string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.scopes[scope]; ok {
		m.retired[scope] = at
	}
}

// expire forgets the actors retired before cutoff.
func (m *memory) expire(cutoff time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for scope, at := range m.retired {
		if at.Before(cutoff) {
			delete(m.scopes, scope)
			delete(m.retired, scope)
		}
	}
}

// newEvent records an event key and reports whether it was not among the
// recent ones.
func (m *memory) newEvent(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.events[key]; ok {
		return false
	}
	if old := m.ring[m.next]; old != "" {
		delete(m.events, old)
	}
	m.ring[m.next] = key
	m.next = (m.next + 1) % len(m.ring)
	m.events[key] = struct{}{}
	return true
}

// size is the number of remembered findings, for tests of the bound.
func (m *memory) size() (scopes, keys int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.scopes {
		keys += len(s)
	}
	return len(m.scopes), keys
}
