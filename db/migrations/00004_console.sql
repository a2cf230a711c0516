-- +goose Up
-- What staff change from the console: label corrections (kept as training
-- feedback for the classifier), documents uploaded into the knowledge base
-- and edits of FAQ entries. Uploads and edits are kept apart from the
-- index so that `huiyin ingest` (even with --reindex) rebuilds the index
-- with them instead of losing them.

CREATE TABLE triage_feedback (
    id         bigserial PRIMARY KEY,
    ticket_id  bigint      NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- The owner's words as triaged, masked of personal data: feedback is
    -- exported for training.
    body       text        NOT NULL,
    predicted  jsonb       NOT NULL,
    corrected  jsonb       NOT NULL,
    fields     text[]      NOT NULL,
    actor      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX triage_feedback_created ON triage_feedback (created_at);

CREATE TABLE kb_uploads (
    source      text        PRIMARY KEY,
    filename    text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('standard', 'faq', 'script', 'law')),
    data        bytea       NOT NULL,
    uploaded_by text        NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);

-- One row per edited entry, keyed by the document and the entry's question
-- as shipped, so that a later edit replaces the earlier one.
CREATE TABLE faq_edits (
    source     text        NOT NULL,
    question   text        NOT NULL,
    new_question text      NOT NULL,
    answer     text        NOT NULL,
    edited_by  text        NOT NULL,
    edited_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, question)
);

-- +goose Down
DROP TABLE faq_edits;
DROP TABLE kb_uploads;
DROP TABLE triage_feedback;
