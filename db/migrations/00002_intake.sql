-- +goose Up
-- Intake: owners, their channel identities, messages and the tickets they
-- open, with every change of a ticket recorded.

CREATE TABLE owners (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL DEFAULT '',
    phone       text        NOT NULL DEFAULT '',
    notes       text        NOT NULL DEFAULT '',
    provisional boolean     NOT NULL DEFAULT true, -- created from a first message, to be confirmed by staff
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- How an owner is known on each channel (a WeChat openid, an app user id,
-- a phone number at the desk).
CREATE TABLE owner_channels (
    channel      text   NOT NULL,
    channel_user text   NOT NULL,
    owner_id     bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    PRIMARY KEY (channel, channel_user)
);

CREATE TABLE tickets (
    id                bigserial PRIMARY KEY,
    ref               text        NOT NULL UNIQUE,
    state             text        NOT NULL DEFAULT 'new'
                      CHECK (state IN ('new', 'assigned', 'in_progress', 'resolved', 'followed_up', 'closed', 'reopened')),
    owner_id          bigint      REFERENCES owners (id),
    category          text        NOT NULL,
    intent            text        NOT NULL,
    urgency           text        NOT NULL,
    sentiment         text        NOT NULL,
    risks             text[]      NOT NULL DEFAULT '{}',
    building          text        NOT NULL DEFAULT '',
    unit              text        NOT NULL DEFAULT '',
    room              text        NOT NULL DEFAULT '',
    area              text        NOT NULL DEFAULT '',
    department        text        NOT NULL,
    escalate          boolean     NOT NULL DEFAULT false,
    escalate_to       text        NOT NULL DEFAULT '',
    first_response_by timestamptz NOT NULL,
    resolution_by     timestamptz NOT NULL,
    resolution_kind   text        NOT NULL,
    triage            jsonb       NOT NULL, -- the whole triage result, for review and retraining
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tickets_queue ON tickets (department, state, resolution_by);

-- A message is stored before it is acknowledged; a channel's message id
-- makes a retried delivery the same message.
CREATE TABLE messages (
    id             bigserial PRIMARY KEY,
    channel        text        NOT NULL CHECK (channel IN ('wechat', 'app', 'web', 'phone')),
    channel_msg_id text        NOT NULL,
    owner_ref      text        NOT NULL,
    owner_id       bigint      REFERENCES owners (id),
    body           text        NOT NULL,
    location_text  text        NOT NULL DEFAULT '',
    contact        text        NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL,
    ticket_id      bigint      NOT NULL REFERENCES tickets (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, channel_msg_id)
);
CREATE INDEX messages_ticket ON messages (ticket_id);

-- Every change of a ticket: who, when, what.
CREATE TABLE ticket_events (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text        NOT NULL,
    kind       text        NOT NULL,
    from_state text        NOT NULL DEFAULT '',
    to_state   text        NOT NULL DEFAULT '',
    note       text        NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

-- +goose Down
DROP TABLE ticket_events;
DROP TABLE messages;
DROP TABLE tickets;
DROP TABLE owner_channels;
DROP TABLE owners;
