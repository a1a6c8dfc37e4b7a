/*-------------------------------------------------------------------------
 *
 * business_hours.c
 *	  Working time for SLA clocks.  An SLA policy may name business hours
 *	  (sla_policies.business_hours), a JSON object such as
 *
 *		{"time_zone": "Europe/Berlin",
 *		 "mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
 *		 "thu": "09:00-17:00", "fri": ["09:00-12:00", "13:00-17:00"],
 *		 "holidays": ["2026-12-25", "2026-12-26"]}
 *
 *	  Days not named are closed; a day takes one window or a list of them
 *	  ("24:00" ends a day); holidays are local dates.  Windows are local
 *	  wall-clock times of the zone, so a day on which the clocks change
 *	  still opens at 09:00 local time.
 *
 *	  business_minutes(from, to, hours) counts the working minutes between
 *	  two instants; business_deadline(from, duration, hours) is the instant
 *	  at which a duration of working time has passed.  Pure functions, no
 *	  SPI, results in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "text.h"


#define BH_MAX_WINDOWS		8
#define BH_MAX_HOLIDAYS		1000
/* business_deadline gives up (infinity) after this many days */
#define BH_MAX_DAYS			(366 * 20)

typedef struct BhWindow
{
	int			start;			/* minutes after local midnight */
	int			end;			/* exclusive; 1440 = midnight of the next day */
} BhWindow;

typedef struct BusinessHours
{
	pg_tz	   *tz;
	int			nwindows[7];	/* by j2day(): 0 = Sunday */
	BhWindow	windows[7][BH_MAX_WINDOWS];
	int			nholidays;
	int			holidays[BH_MAX_HOLIDAYS];	/* julian days, sorted */
} BusinessHours;

static const char *const day_keys[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static void
refuse(const char *what, const char *value, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid business hours: %s %s", what, LeadflowQuote(value)),
			 hint ? errhint("%s", hint) : 0));
}

static char *
jbv_text(JsonbValue *v)
{
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvBinary)
		return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	return pstrdup("null");
}

