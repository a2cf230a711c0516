-- +goose Up
-- The service around tickets: staff and their access, owners' units,
-- incidents, drafts and the replies sent, follow-up visits, notifications,
-- the owners' web chat and the audit log. River's job tables are migrated
-- by River's own migrator (db.Migrate runs it after these).

CREATE TABLE staff (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    name          text        NOT NULL DEFAULT '',
    role          text        NOT NULL CHECK (role IN ('agent', 'lead', 'manager', 'admin')),
    department    text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of each session token is kept: a copy of the table opens no
-- session.
CREATE TABLE staff_sessions (
    token_hash bytea       PRIMARY KEY,
    staff_id   bigint      NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    prefix       text        NOT NULL, -- the first characters, to recognise a key in lists
    role         text        NOT NULL CHECK (role IN ('agent', 'lead', 'manager', 'admin')),
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Every staff action: who, what, on what, and how it ended.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    status     integer     NOT NULL DEFAULT 0,
    ip         text        NOT NULL DEFAULT '',
    request_id text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

ALTER TABLE owners ADD COLUMN vulnerable boolean NOT NULL DEFAULT false;

CREATE TABLE units (
    id       bigserial PRIMARY KEY,
    building text NOT NULL,
    unit     text NOT NULL DEFAULT '',
    room     text NOT NULL,
    UNIQUE (building, unit, room)
);

CREATE TABLE owner_units (
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    unit_id  bigint NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, unit_id)
);

-- Reports of one fault from several owners, answered once.
CREATE TABLE incidents (
    id         bigserial PRIMARY KEY,
    ref        text        NOT NULL UNIQUE,
    category   text        NOT NULL,
    building   text        NOT NULL DEFAULT '',
    area       text        NOT NULL DEFAULT '',
    summary    text        NOT NULL DEFAULT '',
    state      text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tickets
    ADD COLUMN problem                 text        NOT NULL DEFAULT '',
    ADD COLUMN unit_id                 bigint      REFERENCES units (id),
    ADD COLUMN assignee                text        NOT NULL DEFAULT '',
    ADD COLUMN incident_id             bigint      REFERENCES incidents (id),
    ADD COLUMN repeat_of               bigint      REFERENCES tickets (id),
    ADD COLUMN vulnerable              boolean     NOT NULL DEFAULT false,
    ADD COLUMN received_at             timestamptz,
    ADD COLUMN last_message_at         timestamptz,
    ADD COLUMN first_responded_at      timestamptz,
    ADD COLUMN resolved_at             timestamptz,
    ADD COLUMN closed_at               timestamptz,
    ADD COLUMN escalated_at            timestamptz,
    ADD COLUMN first_response_breached boolean     NOT NULL DEFAULT false,
    ADD COLUMN resolution_breached     boolean     NOT NULL DEFAULT false;
UPDATE tickets SET received_at = created_at, last_message_at = created_at;
CREATE INDEX tickets_owner_recent ON tickets (owner_id, created_at);
CREATE INDEX tickets_place_recent ON tickets (building, category, created_at);
CREATE INDEX tickets_incident ON tickets (incident_id) WHERE incident_id IS NOT NULL;

-- Suggested replies; at most one waits for a decision per ticket.
CREATE TABLE drafts (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    body          text        NOT NULL,
    citations     jsonb       NOT NULL DEFAULT '[]',
    script        text        NOT NULL DEFAULT '',
    source        text        NOT NULL,
    fallback      text        NOT NULL DEFAULT '',
    status        text        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    decided_by    text        NOT NULL DEFAULT '',
    decided_at    timestamptz,
    reject_reason text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX drafts_one_pending ON drafts (ticket_id) WHERE status = 'pending';

-- What was sent to owners, and who approved it.
CREATE TABLE replies (
    id            bigserial PRIMARY KEY,
    ticket_id     bigint      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    draft_id      bigint      REFERENCES drafts (id),
    incident_id   bigint      REFERENCES incidents (id),
    body          text        NOT NULL,
    draft_body    text        NOT NULL DEFAULT '',
    edit_distance integer     NOT NULL DEFAULT 0,
    approved_by   text        NOT NULL,
    source        text        NOT NULL CHECK (source IN ('draft', 'incident', 'staff', 'chatbot')),
    channel       text        NOT NULL DEFAULT '',
    owner_ref     text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX replies_ticket ON replies (ticket_id);

-- Approved replies staff chose to keep as examples of the script library.
CREATE TABLE promoted_scripts (
    id          bigserial PRIMARY KEY,
    reply_id    bigint      NOT NULL UNIQUE REFERENCES replies (id) ON DELETE CASCADE,
    category    text        NOT NULL,
    situation   text        NOT NULL,
    body        text        NOT NULL,
    promoted_by text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The visit after resolution (回访).
CREATE TABLE follow_ups (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    due_at      timestamptz NOT NULL,
    done_at     timestamptz,
    score       smallint    CHECK (score BETWEEN 1 AND 5),
    comment     text        NOT NULL DEFAULT '',
    recorded_by text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX follow_ups_ticket ON follow_ups (ticket_id, created_at);

-- What staff must be told: escalations, missed deadlines, visits due.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint      REFERENCES tickets (id) ON DELETE CASCADE,
    recipient  text        NOT NULL, -- a role (manager) or a department id
    kind       text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at);

-- The owners' web chat: one conversation per owner, found by a token the
-- page keeps (only its hash is stored).
CREATE TABLE conversations (
    id         bigserial PRIMARY KEY,
    token_hash bytea       NOT NULL UNIQUE,
    owner_ref  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversation_turns (
    id              bigserial PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('owner', 'assistant')),
    body            text        NOT NULL,
    citations       jsonb       NOT NULL DEFAULT '[]',
    ticket_id       bigint      REFERENCES tickets (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_turns_conv ON conversation_turns (conversation_id, id);

-- +goose Down
DROP TABLE conversation_turns;
DROP TABLE conversations;
DROP TABLE notifications;
DROP TABLE follow_ups;
DROP TABLE promoted_scripts;
DROP TABLE replies;
DROP TABLE drafts;
ALTER TABLE tickets
    DROP COLUMN problem, DROP COLUMN unit_id, DROP COLUMN assignee, DROP COLUMN incident_id,
    DROP COLUMN repeat_of, DROP COLUMN vulnerable, DROP COLUMN received_at, DROP COLUMN last_message_at,
    DROP COLUMN first_responded_at, DROP COLUMN resolved_at, DROP COLUMN closed_at, DROP COLUMN escalated_at,
    DROP COLUMN first_response_breached, DROP COLUMN resolution_breached;
DROP TABLE incidents;
DROP TABLE owner_units;
DROP TABLE units;
ALTER TABLE owners DROP COLUMN vulnerable;
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE staff_sessions;
DROP TABLE staff;
