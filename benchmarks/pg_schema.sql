-- Benchmark schema (PostgreSQL), loaded into one database per server under test.
CREATE TABLE bench_users (id integer PRIMARY KEY, token text NOT NULL UNIQUE);
INSERT INTO bench_users SELECT g, 'tok' || g FROM generate_series(1, 100000) AS g;
-- seq and ts first: the load generator scans the event for them.
CREATE TABLE bench_rows (id bigserial PRIMARY KEY, seq bigint NOT NULL, ts bigint NOT NULL,
                         owner integer NOT NULL, pad text NOT NULL);
CREATE TABLE bench_all (id bigserial PRIMARY KEY, seq bigint NOT NULL, ts bigint NOT NULL,
                        owner integer NOT NULL, pad text NOT NULL);
