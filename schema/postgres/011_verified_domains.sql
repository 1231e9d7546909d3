-- v11: only a verified claim holds a custom domain. Several projects may claim a domain unverified at once (so
-- nobody can block its owner by saving it first); one verified claim (custom_domain = verified_domain) per domain.
ALTER TABLE projects DROP CONSTRAINT projects_custom_domain_key;
-- Claims are looked up by domain, case-insensitively (the dropped constraint gave custom_domain an index).
CREATE INDEX projects_custom_domain ON projects (lower(custom_domain));
CREATE UNIQUE INDEX projects_verified_domain ON projects (lower(verified_domain)) WHERE verified_domain = custom_domain;
