-- Routing: named accounts, company affinity, ordered rules (rep, team,
-- queue), strategies, availability (inactive, not accepting, away,
-- capacity), fall-through, shadow rules, explanation, simulation, replay,
-- reassignment, rule changes between inserts.
\set VERBOSITY terse
-- lead ids of this file start at 40001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 40000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (40, 'Route Org', '{"default_region": "GB"}');
UPDATE leadflow.scoring_models SET hot_at = 100, escalate_at = 101 WHERE org_id = 40;   -- no hot re-routing here

INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES
  (40, 401, 'Round', 'round_robin'), (40, 402, 'Weighted', 'weighted_round_robin'),
  (40, 403, 'Balanced', 'load_balanced');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, active, accepting_leads, max_open_leads, weight, away_from, away_until) VALUES
  (40, 4101, 401, 'Ann',   true,  true,  NULL, 1, NULL, NULL),
  (40, 4102, 401, 'Ben',   true,  true,  NULL, 1, NULL, NULL),
  (40, 4103, 401, 'Cid',   true,  true,  NULL, 1, NULL, NULL),
  (40, 4104, 401, 'Dee',   false, true,  NULL, 1, NULL, NULL),                         -- inactive
  (40, 4105, 401, 'Eve',   true,  false, NULL, 1, NULL, NULL),                         -- not accepting
  (40, 4106, 401, 'Fay',   true,  true,  NULL, 1, now() - interval '1 day', now() + interval '1 day'),  -- away
  (40, 4201, 402, 'Gus',   true,  true,  NULL, 3, NULL, NULL),
  (40, 4202, 402, 'Hal',   true,  true,  NULL, 1, NULL, NULL),
  (40, 4301, 403, 'Ida',   true,  true,  2,    1, NULL, NULL),
  (40, 4302, 403, 'Jon',   true,  true,  NULL, 1, NULL, NULL),
  (40, 4401, NULL, 'Kim',  true,  true,  1,    1, NULL, NULL);                         -- capacity 1
INSERT INTO leadflow.accounts (org_id, account_id, name, domain, owner_rep_id) VALUES
  (40, 4501, 'Acme', 'acme.co.uk', 4302), (40, 4502, 'Globex', 'globex.example', 4104);
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id) VALUES
  (40, 4601, 10, 'Students to queue', 'live', '{"field": "job_title", "op": "contains", "value": "student"}', 'queue', NULL, NULL),
  (40, 4602, 20, 'Kim takes VIPs', 'live', '{"field": "attributes.vip", "op": "eq", "value": true}', 'rep', 4401, NULL),
  (40, 4603, 30, 'Germany weighted', 'live', '{"field": "country", "op": "eq", "value": "DE"}', 'team', NULL, 402),
  (40, 4604, 40, 'France balanced', 'live', '{"field": "country", "op": "eq", "value": "FR"}', 'team', NULL, 403),
  (40, 4605, 50, 'Trial: UK to Balanced', 'shadow', '{"field": "country", "op": "eq", "value": "GB"}', 'team', NULL, 403),
  (40, 4606, 60, 'Everyone else', 'live', '{"all": []}', 'team', NULL, 401);

-- round robin skips the inactive, the paused and the away, in rep_id order
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 40, 'rr' || n || '@gmail.com', 'GB' FROM generate_series(1, 7) n;
SELECT email, owner_rep_id, team_id FROM leadflow.leads WHERE org_id = 40 ORDER BY lead_id;
SELECT step, rule_name, rep_id, outcome FROM leadflow.explain_routing(40001);

