/*-------------------------------------------------------------------------
 *
 * text.h
 *	  Pure text helpers (text.c): quoting for error messages and the JSON
 *	  members of journey details and notification payloads.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_TEXT_H
#define LEADFLOW_TEXT_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"

/* an inserted value quoted for an error message, cut if long */
extern char *LeadflowQuote(const char *value);

/*
 * A JSON object built as text (notification payloads) or directly as
 * jsonb (journey details): Begin opens it, members are added in order (key
 * NULL: an array element), Object/Array open a nested one under a key,
 * Close ends the innermost, Finish closes the rest and returns the text
 * (FinishJsonb: the jsonb; then Canonical: its text as jsonb_out writes
 * it, without reading the jsonb back).  BeginIn builds an object as the member key of
 * another jsonb builder, which must not be used until it is finished.
 */
#define LEADFLOW_JSON_MAX_DEPTH 8

typedef struct LeadflowJson
{
	StringInfoData buf;			/* text mode */
	int			depth;
	bool		empty[LEADFLOW_JSON_MAX_DEPTH];
	char		close[LEADFLOW_JSON_MAX_DEPTH];
	/*
	 * jsonb mode: the open containers as in-memory jsonb values (jbvObject,
	 * jbvArray), members appended in place; an object's pairs are put in
	 * jsonb's key order when it closes.  A builder begun in another puts
	 * its object into outer's open container when it closes.
	 */
	bool		jsonb;
	JsonbValue	open[LEADFLOW_JSON_MAX_DEPTH];
	int			cap[LEADFLOW_JSON_MAX_DEPTH];
	struct LeadflowJson *outer;
	MemoryContext cxt;			/* where the values live */
	JsonbValue	result;			/* the object once closed */
} LeadflowJson;

extern void LeadflowJsonBegin(LeadflowJson *j);
extern void LeadflowJsonBeginArray(LeadflowJson *j);
extern void LeadflowJsonBeginJsonb(LeadflowJson *j);
extern void LeadflowJsonBeginIn(LeadflowJson *j, LeadflowJson *outer, const char *key);
extern Jsonb *LeadflowJsonFinishJsonb(LeadflowJson *j);
extern char *LeadflowJsonCanonical(LeadflowJson *j);
extern void LeadflowJsonJsonb(LeadflowJson *j, const char *key, Jsonb *value);
extern void LeadflowJsonInt(LeadflowJson *j, const char *key, int64 value);
extern void LeadflowJsonFloat(LeadflowJson *j, const char *key, double value, int decimals);
extern void LeadflowJsonText(LeadflowJson *j, const char *key, const char *value);
extern void LeadflowJsonBool(LeadflowJson *j, const char *key, bool value);
extern void LeadflowJsonRaw(LeadflowJson *j, const char *key, const char *json);
extern void LeadflowJsonNull(LeadflowJson *j, const char *key);
extern void LeadflowJsonObject(LeadflowJson *j, const char *key);
extern void LeadflowJsonArray(LeadflowJson *j, const char *key);
extern void LeadflowJsonClose(LeadflowJson *j);
extern char *LeadflowJsonFinish(LeadflowJson *j);

/* UTF-8 text of emails and names (email.c, names.c) */
/* ASCII white space, what people type or paste around a value */
static inline bool
LeadflowIsAsciiSpace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

extern bool LeadflowIsAscii(const char *s);
extern void LeadflowAsciiLower(char *s);
extern const char *LeadflowServerToUtf8(const char *s);
extern char *LeadflowUtf8ToServer(char *s);
extern int	LeadflowDecodeUtf8(const unsigned char *p, const unsigned char *end, pg_wchar *c);
extern pg_wchar LeadflowFoldChar(pg_wchar c);
extern bool LeadflowIsInvisible(pg_wchar c);

#endif							/* LEADFLOW_TEXT_H */
