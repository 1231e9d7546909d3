-- v20: API tokens may expire (chosen when created); an expired token authenticates nothing. Existing ones never
-- expire.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
