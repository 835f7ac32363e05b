-- The fleet's first schema: the SQLite twin of ../postgres/0001_fleet.up.sql
-- (keep them in step). Times are Unix milliseconds in both stores.

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ref          TEXT    NOT NULL,
    want_digest  TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL,
    registry_id  BIGINT  NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       BIGINT  NOT NULL,
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    image_digest TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT  NOT NULL DEFAULT 0,
    finished_at  BIGINT  NOT NULL DEFAULT 0
);
-- Workers look for the oldest ready job, and for running jobs whose lease ran out.
CREATE INDEX jobs_ready ON jobs (state, run_at, id);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
-- One live job per image: a crawl and a push notification of the same
-- image make one scan.
CREATE UNIQUE INDEX jobs_live ON jobs (ref, want_digest) WHERE state IN ('queued', 'running');

CREATE TABLE images (
    digest         TEXT    PRIMARY KEY,
    ref            TEXT    NOT NULL,
    repository     TEXT    NOT NULL,
    config_digest  TEXT    NOT NULL,
    platform       TEXT    NOT NULL,
    distro         TEXT    NOT NULL DEFAULT '',
    created        BIGINT  NOT NULL DEFAULT 0,
    size           BIGINT  NOT NULL DEFAULT 0,
    layer_count    INTEGER NOT NULL DEFAULT 0,
    facts          BLOB   NOT NULL,
    findings       BLOB   NOT NULL,
    inventory      BLOB   NOT NULL,
    vulns          BLOB   NOT NULL,
    matched_db     TEXT    NOT NULL DEFAULT '',
    worst          INTEGER NOT NULL DEFAULT 0,
    critical       INTEGER NOT NULL DEFAULT 0,
    high           INTEGER NOT NULL DEFAULT 0,
    medium         INTEGER NOT NULL DEFAULT 0,
    low            INTEGER NOT NULL DEFAULT 0,
    info           INTEGER NOT NULL DEFAULT 0,
    analyzer       TEXT    NOT NULL,
    scanned_at     BIGINT  NOT NULL,
    matched_at     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX images_repository ON images (repository);
CREATE INDEX images_matched ON images (matched_db);

CREATE TABLE image_tags (
    repository TEXT   NOT NULL,
    tag        TEXT   NOT NULL,
    digest     TEXT   NOT NULL,
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (repository, tag)
);
CREATE INDEX image_tags_digest ON image_tags (digest);

CREATE TABLE layers (
    diff_id    TEXT   NOT NULL,
    analyzer   TEXT   NOT NULL,
    facts      BLOB  NOT NULL,
    size       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL,
    uses       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (diff_id, analyzer)
);

CREATE TABLE image_layers (
    digest  TEXT    NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    idx     INTEGER NOT NULL,
    diff_id TEXT    NOT NULL,
    PRIMARY KEY (digest, idx)
);
CREATE INDEX image_layers_diff ON image_layers (diff_id);

-- The practices an image has reported findings of, each with its worst
-- severity: what filtering the fleet by practice and severity reads.
CREATE TABLE image_practices (
    digest   TEXT    NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    practice TEXT    NOT NULL,
    worst    INTEGER NOT NULL,
    PRIMARY KEY (digest, practice)
);
CREATE INDEX image_practices_practice ON image_practices (practice, worst);

-- Every identifier of every vulnerability an image has (the ID and its aliases).
CREATE TABLE image_advisories (
    advisory TEXT NOT NULL,
    digest   TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
    PRIMARY KEY (advisory, digest)
);
CREATE INDEX image_advisories_digest ON image_advisories (digest);

CREATE TABLE changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT  NOT NULL,
    digest    TEXT    NOT NULL,
    ref       TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    advisory  TEXT    NOT NULL,
    package   TEXT    NOT NULL,
    installed TEXT    NOT NULL,
    severity  INTEGER NOT NULL,
    cause     TEXT    NOT NULL,
    finding   BLOB   NOT NULL
);
CREATE INDEX changes_at ON changes (at, id);

CREATE TABLE registries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    url          TEXT    NOT NULL UNIQUE,
    repositories TEXT    NOT NULL,
    credentials  TEXT    NOT NULL DEFAULT '',
    interval_ms  BIGINT  NOT NULL,
    next_crawl   BIGINT  NOT NULL DEFAULT 0,
    last_crawl   BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    crawl_owner  TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
