package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	// JobDead is a job that failed MaxAttempts times; LastError says why.
	JobDead = "dead"
)

// Job is one scan in the queue.
type Job struct {
	ID int64 `json:"id"`
	// Ref is the image reference to scan, as it was asked for.
	Ref string `json:"image"`
	// WantDigest is the manifest digest the job was queued for (a push
	// notification names it), when known.
	WantDigest string `json:"wantDigest,omitempty"`
	// Source says what queued the job: api, harbor, registry, hook.
	Source      string `json:"source"`
	RegistryID  int64  `json:"registryId,omitempty"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"maxAttempts"`
	// LastError is the last attempt's error (a dead job's cause).
	LastError string `json:"lastError,omitempty"`
	// ImageDigest is the scanned image, once done.
	ImageDigest string    `json:"imageDigest,omitempty"`
	LeaseOwner  string    `json:"worker,omitempty"`
	LeaseUntil  time.Time `json:"leaseUntil,omitzero"`
	RunAt       time.Time `json:"runAt"`
	CreatedAt   time.Time `json:"createdAt"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
}

// NewJob is what Enqueue needs.
type NewJob struct {
	Ref         string
	WantDigest  string
	Source      string
	RegistryID  int64
	MaxAttempts int
}

// ErrLeaseLost is returned to a worker that no longer holds a job: its
// lease ran out and another worker took it, so its result must not count.
var ErrLeaseLost = errors.New("the job's lease was lost to another worker")

// ErrNotFound is a lookup of something the store does not hold.
var ErrNotFound = errors.New("not found")

const jobColumns = `id, ref, want_digest, source, registry_id, state, attempts, max_attempts, last_error, image_digest,
	lease_owner, lease_until, run_at, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var leaseUntil, runAt, created, started, finished int64
	err := row.Scan(&j.ID, &j.Ref, &j.WantDigest, &j.Source, &j.RegistryID, &j.State, &j.Attempts, &j.MaxAttempts,
		&j.LastError, &j.ImageDigest, &j.LeaseOwner, &leaseUntil, &runAt, &created, &started, &finished)
	if err != nil {
		return nil, err
	}
	j.LeaseUntil, j.RunAt, j.CreatedAt, j.StartedAt, j.FinishedAt = ms(leaseUntil), ms(runAt), ms(created), ms(started), ms(finished)
	if j.State != JobRunning {
		j.LeaseUntil = time.Time{}
	}
	return &j, nil
}

