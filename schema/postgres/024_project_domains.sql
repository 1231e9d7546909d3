-- v24: several custom domains per project. Each domain is claimed, verified and served on its own; it may
-- redirect to another domain of the same project (apex -> www). The project's first domain (lowest position)
-- is what the API still calls its customDomain. Domains are stored in lower case.
CREATE TABLE project_domains (
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    domain VARCHAR(253) NOT NULL,
    position INTEGER NOT NULL,
    verified_at TIMESTAMPTZ,
    redirect_to VARCHAR(253),
    redirect_status INTEGER CHECK (redirect_status IN (301, 302, 307, 308)),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, domain)
);
-- Claims are looked up by domain; several projects may claim one unverified, one holds it verified.
CREATE INDEX project_domains_domain ON project_domains (domain);
CREATE UNIQUE INDEX project_domains_verified ON project_domains (domain) WHERE verified_at IS NOT NULL;
-- Domains a project proved (kept when it lets go of one): going back to it is verified again, unless another
-- project verified it since (that deletes the proof).
CREATE TABLE project_domain_proofs (
    project_id VARCHAR(36) NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    domain VARCHAR(253) NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, domain)
);
CREATE INDEX project_domain_proofs_domain ON project_domain_proofs (domain);
INSERT INTO project_domains (project_id, domain, position, verified_at, created_at)
SELECT id, lower(custom_domain), 0, CASE WHEN verified_domain = custom_domain THEN domain_verified_at END, updated_at
FROM projects WHERE custom_domain IS NOT NULL;
INSERT INTO project_domain_proofs (project_id, domain, verified_at)
SELECT id, lower(verified_domain), coalesce(domain_verified_at, updated_at)
FROM projects WHERE verified_domain IS NOT NULL;
-- The single-domain columns of 001, 008 and 011 are gone (with their indexes).
ALTER TABLE projects DROP COLUMN custom_domain, DROP COLUMN verified_domain, DROP COLUMN domain_verified_at;
