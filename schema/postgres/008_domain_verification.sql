-- v8: custom domain ownership. A project publishes `minivercel-verify=<domain_token>` in a TXT record at
-- `_minivercel.<domain>`; verified_domain remembers which domain passed, so changing the domain unverifies it.
ALTER TABLE projects ADD COLUMN domain_token TEXT;
ALTER TABLE projects ADD COLUMN verified_domain TEXT;
ALTER TABLE projects ADD COLUMN domain_verified_at TIMESTAMPTZ;
UPDATE projects SET domain_token = replace(gen_random_uuid()::text, '-', '');
-- Domains added before verification existed were already served: they stay verified across the upgrade.
UPDATE projects SET verified_domain = custom_domain, domain_verified_at = updated_at WHERE custom_domain IS NOT NULL;
