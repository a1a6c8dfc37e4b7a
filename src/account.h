/*-------------------------------------------------------------------------
 *
 * account.h
 *	  Account-based scoring (account.c): accounts that turn hot or cool.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_ACCOUNT_H
#define LEADFLOW_ACCOUNT_H

#include "postgres.h"


/* one maintenance pass: accounts that turned hot, and that cooled */
extern void LeadflowAccountMaintain(Datum *args, const char *nulls, uint64 *hot, uint64 *cooled);

#endif							/* LEADFLOW_ACCOUNT_H */
