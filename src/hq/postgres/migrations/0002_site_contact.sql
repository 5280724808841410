-- When a site last reached head office with any request, and its chain
-- heads as it reported them then (the `scantrail-heads` header): what
-- `scantrail hq status` needs to show a site's backlog apart from how
-- long it has been quiet.
ALTER TABLE sites
    ADD COLUMN last_contact timestamptz,
    ADD COLUMN site_head bigint,
    ADD COLUMN site_rejected_head bigint;
