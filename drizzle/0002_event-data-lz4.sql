-- Hand-written: compress stored events with lz4 where the server supports it (PostgreSQL 14+
-- built with lz4); cheaper on the CPU than the default pglz. PGlite has no lz4 and keeps pglz.
DO $$
BEGIN
  ALTER TABLE events ALTER COLUMN event_data SET COMPRESSION lz4;
EXCEPTION
  WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available; event_data keeps the default compression';
END
$$;
