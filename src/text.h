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

/* an inserted value quoted for an error message, cut if long */
extern char *LeadflowQuote(const char *value);

/*
 * Journey details and notifications are small JSON objects built as text;
 * these append one "key": value member (the caller writes the braces).
 */
extern void LeadflowDetailInt(StringInfo buf, const char *key, int64 value);
extern void LeadflowDetailText(StringInfo buf, const char *key, const char *value);

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
