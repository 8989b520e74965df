/*
 * agg_state.c
 *		Text and binary forms of the aggregates' fixed-size state types, and
 *		the allocation rules their transition functions share.
 *
 * Doubles are written with ryu's shortest exact decimal (the digits
 * float8out prints only when extra_float_digits > 0), so the text form
 * round-trips whatever the session's setting; strtod reads them back.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "agg_state.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"

static void
check_slot(const StateLayout *layout, char kind, int64 v, const char *what)
{
	if (kind == 'n' && v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s value \"%s\"", layout->type_name, what),
				 errdetail("A count is negative.")));
}

static void
bad_syntax(const StateLayout *layout, const char *str)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", layout->type_name, str),
			 errdetail_plural("The value is a parenthesized list of %d number.",
							  "The value is a parenthesized list of %d numbers.",
							  strlen(layout->slots), (int) strlen(layout->slots))));
}

Datum
state_in(const StateLayout *layout, const char *str)
{
	int			nslots = strlen(layout->slots);
	char	   *state = palloc0(nslots * 8);
	const char *p = str;

	while (*p == ' ')
		p++;
	if (*p++ != '(')
		bad_syntax(layout, str);
	for (int i = 0; i < nslots; i++)
	{
		char	   *end;

		while (*p == ' ')
			p++;
		errno = 0;
		if (layout->slots[i] == 'd')
		{
			double		v = strtod(p, &end);

			/* Overflow only: shortest-exact output never underflows. */
			if (end == p || (errno == ERANGE && isinf(v)))
				bad_syntax(layout, str);
			memcpy(state + i * 8, &v, 8);
		}
		else
		{
			int64		v = strtoi64(p, &end, 10);

			if (end == p || errno == ERANGE)
				bad_syntax(layout, str);
			check_slot(layout, layout->slots[i], v, str);
			memcpy(state + i * 8, &v, 8);
		}
		p = end;
		while (*p == ' ')
			p++;
		if (*p++ != (i == nslots - 1 ? ')' : ','))
			bad_syntax(layout, str);
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		bad_syntax(layout, str);
	return PointerGetDatum(state);
}

Datum
state_out(const StateLayout *layout, const void *state)
{
	int			nslots = strlen(layout->slots);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int i = 0; i < nslots; i++)
	{
		const char *slot = (const char *) state + i * 8;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (layout->slots[i] == 'd')
		{
			double		v;

			memcpy(&v, slot, 8);
			enlargeStringInfo(&buf, DOUBLE_SHORTEST_DECIMAL_LEN);
			buf.len += double_to_shortest_decimal_bufn(v, buf.data + buf.len);
			buf.data[buf.len] = '\0';
		}
		else
		{
			int64		v;

			memcpy(&v, slot, 8);
			appendStringInfo(&buf, INT64_FORMAT, v);
		}
	}
	appendStringInfoChar(&buf, ')');
	return CStringGetDatum(buf.data);
}

Datum
state_recv(const StateLayout *layout, StringInfo buf)
{
	int			nslots = strlen(layout->slots);
	char	   *state = palloc0(nslots * 8);

	for (int i = 0; i < nslots; i++)
	{
		if (layout->slots[i] == 'd')
		{
			double		v = pq_getmsgfloat8(buf);

			memcpy(state + i * 8, &v, 8);
		}
		else
		{
			int64		v = pq_getmsgint64(buf);

			check_slot(layout, layout->slots[i], v, "(binary)");
			memcpy(state + i * 8, &v, 8);
		}
	}
	return PointerGetDatum(state);
}

Datum
state_send(const StateLayout *layout, const void *state)
{
	int			nslots = strlen(layout->slots);
	StringInfoData buf;

	pq_begintypsend(&buf);
	for (int i = 0; i < nslots; i++)
	{
		const char *slot = (const char *) state + i * 8;

		if (layout->slots[i] == 'd')
		{
			double		v;

			memcpy(&v, slot, 8);
			pq_sendfloat8(&buf, v);
		}
		else
		{
			int64		v;

			memcpy(&v, slot, 8);
			pq_sendint64(&buf, v);
		}
	}
	return PointerGetDatum(pq_endtypsend(&buf));
}

Datum
state_eq(const StateLayout *layout, const void *a, const void *b)
{
	return BoolGetDatum(memcmp(a, b, strlen(layout->slots) * 8) == 0);
}

Datum
state_hash(const StateLayout *layout, const void *state)
{
	return hash_any((const unsigned char *) state, strlen(layout->slots) * 8);
}

void *
state_for_update(FunctionCallInfo fcinfo, Size size)
{
	void	   *state;

	if (PG_ARGISNULL(0))
		return NULL;
	state = PG_GETARG_POINTER(0);
	/* Called outside an aggregate, the argument is not ours to change. */
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		void	   *copy = palloc(size);

		memcpy(copy, state, size);
		state = copy;
	}
	return state;
}

void *
state_new(Size size)
{
	/*
	 * Allocated in the per-call context: the executor copies a new state
	 * into the aggregate context once, and later rows update that copy.
	 */
	return palloc0(size);
}

void
state_seed(FunctionCallInfo fcinfo, const void *seed, Size size)
{
	void	   *state;

	if (!PG_ARGISNULL(0) || seed == NULL)
		return;
	state = state_new(size);
	memcpy(state, seed, size);
	fcinfo->args[0].value = PointerGetDatum(state);
	fcinfo->args[0].isnull = false;
}

void *
agg_internal_state(FunctionCallInfo fcinfo, Size size, const char *fname)
{
	MemoryContext aggcontext;

	/*
	 * Only the executor can hand over a non-NULL internal value (SQL cannot
	 * make one), so the call context needs checking on the first row only.
	 */
	if (!PG_ARGISNULL(0))
		return PG_GETARG_POINTER(0);
	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return MemoryContextAllocZero(aggcontext, size);
}

void *
agg_inverse_state(FunctionCallInfo fcinfo, const char *fname)
{
	/* As above: a non-NULL internal state comes from the executor. */
	if (PG_ARGISNULL(0))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return PG_GETARG_POINTER(0);
}
