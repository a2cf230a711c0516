// Package db opens huiyin's PostgreSQL database and keeps its schema current.
//
// # Connecting
//
// [Open] parses a connection string (URL or key=value form), creates a
// [pgxpool.Pool] and pings the server with a short timeout. An unreachable
// server is reported as an error wrapping [huiyin.ErrUnavailable]; a
// malformed connection string wraps [huiyin.ErrInvalid].
//
// Production runs on PostgreSQL 15 or later with pgvector 0.5 or later
// (docker-compose.yml at the repository root starts one). Development and
// tests run on PGlite served over the wire protocol by scripts/devdb and the
// db/dbtest package. All of PGlite's connections share one backend session,
// so its connection string must carry default_query_exec_mode=exec:
// prepared statements (pgx's default mode caches them by name) would
// otherwise collide between connections. scripts/devdb prints such a URL,
// and Open refuses PGlite in the default mode with an error saying so.
//
// # Vectors
//
// The pgvector types are not registered with pgx. Values of
// [github.com/pgvector/pgvector-go.Vector] travel in PostgreSQL's text form
// through their driver.Valuer and sql.Scanner methods. That works in every
// query exec mode (all five were tried, on PGlite and on PostgreSQL) and on
// connections opened before the vector extension existed (a fresh database,
// before [Migrate]). Registering pgvector-go's binary codec would need the
// extension at connect time and a type lookup on every new connection, and
// would change nothing in exec mode, which sends and receives text only;
// the binary form would save little at the knowledge base's size.
//
// # PGlite
//
// All connections to PGlite share one backend session, which has
// consequences beyond the exec mode: a prepared statement outlives the
// connection that made it; SET changes the setting for every connection;
// and while one connection is inside a transaction, every other
// connection's statements wait until it ends. Code that holds a
// transaction open must therefore run its queries on the transaction, not
// on the pool, or it hangs on PGlite (PostgreSQL would not mind).

// # Migrations
//
// The schema lives in migrations/*.sql, numbered goose files embedded in
// the binary. [Migrate] applies the pending ones with goose's Provider API
// under a PostgreSQL session advisory lock, so that two processes starting
// together do not migrate at once. (On PGlite every connection is the same
// session, where an advisory lock is re-entrant and excludes nobody; that is
// harmless for a single developer's database.) [MigrationStatus] and
// [Ready] tell a readiness probe whether the schema is current without
// writing anything; a database behind the binary is [ErrMigrationsPending].
//
// New migrations are added as migrations/NNNNN_name.sql with
// "-- +goose Up" and "-- +goose Down" sections; each runs in a transaction.
package db
