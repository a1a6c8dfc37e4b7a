/*-------------------------------------------------------------------------
 *
 * search_words.h
 *	  The words lead search compares (search_words.c): a lead's names and
 *	  company folded (unaccented, lower case) and cut into words, and the
 *	  org's distinct words (leadflow.lead_words), written once per
 *	  statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_SEARCH_WORDS_H
#define LEADFLOW_SEARCH_WORDS_H

#include "postgres.h"

#include "lib/stringinfo.h"

#include "lead.h"

/* longest word kept, in bytes (a longer one is cut at a character) */
#define LEADFLOW_SEARCH_WORD_MAX 47

/* advisory lock key (with the org) of an org's words: "LFSW" */
#define LEADFLOW_SEARCH_WORDS_LOCK 1279677271

extern void LeadflowSearchFold(StringInfo out, const char *raw, int len);
extern int	LeadflowSearchWords(text *const *parts, int nparts, char ***words);
extern void LeadflowSearchWordsSet(LeadflowLead *lead, const LeadflowLead *old);
extern void LeadflowSearchWordsFlush(void);

#endif							/* LEADFLOW_SEARCH_WORDS_H */
