/*-------------------------------------------------------------------------
 *
 * tenant.h
 *	  May this session act for an org (tenant.c): the one check the
 *	  pipeline and every entry point make before they touch a cache or a
 *	  table for an org.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_TENANT_H
#define LEADFLOW_TENANT_H

#include "postgres.h"

/* errors 42501 unless this session may act for the org */
extern void LeadflowCheckOrg(int64 org_id);

/* errors 42501 unless this session may act for every org (org_id NULL) */
extern void LeadflowCheckAllOrgs(void);

/* whether relid is one of leadflow's internal tables (written by leadflow alone) */
extern bool LeadflowIsInternalTable(Oid relid);

/*
 * the role leadflow's own writes of its internal tables run as (their
 * owner), or InvalidOid when the current role may write them itself
 */
extern Oid	LeadflowInternalWriter(void);

#endif							/* LEADFLOW_TENANT_H */