func ms(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Enqueue adds a scan job. A job for the same reference and digest that is
// still queued or running is returned instead of a second one: a crawl and
// a push notification for the same image make one scan.
func (s *Store) Enqueue(ctx context.Context, n NewJob) (*Job, bool, error) {
	if n.MaxAttempts <= 0 {
		n.MaxAttempts = 3
	}
	for {
		j, err := scanJob(s.db.QueryRowContext(ctx, s.fill.Replace(`INSERT INTO jobs
			(ref, want_digest, source, registry_id, state, max_attempts, run_at, created_at)
			VALUES ($1, $2, $3, $4, 'queued', $5, {now}, {now})
			ON CONFLICT (ref, want_digest) WHERE state IN ('queued', 'running') DO NOTHING
			RETURNING `+jobColumns),
			n.Ref, n.WantDigest, n.Source, n.RegistryID, n.MaxAttempts))
		if err == nil {
			return j, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, false, err
		}
		j, err = scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
			WHERE ref = $1 AND want_digest = $2 AND state IN ('queued', 'running') ORDER BY id LIMIT 1`, n.Ref, n.WantDigest))
		if errors.Is(err, sql.ErrNoRows) {
			continue // it finished between the two statements
		}
		return j, false, err
	}
}

// EnqueueDone records a job answered from the store at once (the image's
// digest is already indexed): it is done without a worker.
func (s *Store) EnqueueDone(ctx context.Context, n NewJob, digest string) (*Job, error) {
	return scanJob(s.db.QueryRowContext(ctx, s.fill.Replace(`INSERT INTO jobs
		(ref, want_digest, source, registry_id, state, max_attempts, run_at, created_at, started_at, finished_at, image_digest)
		VALUES ($1, $2, $3, $4, 'done', 1, {now}, {now}, {now}, {now}, $5) RETURNING `+jobColumns),
		n.Ref, n.WantDigest, n.Source, n.RegistryID, digest))
}

// Claim gives the oldest ready job to owner for lease: a queued job whose
// time has come, or a running job whose worker let its lease run out (it
// died, or lost the database). Nil when there is none. A job that has used
// all its attempts is not claimed again: its lost lease makes it dead.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration) (*Job, error) {
	if _, err := s.db.ExecContext(ctx, s.fill.Replace(`UPDATE jobs
		SET state = 'dead', finished_at = {now}, lease_owner = '',
			last_error = 'worker ' || lease_owner || ' stopped renewing its lease (it died or lost the database), and no attempts are left'
		WHERE state = 'running' AND lease_until < {now} AND attempts >= max_attempts`)); err != nil {
		return nil, err
	}
	j, err := scanJob(s.db.QueryRowContext(ctx, s.fill.Replace(`UPDATE jobs
		SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = {now} + $2, started_at = {now},
			last_error = CASE WHEN state = 'running'
				THEN 'worker ' || lease_owner || ' stopped renewing its lease (it died or lost the database)'
				ELSE last_error END
		WHERE id = (SELECT id FROM jobs
			WHERE (state = 'queued' AND run_at <= {now}) OR (state = 'running' AND lease_until < {now})
			ORDER BY run_at, id LIMIT 1 {skip_locked})
		RETURNING `+jobColumns), owner, lease.Milliseconds()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}

// Renew extends owner's lease on job id; ErrLeaseLost when owner no longer
// holds it.
func (s *Store) Renew(ctx context.Context, id int64, owner string, lease time.Duration) error {
	return s.owned(s.db.ExecContext(ctx, s.fill.Replace(`UPDATE jobs SET lease_until = {now} + $3
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`), id, owner, lease.Milliseconds()))
}

func (s *Store) owned(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Complete marks owner's job done with the image it indexed. Only the
// worker holding the lease can: a worker that lost it gets ErrLeaseLost
// and its result is dropped, so a job's result is written once.
func (s *Store) Complete(ctx context.Context, id int64, owner, digest string) error {
	return s.owned(s.db.ExecContext(ctx, s.fill.Replace(`UPDATE jobs
		SET state = 'done', image_digest = $3, finished_at = {now}, lease_owner = '', last_error = ''
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`), id, owner, digest))
}

// Fail records a failed attempt: the job runs again after backoff, or is
// dead when it has used its attempts (or permanent says retrying cannot
// help: a reference that does not exist, a malformed image).
func (s *Store) Fail(ctx context.Context, id int64, owner, msg string, backoff time.Duration, permanent bool) error {
	dead := 0
	if permanent {
		dead = 1
	}
	return s.owned(s.db.ExecContext(ctx, s.fill.Replace(`UPDATE jobs
		SET state = CASE WHEN attempts >= max_attempts OR $5 = 1 THEN 'dead' ELSE 'queued' END,
			finished_at = CASE WHEN attempts >= max_attempts OR $5 = 1 THEN {now} ELSE 0 END,
			run_at = {now} + $4, last_error = $3, lease_owner = ''
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`), id, owner, msg, backoff.Milliseconds(), dead))
}

// Job returns one job.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return j, err
}

// Jobs lists jobs, newest first, in one state when state is set.
func (s *Store) Jobs(ctx context.Context, state string, limit int) ([]*Job, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE ($1 = '' OR state = $1) ORDER BY id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// QueueCounts counts jobs by state.
func (s *Store) QueueCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{JobQueued: 0, JobRunning: 0, JobDone: 0, JobDead: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Release hands owner's job back to the queue without counting the
// attempt: the worker is stopping, not failing.
func (s *Store) Release(ctx context.Context, id int64, owner string) error {
	return s.owned(s.db.ExecContext(ctx, s.fill.Replace(`UPDATE jobs
		SET state = 'queued', attempts = attempts - 1, run_at = {now}, lease_owner = '', lease_until = 0
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`), id, owner))
}
