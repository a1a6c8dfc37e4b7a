-- Subtransactions: an error caught inside a statement on leads (an
-- application trigger's EXCEPTION block, a function that catches an error)
-- takes exactly its own changes with it.  The journey rows, rotation state
-- and prediction counts the statement buffered for its other rows are all
-- written: every lead keeps its journey, rep_load equals a recount, round
-- robin stays exact, prediction counts equal a retrain.
\set VERBOSITY terse
-- lead ids of this file start at 94001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 94000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (94, 'Subtransaction Org');
UPDATE leadflow.scoring_models SET hot_at = 100, escalate_at = 101 WHERE org_id = 94;   -- no hot re-routing here
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (94, 941, 'Round', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES
  (94, 9401, 941, 'Ann'), (94, 9402, 941, 'Ben'), (94, 9403, 941, 'Cid');
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, team_id) VALUES
  (94, 9411, 10, 'Everyone', 'live', '{"all": []}', 'team', 941);

-- a prediction model, trained on two closed leads, so that closing leads
-- moves counts
INSERT INTO leadflow.leads (org_id, email, source, industry, job_title)
VALUES (94, 'seed1@soft.example', 'web_form', 'Software', 'CTO'),
       (94, 'seed2@shop.example', 'trade_show', 'Retail', 'Clerk');
SELECT leadflow.convert_lead(94001) IS NOT NULL AS converted;
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id = 94002;
SELECT leadflow.train_model(94) AS training_leads;

-- What must hold after each statement below, as counts that are 0 when
-- it does.  Open leads are the statuses LeadflowStatusIsOpen counts.
CREATE TEMP VIEW open_leads_94 AS
SELECT owner_rep_id, count(*) AS n FROM leadflow.leads
 WHERE org_id = 94 AND owner_rep_id IS NOT NULL AND merged_into IS NULL AND erased_at IS NULL
   AND status IN ('new', 'contacted', 'qualified', 'nurture')
 GROUP BY owner_rep_id;
CREATE TEMP VIEW retrain_94 AS
SELECT f.feature, f.value, count(*) FILTER (WHERE l.status = 'converted') AS converted,
       count(*) FILTER (WHERE l.status <> 'converted') AS lost
  FROM leadflow.leads l, leadflow.lead_features(l) f
 WHERE l.org_id = 94 AND l.status IN ('converted', 'unqualified', 'archived')
 GROUP BY 1, 2
UNION ALL
SELECT '_total', '', count(*) FILTER (WHERE l.status = 'converted'), count(*) FILTER (WHERE l.status <> 'converted')
  FROM leadflow.leads l
 WHERE l.org_id = 94 AND l.status IN ('converted', 'unqualified', 'archived');
CREATE TEMP VIEW checks_94 AS
SELECT (SELECT count(*) FROM leadflow.leads l WHERE l.org_id = 94
           AND NOT EXISTS (SELECT FROM leadflow.lead_journey j
                            WHERE j.org_id = 94 AND j.lead_id = l.lead_id AND j.kind = 'created')) AS without_created,
       (SELECT count(*) FROM leadflow.leads l WHERE l.org_id = 94 AND l.owner_rep_id IS NOT NULL
           AND NOT EXISTS (SELECT FROM leadflow.journey_events j
                            WHERE j.org_id = 94 AND j.lead_id = l.lead_id AND j.kind = 'routed')) AS owned_without_routed,
       (SELECT count(*) FROM leadflow.verify_journey(94)) AS journey_problems,
       (SELECT count(*) FROM leadflow.reps r
          LEFT JOIN leadflow.rep_load rl ON rl.org_id = 94 AND rl.rep_id = r.rep_id
          LEFT JOIN open_leads_94 o ON o.owner_rep_id = r.rep_id
         WHERE r.org_id = 94 AND COALESCE(rl.open_leads, 0) <> COALESCE(o.n, 0)) AS rep_load_wrong,
       (SELECT max(n) - min(n) FROM (SELECT count(l.lead_id) AS n FROM leadflow.reps r
          LEFT JOIN leadflow.leads l ON l.org_id = 94 AND l.owner_rep_id = r.rep_id AND l.lead_id > 94002
         WHERE r.org_id = 94 GROUP BY r.rep_id) x) AS round_robin_spread,
       (SELECT count(*) FROM (SELECT feature, value, converted, lost FROM leadflow.prediction_counts WHERE org_id = 94
                               EXCEPT ALL SELECT * FROM retrain_94) a)
     + (SELECT count(*) FROM (SELECT * FROM retrain_94
                               EXCEPT ALL SELECT feature, value, converted, lost FROM leadflow.prediction_counts
                                WHERE org_id = 94) b) AS counts_wrong;
-- journey rows per lead, as a distribution: a lead that lost its rows shows
CREATE TEMP VIEW journey_rows_94 AS
SELECT rows_per_lead, count(*) AS leads
  FROM (SELECT l.lead_id, count(j.seq) AS rows_per_lead
          FROM leadflow.leads l LEFT JOIN leadflow.lead_journey j ON j.org_id = 94 AND j.lead_id = l.lead_id
         WHERE l.org_id = 94 AND l.lead_id > 94002 GROUP BY l.lead_id) x
 GROUP BY 1 ORDER BY 1;

-- (a) an application AFTER ROW trigger with an EXCEPTION block: every
-- lead is marked high priority and copied to a CRM table, which refuses
-- some (a caught error after the UPDATE: the UPDATE goes too).  The
-- UPDATE is a statement on leads of its own, inside the block: its end
-- writes the buffers, including the rows of the outer INSERT, and the
-- caught error rolls that write back.
CREATE TABLE public.crm_copy (lead_id bigint PRIMARY KEY, email text NOT NULL);
CREATE FUNCTION public.copy_to_crm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        UPDATE leadflow.leads SET priority = 'high' WHERE lead_id = NEW.lead_id;
        IF NEW.attributes ? 'crm_refuses' THEN
            RAISE EXCEPTION 'crm refuses %', NEW.email;
        END IF;
        INSERT INTO public.crm_copy VALUES (NEW.lead_id, NEW.attributes->>'crm_email');
    EXCEPTION WHEN raise_exception OR not_null_violation THEN
        NULL;
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_copy_to_crm AFTER INSERT ON leadflow.leads
    FOR EACH ROW WHEN (NEW.org_id = 94) EXECUTE FUNCTION public.copy_to_crm();
-- two statements of ten leads (7, 7 and 6 leads for the three reps, with
-- the two above); the CRM refuses the first lead of each, so the caught
-- error rolls back a write of every row buffered so far, and then 2 more
-- of each; every fourth lead has no CRM email
INSERT INTO leadflow.leads (org_id, email, attributes)
SELECT 94, 'a' || n || '@gmail.com',
       CASE WHEN n % 10 % 3 = 1 THEN '{"crm_refuses": true}'
            WHEN n % 4 = 0 THEN '{}'
            ELSE jsonb_build_object('crm_email', 'a' || n || '@crm.example') END
  FROM generate_series(1, 10) n;
INSERT INTO leadflow.leads (org_id, email, attributes)
SELECT 94, 'a' || n || '@gmail.com',
       CASE WHEN n % 10 % 3 = 1 THEN '{"crm_refuses": true}'
            WHEN n % 4 = 0 THEN '{}'
            ELSE jsonb_build_object('crm_email', 'a' || n || '@crm.example') END
  FROM generate_series(11, 20) n;
SELECT count(*) AS copied FROM public.crm_copy;
SELECT priority, count(*) FROM leadflow.leads WHERE org_id = 94 AND lead_id > 94002 GROUP BY 1 ORDER BY 1;
SELECT owner_rep_id, count(*) FROM leadflow.leads WHERE org_id = 94 AND lead_id > 94002 GROUP BY 1 ORDER BY 1;
SELECT rep_id, open_leads, assigned_total FROM leadflow.rep_load WHERE org_id = 94 ORDER BY rep_id;
SELECT * FROM checks_94;
SELECT * FROM journey_rows_94;
DROP TRIGGER leads_copy_to_crm ON leadflow.leads;

-- (b) INSERT ... SELECT calling a function that catches an error: every
-- third row's caught division by zero aborts a subtransaction between the
-- rows the statement routed
CREATE FUNCTION public.region_of(n integer) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE WHEN 1 / (n % 3) > 0 THEN 'GB' END;
EXCEPTION WHEN division_by_zero THEN
    RETURN 'IE';
END $$;
INSERT INTO leadflow.leads (org_id, email, country)
SELECT 94, 'b' || n || '@gmail.com', public.region_of(n) FROM generate_series(1, 12) n;
SELECT country, count(*) FROM leadflow.leads WHERE org_id = 94 AND email LIKE 'b%' GROUP BY 1 ORDER BY 1;
SELECT owner_rep_id, count(*) FROM leadflow.leads WHERE org_id = 94 AND lead_id > 94002 GROUP BY 1 ORDER BY 1;
SELECT * FROM checks_94;
SELECT * FROM journey_rows_94;

-- (c) UPDATE ... SET status over many leads, with a caught error for every
-- fourth: leads close (rep_load goes down, prediction counts move, each
-- lead journals the change) between the aborted subtransactions
CREATE FUNCTION public.checked_title(lead_id bigint, title text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF lead_id % 4 = 0 THEN
        RAISE EXCEPTION 'no title check for lead %', lead_id;
    END IF;
    RETURN COALESCE(title, 'Buyer');
EXCEPTION WHEN raise_exception THEN
    RETURN title;
END $$;
UPDATE leadflow.leads l SET status = 'unqualified', job_title = public.checked_title(l.lead_id, l.job_title)
 WHERE org_id = 94 AND lead_id > 94002 AND lead_id % 2 = 0;
SELECT status, count(*) FROM leadflow.leads WHERE org_id = 94 GROUP BY 1 ORDER BY 1;
SELECT rep_id, open_leads FROM leadflow.rep_load WHERE org_id = 94 ORDER BY rep_id;
SELECT * FROM checks_94;
SELECT * FROM journey_rows_94;
SELECT converted, lost FROM leadflow.prediction_counts WHERE org_id = 94 AND feature = '_total';

-- the same in one transaction, with savepoints: a statement rolled back to
-- a savepoint takes its own rows and nothing else
BEGIN;
INSERT INTO leadflow.leads (org_id, email) SELECT 94, 'd' || n || '@gmail.com' FROM generate_series(1, 4) n;
SAVEPOINT s;
INSERT INTO leadflow.leads (org_id, email) SELECT 94, 'e' || n || '@gmail.com' FROM generate_series(1, 4) n;
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'test' WHERE org_id = 94 AND email LIKE 'd%';
ROLLBACK TO SAVEPOINT s;
UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 94 AND email = 'd1@gmail.com';
COMMIT;
SELECT count(*) FILTER (WHERE email LIKE 'd%') AS kept, count(*) FILTER (WHERE email LIKE 'e%') AS rolled_back
  FROM leadflow.leads WHERE org_id = 94;
SELECT * FROM checks_94;

-- nested blocks: each iteration routes a lead in a subtransaction and
-- closes it in a nested one; the inner one fails for every third, the
-- outer one for every second (after its inner one committed into it)
DO $$
BEGIN
    FOR i IN 1..6 LOOP
        BEGIN
            INSERT INTO leadflow.leads (org_id, email) VALUES (94, 'n' || i || '@gmail.com');
            BEGIN
                UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 94 AND email = 'n' || i || '@gmail.com';
                IF i % 3 = 0 THEN
                    RAISE EXCEPTION 'inner';
                END IF;
            EXCEPTION WHEN raise_exception THEN
                NULL;
            END;
            IF i % 2 = 0 THEN
                RAISE EXCEPTION 'outer';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
END $$;
SELECT email, status FROM leadflow.leads WHERE org_id = 94 AND email LIKE 'n%' ORDER BY email;
SELECT * FROM checks_94;

-- a retrain finds nothing to change
SELECT leadflow.train_model(94) AS training_leads;
SELECT * FROM checks_94;

-- a subtransaction that wrote counts and rolled back leaves no trace in
-- the probabilities computed after it: the counts it cached are read again
BEGIN;
SAVEPOINT s;
UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 94 AND status = 'new' AND email LIKE 'b%';
INSERT INTO leadflow.leads (org_id, email, source) VALUES (94, 'p1@gmail.com', 'web_form');
ROLLBACK TO SAVEPOINT s;
INSERT INTO leadflow.leads (org_id, email, source) VALUES (94, 'p2@gmail.com', 'web_form');
COMMIT;
-- (a new session reads the counts afresh)
\c
SELECT l.conversion_probability = 1 / (1 + exp(-(SELECT e.weight FROM leadflow.explain_prediction(l.lead_id) e
                                                   WHERE e.factor = 'probability'))) AS same_probability
  FROM leadflow.leads l WHERE l.org_id = 94 AND l.email = 'p2@gmail.com';

DROP FUNCTION public.copy_to_crm();
DROP FUNCTION public.region_of(integer);
DROP FUNCTION public.checked_title(bigint, text);
DROP TABLE public.crm_copy;
