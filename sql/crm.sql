-- CRM objects, deal registration, the CRM user, login routing, the HubSpot
-- card, point checks and explain_access (PRODUCT.md section 4).
SET ROLE regress_introw_app;

-- Set the principal named by a fixture key
CREATE FUNCTION pg_temp.become(who text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF who IN ('admin', 'member', 'pm', 'crm', 'globex_admin') THEN
        PERFORM introw.set_user(fx(who));
    ELSE
        PERFORM introw.set_contact(fx(who));
    END IF;
END $$;

-- What each principal sees of the pipeline
CREATE FUNCTION pg_temp.pipeline(who text) RETURNS TABLE (objects text, collaborator_rows bigint,
                                                          tasks text, progress text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.become(who);
    RETURN QUERY SELECT
        (SELECT string_agg(name, ', ' ORDER BY object_id) FROM introw.crm_objects),
        (SELECT count(*) FROM introw.collaborators),
        (SELECT string_agg(title, ', ' ORDER BY task_id) FROM introw.tasks),
        (SELECT string_agg(format('%s: %s/%s done', o.name, p.done, p.total), ', ' ORDER BY p.org_id)
         FROM introw.task_progress p JOIN public.fx f ON f.id = p.org_id AND f.name IN ('alpha', 'beta', 'gamma')
         JOIN LATERAL (SELECT CASE f.name WHEN 'alpha' THEN 'Alpha' WHEN 'beta' THEN 'Beta' ELSE 'Gamma' END AS name) o ON true);
END $$;
SELECT w AS principal, p.* FROM unnest(ARRAY['rep', 'restricted', 'norole', 'beta_rep', 'crm', 'pm',
                                             'member', 'admin', 'globex_admin']) AS w,
     LATERAL pg_temp.pipeline(w) p;

-- the deals view honours the same visibility
SELECT introw.set_contact(fx('restricted'));
SELECT name FROM introw.deals ORDER BY object_id;

-- Deal registration by a contact: own organisation, own name
SELECT introw.set_contact(fx('restricted'));
INSERT INTO introw.crm_objects (tenant_id, object_type, name, amount)
VALUES (fx('acme'), 'deal', 'Restricted registers', 100)
RETURNING name, org_id = fx('alpha') AS own_org, submitted_by_contact_id = fx('restricted') AS submitter;
SELECT (contact_id = fx('restricted')) AS registrant, (user_id = fx('pm')) AS partner_manager
FROM introw.collaborators c JOIN introw.crm_objects o USING (tenant_id, object_id)
WHERE o.name = 'Restricted registers' ORDER BY contact_id NULLS LAST;
SELECT name FROM introw.crm_objects ORDER BY object_id;
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name) VALUES (fx('acme'), 'deal', fx('beta'), 'Into Beta');
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name, submitted_by_contact_id)
VALUES (fx('acme'), 'deal', fx('alpha'), 'In rep''s name', fx('rep'));
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name) VALUES (fx('globex'), 'deal', fx('gamma'), 'Cross tenant');
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name) VALUES (fx('acme'), 'opportunity', fx('alpha'), 'Bad type');
-- updates: what it collaborates on, never into another organisation
UPDATE introw.crm_objects SET stage = 'Won' WHERE object_id = fx('a3') RETURNING name, stage;
UPDATE introw.crm_objects SET org_id = fx('beta') WHERE object_id = fx('a3');
UPDATE introw.crm_objects SET stage = 'Hijacked' WHERE object_id = fx('a1') RETURNING name;
DELETE FROM introw.crm_objects WHERE object_id = fx('a3') RETURNING name;
-- adding a teammate as collaborator: contacts of its own organisation only
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id) VALUES (fx('acme'), fx('a3'), fx('se'))
RETURNING contact_id = fx('se') AS teammate_added;
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id) VALUES (fx('acme'), fx('a3'), fx('beta_rep'));
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id) VALUES (fx('acme'), fx('a1'), fx('se'));

