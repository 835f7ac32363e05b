package fleet

import (
	"context"
	"strconv"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/watch"
)

// The notifier hands changes to the sinks from a cursor kept in the
// database (the last change ID handed over), after the sinks made them
// durable (the webhook's spool is fsync'd): a server that stops between
// two steps hands the same changes over again rather than losing them, and
// the webhook's delivery ID lets the receiver drop a repeat.
const notifyCursor = "notify_cursor"

// ChangeRecord is a change as a sink receives it: watch's record (the
// finding, here the vulnerability finding as the image's report has it,
// and the event that produced it), with the event naming the change.
func ChangeRecord(c store.Change) (watch.Record, error) {
	var f finding.Finding
	if err := unpack(c.Finding, &f); err != nil {
		return watch.Record{}, err
	}
	return watch.Record{Finding: f, Event: watch.Event{
		// "advisory" events: Action is new or fixed, Actor the image's
		// digest, Name its reference.
		Type: "advisory", Action: c.Kind, Actor: c.Digest, Name: c.Ref, Time: c.At,
	}}, nil
}

func (s *Service) wakeNotifier() {
	select {
	case s.notifyCh <- struct{}{}:
	default:
	}
}

// Notify delivers changes to the sinks until ctx ends, then closes them
// (giving them until drain to deliver what is spooled). Run it in one
// process per database: the cursor is shared.
func (s *Service) Notify(ctx context.Context, drain time.Duration) {
	if len(s.o.Sinks) == 0 {
		return
	}
	// A database whose changes were never delivered (webhooks configured
	// for the first time) starts from now: the sinks get what changes
	// from here on, not the fleet's history.
	if v, err := s.o.Store.Setting(ctx, notifyCursor); err == nil && v == "" {
		if last, err := s.o.Store.LastChangeID(ctx); err == nil {
			s.o.Store.SetSetting(ctx, notifyCursor, strconv.FormatInt(last, 10))
		}
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := s.notifyOnce(ctx); err != nil && ctx.Err() == nil {
			s.notice("delivering changes: %v", err)
		}
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), drain)
			for _, sk := range s.o.Sinks {
				if err := sk.Close(dctx); err != nil {
					s.notice("%s: %v", sk.Name(), err)
				}
			}
			cancel()
			return
		case <-t.C:
		case <-s.notifyCh:
		}
	}
}

func (s *Service) notifyOnce(ctx context.Context) error {
	for {
		v, err := s.o.Store.Setting(ctx, notifyCursor)
		if err != nil {
			return err
		}
		after, _ := strconv.ParseInt(v, 10, 64)
		cs, err := s.o.Store.Changes(ctx, after, time.Time{}, 500)
		if err != nil || len(cs) == 0 {
			return err
		}
		sortChanges(cs)
		for _, c := range cs {
			r, err := ChangeRecord(c)
			if err != nil {
				s.notice("change %d: %v", c.ID, err)
				continue
			}
			for _, sk := range s.o.Sinks {
				if err := sk.Write(&r); err != nil {
					// A full spool stops delivery here; the cursor
					// stays, and the next round tries again.
					return err
				}
			}
		}
		for _, sk := range s.o.Sinks {
			if err := sk.Flush(); err != nil {
				return err
			}
		}
		if err := s.o.Store.SetSetting(ctx, notifyCursor, strconv.FormatInt(cs[len(cs)-1].ID, 10)); err != nil {
			return err
		}
	}
}