/* "HH:MM" with HH 00..24 (24 only as 24:00) into minutes; -1 if malformed */
static int
parse_clock(const char *s, int len)
{
	int			h;
	int			m;

	if (len != 5 || !isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) ||
		s[2] != ':' || !isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static void
add_window(BusinessHours *bh, int day, JsonbValue *v)
{
	const char *hint = "A window is \"HH:MM-HH:MM\" in local time, its start before its end, e.g. \"09:00-17:00\".";
	char	   *s;
	int			start;
	int			end;
	int			i;

	if (v->type != jbvString)
		refuse(psprintf("window of \"%s\":", day_keys[day]), jbv_text(v), hint);
	s = jbv_text(v);
	if (strlen(s) != 11 || s[5] != '-' ||
		(start = parse_clock(s, 5)) < 0 || (end = parse_clock(s + 6, 5)) < 0 ||
		start >= end || start == 1440)
		refuse(psprintf("window of \"%s\":", day_keys[day]), s, hint);
	for (i = 0; i < bh->nwindows[day]; i++)
		if (start < bh->windows[day][i].end && bh->windows[day][i].start < end)
			refuse(psprintf("overlapping windows of \"%s\":", day_keys[day]), s, NULL);
	if (bh->nwindows[day] >= BH_MAX_WINDOWS)
		refuse(psprintf("more than %d windows of \"%s\":", BH_MAX_WINDOWS, day_keys[day]), s, NULL);
	/* keep windows ordered by start */
	for (i = bh->nwindows[day]; i > 0 && bh->windows[day][i - 1].start > start; i--)
		bh->windows[day][i] = bh->windows[day][i - 1];
	bh->windows[day][i].start = start;
	bh->windows[day][i].end = end;
	bh->nwindows[day]++;
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	return (x > y) - (x < y);
}

static void
add_holiday(BusinessHours *bh, JsonbValue *v)
{
	char	   *s = jbv_text(v);
	int			y;
	int			m;
	int			d;
	char		tail;

	if (v->type != jbvString || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
		strlen(s) != 10 || m < 1 || m > 12 || d < 1 || d > day_tab[isleap(y)][m - 1] || y < 1)
		refuse("holiday", s, "Holidays are local dates \"YYYY-MM-DD\".");
	if (bh->nholidays >= BH_MAX_HOLIDAYS)
		refuse("too many holidays, at", s, NULL);
	bh->holidays[bh->nholidays++] = date2j(y, m, d);
}

/*
 * Parses and checks business hours; errors (22023) name the key and value.
 * The result is palloc'd in the current memory context.
 */
static BusinessHours *
parse_business_hours(Jsonb *jb)
{
	BusinessHours *bh = palloc0(sizeof(BusinessHours));
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	char	   *key = NULL;
	int			open_days = 0;
	int			i;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		refuse("expected a JSON object, got", JsonbToCString(NULL, &jb->root, VARSIZE(jb)),
			   "Example: {\"time_zone\": \"Europe/Berlin\", \"mon\": \"09:00-17:00\"}.");

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "time_zone") == 0)
		{
			char	   *name = jbv_text(&v);

			if (v.type != jbvString || (bh->tz = pg_tzset(name)) == NULL || !pg_tz_acceptable(bh->tz))
				refuse("time zone", name, "Use a time zone name such as \"Europe/Berlin\" or \"UTC\".");
		}
		else if (strcmp(key, "holidays") == 0)
		{
			JsonbIterator *hit;
			JsonbValue	h;

			if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
				refuse("holidays must be an array, not", jbv_text(&v), NULL);
			hit = JsonbIteratorInit(v.val.binary.data);
			while ((tok = JsonbIteratorNext(&hit, &h, true)) != WJB_DONE)
				if (tok == WJB_ELEM)
					add_holiday(bh, &h);
		}
		else
		{
			int			day = -1;

			for (i = 0; i < 7; i++)
				if (strcmp(key, day_keys[i]) == 0)
					day = i;
			if (day < 0)
				refuse("unknown key", key,
					   "Keys are time_zone, holidays and the days mon, tue, wed, thu, fri, sat, sun.");
			if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
			{
				JsonbIterator *wit = JsonbIteratorInit(v.val.binary.data);
				JsonbValue	w;

				while ((tok = JsonbIteratorNext(&wit, &w, true)) != WJB_DONE)
					if (tok == WJB_ELEM)
						add_window(bh, day, &w);
			}
			else
				add_window(bh, day, &v);
		}
	}
	if (bh->tz == NULL)
		refuse("missing", "time_zone", "Name the zone the hours are in, e.g. \"time_zone\": \"Europe/Berlin\".");
	for (i = 0; i < 7; i++)
		open_days += bh->nwindows[i] > 0;
	if (open_days == 0)
		refuse("no open day in", JsonbToCString(NULL, &jb->root, VARSIZE(jb)),
			   "Give at least one day a window, e.g. \"mon\": \"09:00-17:00\".");
	qsort(bh->holidays, bh->nholidays, sizeof(int), cmp_int);
	return bh;
}