-- The CRM user: partner pipeline, registers and updates deals, no partner edits
SELECT introw.set_user(fx('crm'));
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name, amount)
VALUES (fx('acme'), 'deal', fx('beta'), 'CRM registers', 900) RETURNING name;
SELECT (user_id = fx('crm')) AS crm_user, (user_id = fx('pm2')) AS beta_manager
FROM introw.collaborators c JOIN introw.crm_objects o USING (tenant_id, object_id)
WHERE o.name = 'CRM registers' ORDER BY user_id;
INSERT INTO introw.crm_objects (tenant_id, object_type, name) VALUES (fx('acme'), 'deal', 'Vendor deal by CRM user');
UPDATE introw.crm_objects SET stage = 'Proposal' WHERE object_id = fx('b1') RETURNING name, stage;
UPDATE introw.crm_objects SET stage = 'Lost' WHERE object_id = fx('v1') RETURNING name;
UPDATE introw.partner_organizations SET name = 'Renamed' WHERE org_id = fx('alpha') RETURNING name;
UPDATE introw.partner_contacts SET full_name = 'Renamed' WHERE contact_id = fx('rep') RETURNING full_name;
UPDATE introw.tasks SET status = 'done' WHERE task_id = fx('task_onboarding') RETURNING title;
SELECT count(*) AS settings, (SELECT count(*) FROM introw.tab_roles) AS tab_roles,
       (SELECT count(*) FROM introw.crm_sync_runs) AS runs FROM introw.portal_settings;
INSERT INTO introw.portal_settings (tenant_id) VALUES (fx('acme'));

-- a contact updates its organisation's tasks, cannot move or create them
SELECT introw.set_contact(fx('rep'));
UPDATE introw.tasks SET status = 'in_progress' WHERE task_id = fx('task_onboarding') RETURNING title, status;
UPDATE introw.tasks SET org_id = fx('beta') WHERE task_id = fx('task_onboarding');
UPDATE introw.tasks SET status = 'done' WHERE task_id = fx('task_kickoff') RETURNING title;
INSERT INTO introw.tasks (tenant_id, org_id, title) VALUES (fx('acme'), fx('alpha'), 'New task');
UPDATE introw.tasks SET status = 'blocked' WHERE task_id = fx('task_onboarding');

