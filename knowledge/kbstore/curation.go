package kbstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin/knowledge"
)

var _ knowledge.CurationStore = (*Store)(nil)

// Uploads returns the documents uploaded from the console, oldest first.
func (s *Store) Uploads(ctx context.Context) ([]knowledge.Upload, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT source, filename, kind, data, uploaded_by, uploaded_at FROM kb_uploads ORDER BY uploaded_at, source`)
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Upload, error) {
		var u knowledge.Upload
		var kind string
		err := r.Scan(&u.Source, &u.Filename, &kind, &u.Data, &u.By, &u.At)
		u.Kind = knowledge.Kind(kind)
		return u, err
	})
}

// SaveUpload stores an upload, replacing one of the same source.
func (s *Store) SaveUpload(ctx context.Context, u knowledge.Upload) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO kb_uploads (source, filename, kind, data, uploaded_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (source) DO UPDATE SET filename = EXCLUDED.filename, kind = EXCLUDED.kind, data = EXCLUDED.data,
			uploaded_by = EXCLUDED.uploaded_by, uploaded_at = now()`,
		u.Source, u.Filename, string(u.Kind), u.Data, u.By)
	if err != nil {
		return fmt.Errorf("store upload %s: %w", u.Source, err)
	}
	return nil
}

// FAQEdits returns every FAQ edit.
func (s *Store) FAQEdits(ctx context.Context) ([]knowledge.FAQEdit, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT source, question, new_question, answer, edited_by, edited_at FROM faq_edits ORDER BY source, question`)
	if err != nil {
		return nil, fmt.Errorf("list FAQ edits: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.FAQEdit, error) {
		var e knowledge.FAQEdit
		err := r.Scan(&e.Source, &e.Question, &e.NewQuestion, &e.Answer, &e.By, &e.At)
		return e, err
	})
}

// SaveFAQEdit stores an edit of the entry whose question is now
// e.Question, keyed by the question it was first loaded with.
func (s *Store) SaveFAQEdit(ctx context.Context, e knowledge.FAQEdit) (knowledge.FAQEdit, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var original string
		err := tx.QueryRow(ctx, `SELECT question FROM faq_edits WHERE source = $1 AND new_question = $2 FOR UPDATE`,
			e.Source, e.Question).Scan(&original)
		switch {
		case err == nil:
			e.Question = original
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO faq_edits (source, question, new_question, answer, edited_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (source, question) DO UPDATE SET new_question = EXCLUDED.new_question, answer = EXCLUDED.answer,
				edited_by = EXCLUDED.edited_by, edited_at = now()
			RETURNING edited_at`, e.Source, e.Question, e.NewQuestion, e.Answer, e.By).Scan(&e.At)
	})
	if err != nil {
		return e, fmt.Errorf("store FAQ edit of %s: %w", e.Source, err)
	}
	return e, nil
}