-- the shadow rule was evaluated for the GB leads and logged, never obeyed
-- (in each lead's created journey row: journey_events shows them as events)
SELECT count(*) AS shadow_decisions, count(*) FILTER (WHERE (detail->>'agrees')::boolean) AS agreeing
  FROM leadflow.journey_events WHERE org_id = 40 AND kind = 'shadow_routed';
SELECT detail - 'live_rep_id' - 'agrees' AS detail FROM leadflow.journey_events
 WHERE org_id = 40 AND lead_id = 40001 AND kind = 'shadow_routed';
SELECT count(*) AS created_rows_with_shadows FROM leadflow.lead_journey
 WHERE org_id = 40 AND kind = 'created' AND detail -> 'routed' ? 'shadow_routed';

-- weighted: 3:1 over 8 leads
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 40, 'de' || n || '@gmail.com', 'DE' FROM generate_series(1, 8) n;
SELECT owner_rep_id, count(*) FROM leadflow.leads WHERE org_id = 40 AND country = 'DE' GROUP BY 1 ORDER BY 1;

-- load balanced: fewest open leads; Ida's cap of 2 then sends the rest to Jon
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 40, 'fr' || n || '@gmail.com', 'FR' FROM generate_series(1, 5) n;
SELECT owner_rep_id, count(*) FROM leadflow.leads WHERE org_id = 40 AND country = 'FR' GROUP BY 1 ORDER BY 1;
SELECT step, rep_id, outcome FROM leadflow.explain_routing(40020);

-- named account: the owner gets it; an inactive owner falls through to the rules
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'buyer@mail.acme.co.uk', 'GB')
RETURNING owner_rep_id, account_id;
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'cto@globex.example', 'GB')
RETURNING owner_rep_id, account_id, team_id;
SELECT step, rep_id, outcome FROM leadflow.explain_routing(currval(pg_get_serial_sequence('leadflow.leads', 'lead_id')));

-- company affinity: a colleague of an owned lead goes to the same owner
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'one@initech.example', 'FR') RETURNING owner_rep_id AS initech_owner \gset
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'two@initech.example', 'GB')
RETURNING owner_rep_id = :initech_owner AS same_owner;

-- rep rule: Kim gets the first VIP, is then at capacity: the next falls through
INSERT INTO leadflow.leads (org_id, email, country, attributes) VALUES (40, 'vip1@gmail.com', 'GB', '{"vip": true}')
RETURNING owner_rep_id;
INSERT INTO leadflow.leads (org_id, email, country, attributes) VALUES (40, 'vip2@gmail.com', 'GB', '{"vip": true}')
RETURNING owner_rep_id, team_id;
SELECT step, rep_id, outcome FROM leadflow.explain_routing(currval(pg_get_serial_sequence('leadflow.leads', 'lead_id')));

-- queue rule: left unassigned on purpose, visible in the unassigned queue
INSERT INTO leadflow.leads (org_id, email, job_title, country) VALUES (40, 'kid@uni.example', 'Student', 'GB')
RETURNING owner_rep_id;
SELECT lead_id = currval(pg_get_serial_sequence('leadflow.leads', 'lead_id')) AS the_student, routing_path
  FROM leadflow.unassigned_queue WHERE org_id = 40;

-- open-lead counts follow routing, owner changes and closing
SELECT rep_id, open_leads, assigned_total FROM leadflow.rep_load WHERE org_id = 40 ORDER BY rep_id;
SELECT l.owner_rep_id, count(*) AS open_leads FROM leadflow.leads l
 WHERE l.org_id = 40 AND l.owner_rep_id IS NOT NULL AND l.merged_into IS NULL
   AND l.status IN ('new', 'contacted', 'qualified', 'nurture')
 GROUP BY 1 ORDER BY 1;
UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 40 AND email = 'vip1@gmail.com';
SELECT open_leads FROM leadflow.rep_load WHERE org_id = 40 AND rep_id = 4401;