/* the local date (julian day) of an instant in the zone */
static int
local_julian(TimestampTz t, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;

	if (timestamp2tm(t, &offset, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/* the instant of a local wall-clock time (minutes after midnight of a date) */
static TimestampTz
local_instant(int julian, int minutes, pg_tz *tz)
{
	struct pg_tm tm;
	TimestampTz result;
	int			offset;

	memset(&tm, 0, sizeof(tm));
	j2date(julian + minutes / 1440, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	tm.tm_hour = (minutes % 1440) / 60;
	tm.tm_min = minutes % 60;
	offset = DetermineTimeZoneOffset(&tm, tz);
	if (tm2timestamp(&tm, 0, &offset, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

static bool
is_holiday(const BusinessHours *bh, int julian)
{
	return bh->nholidays > 0 &&
		bsearch(&julian, bh->holidays, bh->nholidays, sizeof(int), cmp_int) != NULL;
}

/* walks the open windows of the business hours, day by day from a date */
typedef struct WindowWalk
{
	const BusinessHours *bh;
	int			julian;			/* the day being walked */
	int			last;			/* the last day to walk */
	int			next;			/* the next window of that day */
} WindowWalk;

static void
walk_start(WindowWalk *w, const BusinessHours *bh, int first, int last)
{
	w->bh = bh;
	w->julian = first;
	w->last = last;
	w->next = 0;
}

/* the next window as instants [*start, *end); false after the last day */
static bool
walk_next(WindowWalk *w, TimestampTz *start, TimestampTz *end)
{
	const BusinessHours *bh = w->bh;

	for (; w->julian <= w->last; w->julian++, w->next = 0)
	{
		int			dow = j2day(w->julian);

		if (w->next >= bh->nwindows[dow] || is_holiday(bh, w->julian))
			continue;
		*start = local_instant(w->julian, bh->windows[dow][w->next].start, bh->tz);
		*end = local_instant(w->julian, bh->windows[dow][w->next].end, bh->tz);
		w->next++;
		return true;
	}
	return false;
}

/* working microseconds in [from, to), from <= to */
static int64
working_usecs(const BusinessHours *bh, TimestampTz from, TimestampTz to)
{
	WindowWalk	w;
	TimestampTz s;
	TimestampTz e;
	int64		total = 0;

	walk_start(&w, bh, local_julian(from, bh->tz), local_julian(to, bh->tz));
	while (walk_next(&w, &s, &e))
	{
		if (s < from)
			s = from;
		if (e > to)
			e = to;
		if (e > s)
			total += e - s;
	}
	return total;
}

/* the instant at which usecs of working time after from have passed */
static TimestampTz
working_deadline(const BusinessHours *bh, TimestampTz from, int64 usecs)
{
	WindowWalk	w;
	TimestampTz s;
	TimestampTz e;
	int			first = local_julian(from, bh->tz);

	walk_start(&w, bh, first, first + BH_MAX_DAYS);
	while (walk_next(&w, &s, &e))
	{
		if (s < from)
			s = from;
		if (e <= s)
			continue;
		if (e - s >= usecs)
			return s + usecs;
		usecs -= e - s;
	}
	return DT_NOEND;
}

static int64
interval_usecs(const Interval *span)
{
	return span->time + (int64) span->day * USECS_PER_DAY +
		(int64) span->month * DAYS_PER_MONTH * USECS_PER_DAY;
}

/*
 * leadflow.business_minutes(from_ts, to_ts, business_hours jsonb)
 *		RETURNS double precision
 *
 * Working minutes between two instants under the business hours; NULL
 * hours count around the clock.  Negative when to_ts is before from_ts.
 */
PG_FUNCTION_INFO_V1(leadflow_business_minutes);
Datum
leadflow_business_minutes(PG_FUNCTION_ARGS)
{
	TimestampTz from;
	TimestampTz to;
	BusinessHours *bh;
	int			sign = 1;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	from = PG_GETARG_TIMESTAMPTZ(0);
	to = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("business minutes need finite timestamps")));
	if (to < from)
	{
		TimestampTz t = from;

		from = to;
		to = t;
		sign = -1;
	}
	if (PG_ARGISNULL(2))
		PG_RETURN_FLOAT8(sign * (double) (to - from) / USECS_PER_MINUTE);
	bh = parse_business_hours(PG_GETARG_JSONB_P(2));
	PG_RETURN_FLOAT8(sign * (double) working_usecs(bh, from, to) / USECS_PER_MINUTE);
}

/*
 * leadflow.business_deadline(from_ts, duration interval, business_hours jsonb)
 *		RETURNS timestamptz
 *
 * When duration of working time after from_ts has passed (months count 30
 * days, days 24 hours of working time); NULL hours: from_ts + duration.
 */
PG_FUNCTION_INFO_V1(leadflow_business_deadline);
Datum
leadflow_business_deadline(PG_FUNCTION_ARGS)
{
	TimestampTz from;
	Interval   *span;
	int64		usecs;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(2))
		return DirectFunctionCall2(timestamptz_pl_interval, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1));
	from = PG_GETARG_TIMESTAMPTZ(0);
	span = PG_GETARG_INTERVAL_P(1);
	usecs = interval_usecs(span);
	if (usecs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("business deadline needs a duration of zero or more, not %s",
						DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(1))))));
	if (TIMESTAMP_NOT_FINITE(from))
		PG_RETURN_TIMESTAMPTZ(from);
	PG_RETURN_TIMESTAMPTZ(working_deadline(parse_business_hours(PG_GETARG_JSONB_P(2)), from, usecs));
}

/*
 * leadflow.check_business_hours(jsonb) RETURNS boolean
 *
 * True for valid business hours; otherwise an error (22023) naming the key
 * and value.  The CHECK constraint of sla_policies.business_hours.
 */
PG_FUNCTION_INFO_V1(leadflow_check_business_hours);
Datum
leadflow_check_business_hours(PG_FUNCTION_ARGS)
{
	(void) parse_business_hours(PG_GETARG_JSONB_P(0));
	PG_RETURN_BOOL(true);
}