-- Point checks, for the current principal
CREATE FUNCTION pg_temp.sees(who text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.become(who);
    RETURN (SELECT string_agg(k, ' ' ORDER BY k) FROM unnest(ARRAY['a1', 'a2', 'a3', 'al', 'b1', 'bt', 'v1', 'g1']) k
            WHERE introw.can_see_object(fx(k)));
END $$;
SELECT w AS principal, pg_temp.sees(w) AS can_see_object
FROM unnest(ARRAY['rep', 'restricted', 'norole', 'beta_rep', 'gamma_rep', 'crm', 'pm', 'member', 'admin', 'globex_admin']) w;
SELECT introw.can_see_object(-1) AS unknown, introw.can_see_object(NULL) AS null_id;
-- can_see_object agrees with the policy for every principal and object
CREATE FUNCTION pg_temp.disagreements(who text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.become(who);
    RETURN (SELECT count(*) FROM public.fx f
            WHERE f.name IN ('a1', 'a2', 'a3', 'al', 'b1', 'bt', 'v1', 'g1')
              AND introw.can_see_object(f.id) <> EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.object_id = f.id));
END $$;
SELECT sum(pg_temp.disagreements(w)) AS disagreements
FROM unnest(ARRAY['rep', 'se', 'mgr', 'restricted', 'norole', 'beta_rep', 'gamma_rep', 'crm', 'pm', 'member', 'admin', 'globex_admin']) w;

-- Login routing: case-insensitive emails, inactive users refused
SELECT e AS email, introw.portal_login_route(fx('acme'), e) AS route
FROM unnest(ARRAY['crm@acme.test', ' CRM@Acme.TEST ', 'admin@acme.test', 'pm@acme.test', 'rep@alpha.test',
                  'REP@ALPHA.TEST', 'off@acme.test', 'nobody@acme.test', 'rep@gamma.test', '', NULL]) e;
SELECT introw.portal_login_route(NULL, 'crm@acme.test') AS null_tenant,
       introw.portal_login_route(fx('globex'), 'crm@acme.test') AS other_tenant;
SELECT h AS hubspot_user_id, introw.hubspot_card_entry(fx('acme'), h) AS entry
FROM unnest(ARRAY['hs-crm-1', 'HS-CRM-1', 'hs-unknown', '', NULL]) h;
SELECT introw.hubspot_card_entry(fx('globex'), 'hs-crm-1') AS other_tenant;
RESET ROLE;
UPDATE introw.internal_users SET active = false WHERE user_id = fx('crm');
SET ROLE regress_introw_app;
SELECT introw.hubspot_card_entry(fx('acme'), 'hs-crm-1') AS inactive, introw.portal_login_route(fx('acme'), 'crm@acme.test') AS inactive_route;
RESET ROLE;
UPDATE introw.internal_users SET active = true WHERE user_id = fx('crm');
SET ROLE regress_introw_app;

-- The partner card: for any principal that may read the organisation
SELECT introw.set_user(fx('crm'));
SELECT * FROM introw.partner_card(fx('alpha'));
SELECT introw.set_contact(fx('rep'));
SELECT organization, partner_manager_name, partner_champion_name FROM introw.partner_card(fx('alpha'));
SELECT * FROM introw.partner_card(fx('beta'));
SELECT * FROM introw.partner_card(fx('gamma'));
SELECT * FROM introw.partner_card(NULL);
SELECT * FROM introw.partner_card(-1);

-- explain_access, rule by rule, for an admin
SELECT introw.set_user(fx('admin'));
SELECT * FROM introw.explain_access(fx('se'), 'tab', fx('techdocs'));
SELECT * FROM introw.explain_access(fx('rep'), 'tab', fx('techdocs'));
SELECT * FROM introw.explain_access(fx('beta_rep'), 'item', fx('item_alphaplan'));
SELECT * FROM introw.explain_access(fx('norole'), 'object', fx('b1'));
SELECT * FROM introw.explain_access(fx('restricted'), 'object', fx('a1'));
SELECT * FROM introw.explain_access(fx('rep'), 'object', fx('v1'));
SELECT * FROM introw.explain_access(fx('rep'), 'tab', -1);
SELECT * FROM introw.explain_access(fx('rep'), 'gizmo', 1);
SELECT * FROM introw.explain_access(fx('rep'), NULL, 1);
SELECT * FROM introw.explain_access(fx('gamma_rep'), 'tab', fx('globexnews'));
-- its verdicts agree with contact_visible_tab_ids and the object policy
SELECT count(*) AS tab_disagreements
FROM public.fx c, public.fx t
WHERE c.name IN ('rep', 'se', 'mgr', 'restricted', 'norole', 'beta_rep')
  AND t.name IN ('welcome', 'decks', 'leadforms', 'techdocs', 'dashboards', 'agreements', 'alphaplan', 'alphaprice', 'betaplan')
  AND ((SELECT outcome FROM introw.explain_access(c.id, 'tab', t.id) WHERE rule = 'verdict') = 'visible')
      <> (t.id = ANY (introw.contact_visible_tab_ids(c.id)));
SELECT introw.set_user(fx('member'));
SELECT * FROM introw.explain_access(fx('rep'), 'tab', fx('welcome'));
SELECT introw.set_contact(fx('rep'));
SELECT * FROM introw.explain_access(fx('rep'), 'tab', fx('welcome'));
RESET ROLE;
SELECT count(*) AS object_disagreements
FROM public.fx c, public.fx o
WHERE c.name IN ('rep', 'se', 'mgr', 'restricted', 'norole', 'beta_rep')
  AND o.name IN ('a1', 'a2', 'a3', 'al', 'b1', 'bt', 'v1')
  AND ((SELECT outcome FROM introw.explain_access(c.id, 'object', o.id) WHERE rule = 'verdict') = 'visible')
      <> (o.id IN (SELECT k.object_id FROM introw.collaborators k WHERE k.contact_id = c.id)
          OR EXISTS (SELECT 1 FROM introw.crm_objects x
                     JOIN introw.partner_contacts pc ON pc.contact_id = c.id AND pc.org_id = x.org_id
                     JOIN introw.partner_roles r ON r.role_id = pc.role_id AND NOT r.collaboration_restricted
                     WHERE x.object_id = o.id));

-- The submitter stays a collaborator
DELETE FROM introw.collaborators WHERE object_id = fx('a1') AND contact_id = fx('rep');
UPDATE introw.crm_objects SET submitted_by_contact_id = fx('mgr') WHERE object_id = fx('a1');
SELECT string_agg(c.email, ', ' ORDER BY c.email) AS a1_contact_collaborators
FROM introw.collaborators k JOIN introw.partner_contacts c USING (tenant_id, contact_id) WHERE k.object_id = fx('a1');
DELETE FROM introw.collaborators WHERE object_id = fx('a1') AND contact_id = fx('rep');
UPDATE introw.crm_objects SET submitted_by_contact_id = fx('rep') WHERE object_id = fx('a1');
-- a submitter from another organisation is refused
UPDATE introw.crm_objects SET submitted_by_contact_id = fx('beta_rep') WHERE object_id = fx('a1');

-- Ids come from their sequences only: no one squats, probes or renumbers
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('rep'));
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, name) OVERRIDING SYSTEM VALUE
VALUES (fx('acme'), 999999, 'deal', 'squat');
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, name) OVERRIDING SYSTEM VALUE
VALUES (fx('acme'), fx('g1'), 'deal', 'probe') ON CONFLICT (object_id) DO NOTHING;
UPDATE introw.crm_objects SET object_id = DEFAULT WHERE object_id = fx('a1');
-- a contact edits the name, stage and amount of what it collaborates on
UPDATE introw.crm_objects SET object_type = 'company' WHERE object_id = fx('a1');
UPDATE introw.crm_objects SET crm_object_id = 'x' WHERE object_id = fx('a1');
UPDATE introw.crm_objects SET name = 'Alpha deal one', amount = 10000 WHERE object_id = fx('a1') RETURNING name;
-- a contact shares objects of its own organisation only
SELECT introw.set_contact(fx('norole'));
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id) VALUES (fx('acme'), fx('b1'), fx('restricted'));
-- task assignees belong to the task's organisation
SELECT introw.set_contact(fx('rep'));
UPDATE introw.tasks SET assignee_contact_id = fx('beta_rep') WHERE task_id = fx('task_onboarding');
UPDATE introw.tasks SET assignee_contact_id = 424242 WHERE task_id = fx('task_onboarding');
-- a CRM user does not name the submitting partner contact
SELECT introw.set_user(fx('crm'));
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, submitted_by_contact_id, name)
VALUES (fx('acme'), 'deal', fx('alpha'), fx('restricted'), 'by crm');
UPDATE introw.crm_objects SET submitted_by_contact_id = fx('se') WHERE object_id = fx('a1');
RESET ROLE;
-- a submitter never dangles, also on objects without an organisation
BEGIN;
UPDATE introw.crm_objects SET org_id = NULL WHERE object_id = fx('a2');
DELETE FROM introw.partner_contacts WHERE contact_id = fx('se');
SELECT submitted_by_contact_id FROM introw.crm_objects WHERE object_id = fx('a2');
ROLLBACK;

-- The access token: the extension's owner and superusers only
SET ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT access_token FROM introw.crm_connections;
SELECT base_url, role_property FROM introw.crm_connections;
SELECT * FROM introw.crm_connections;

SELECT introw.reset_principal();
RESET ROLE;

-- clean up what this file added to the shared fixture
DELETE FROM introw.crm_objects WHERE name IN ('Restricted registers', 'CRM registers');
UPDATE introw.crm_objects SET stage = 'Negotiation' WHERE object_id = fx('a3');
UPDATE introw.crm_objects SET stage = 'Qualified' WHERE object_id = fx('b1');
UPDATE introw.tasks SET status = 'open' WHERE task_id = fx('task_onboarding');
DELETE FROM introw.collaborators WHERE object_id = fx('a3') AND contact_id = fx('se');
DELETE FROM introw.collaborators WHERE object_id = fx('a1') AND contact_id = fx('mgr');
