-- Hand-written (drizzle-kit does not emit extensions): hmac() for pseudonymization (D-011),
-- gen_random_uuid() for defaults on PostgreSQL before 13.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