-- simulate = what a fresh lead actually gets
SELECT path, rule_name, team_id, rep_id FROM leadflow.simulate_routing(40, '{"email": "sim@gmail.com", "country": "DE"}');
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'sim@gmail.com', 'DE') RETURNING owner_rep_id, team_id;
SELECT path, rep_id FROM leadflow.simulate_routing(40, '{"email": "x@acme.co.uk"}');
SELECT * FROM leadflow.simulate_routing(40, '{"email": "not an email"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- a rule change applies to the next insert
UPDATE leadflow.routing_rules SET predicate = '{"field": "country", "op": "in", "value": ["DE", "AT"]}' WHERE rule_id = 4603;
INSERT INTO leadflow.leads (org_id, email, country) VALUES (40, 'wien@gmail.com', 'AT') RETURNING team_id;

-- replay: today's rules over past leads, nothing assigned
UPDATE leadflow.routing_rules SET mode = 'shadow' WHERE rule_id = 4603;  -- switch Germany off
SELECT count(*) AS replayed, count(*) FILTER (WHERE changed) AS would_change,
       count(*) FILTER (WHERE changed AND would_path = 'rule' AND would_rep_id BETWEEN 4101 AND 4103) AS to_round
  FROM leadflow.replay_routing(40, '-infinity');
SELECT count(*) AS still_weighted FROM leadflow.leads WHERE org_id = 40 AND team_id = 402;

-- reassignment: never to the current owner; journaled with the reason
SELECT owner_rep_id AS before FROM leadflow.leads WHERE lead_id = 40001;
SELECT leadflow.reassign_lead(40001, 'sla_breach') AS after;
SELECT detail->>'path' AS path, detail->>'reason' AS reason FROM leadflow.lead_journey
 WHERE lead_id = 40001 AND kind = 'routed' ORDER BY seq DESC LIMIT 1;
SELECT leadflow.reassign_lead(40001, '');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.reassign_lead(-5, 'x');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- rule hits for the routing report
SELECT rule_id, hits, shadow_hits FROM leadflow.routing_rule_stats WHERE org_id = 40 ORDER BY rule_id;

-- a rep who owns leads cannot be deleted; the counts match the leads
DELETE FROM leadflow.reps WHERE org_id = 40 AND rep_id = 4101;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT count(*) AS count_mismatches FROM leadflow.rep_load r
 WHERE r.org_id = 40 AND r.open_leads <> (SELECT count(*) FROM leadflow.leads l
        WHERE l.org_id = 40 AND l.owner_rep_id = r.rep_id AND l.merged_into IS NULL
          AND l.status IN ('new', 'contacted', 'qualified', 'nurture'));
-- colleagues arriving in one statement (a CSV import) share an owner too
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 40, n || '@umbrella.example', 'GB' FROM generate_series(1, 4) n;
SELECT count(DISTINCT owner_rep_id) AS owners, count(*) AS leads
  FROM leadflow.leads WHERE org_id = 40 AND company_domain = 'umbrella.example';
-- weighted shares over 1,000 leads: exactly 3:1 (smooth weighted rotation)
UPDATE leadflow.routing_rules SET mode = 'live' WHERE rule_id = 4603;
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 4000000) \gset
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 40, 'w' || n || '@gmail.com', 'DE' FROM generate_series(1, 1000) n;
SELECT owner_rep_id, count(*) FROM leadflow.leads
 WHERE org_id = 40 AND lead_id > 4000000 GROUP BY 1 ORDER BY 1;

-- a lead nobody owns is routed the moment its score crosses hot_at
UPDATE leadflow.scoring_models SET hot_at = 50 WHERE org_id = 40;
INSERT INTO leadflow.leads (org_id, email, job_title, country) VALUES (40, 'sleeper@uni.example', 'Student', 'GB')
RETURNING lead_id AS sleeper, owner_rep_id \gset
UPDATE leadflow.leads SET score_manual = 60, job_title = 'Head of Research' WHERE lead_id = :sleeper;
SELECT owner_rep_id IS NOT NULL AS owned, temperature FROM leadflow.leads WHERE lead_id = :sleeper;
SELECT detail->>'path' AS path, detail->>'reason' AS reason FROM leadflow.journey_events
 WHERE lead_id = :sleeper AND kind = 'routed' ORDER BY seq, step;
SELECT * FROM leadflow.verify_journey(40);
