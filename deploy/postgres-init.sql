-- Runs once, when the PostgreSQL volume is created: Dagster's database is POSTGRES_DB (dagster);
-- Turing's own tables (postings, waves, checkpoints) live in a database of their own.
CREATE DATABASE turing OWNER turing;
