/*-------------------------------------------------------------------------
 *
 * leadflow.h
 *	  The module (leadflow.c): settings and the test failpoint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_H
#define LEADFLOW_H

#include "postgres.h"


/* settings (leadflow.c) */
extern char *leadflow_actor;
extern char *leadflow_org_id;
extern char *leadflow_fail_at;
extern int	leadflow_notify_limit;
extern bool leadflow_notify;
extern int	leadflow_capture_max_bytes;
extern int	leadflow_capture_max_keys;
extern void LeadflowFailpoint(const char *stage);

#endif							/* LEADFLOW_H */
