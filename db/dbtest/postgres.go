package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db"
)

// setupPostgres creates a database of its own on the server of adminURL
// and migrates it; stop drops it.
func setupPostgres(ctx context.Context, adminURL string, log *slog.Logger) testDB {
	start := time.Now()
	admin, err := db.Open(ctx, adminURL, log)
	if err != nil {
		return testDB{err: fmt.Errorf("%s: %w", EnvDatabaseURL, err), missing: errors.Is(err, huiyin.ErrUnavailable)}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "huiyin_test_" + hex.EncodeToString(b[:])
	testURL, err := withDatabase(adminURL, name)
	if err != nil {
		admin.Close()
		return testDB{err: err}
	}
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		admin.Close()
		return testDB{err: fmt.Errorf("%s: create database %s: %w", EnvDatabaseURL, name, err)}
	}
	d := testDB{
		kind: "PostgreSQL",
		url:  testURL,
		stop: func() error {
			defer admin.Close()
			// FORCE (PostgreSQL 13+) ends connections a test left open.
			_, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
			return err
		},
		startTime: time.Since(start),
	}
	return migrate(ctx, d, log)
}

// withDatabase returns the connection string connStr with its database
// replaced by name, in either form pgx accepts (URL or key=value).
func withDatabase(connStr, name string) (string, error) {
	if strings.Contains(connStr, "://") {
		u, err := url.Parse(connStr)
		if err != nil {
			return "", fmt.Errorf("%s: %w", EnvDatabaseURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Set("dbname", name)
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// In key=value form a later keyword overrides an earlier one.
	return connStr + " dbname=" + name, nil
}
