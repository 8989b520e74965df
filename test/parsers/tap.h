/*
 * tap.h
 *		"ok - ..." / "not ok - ..." lines for the C test programs.
 */
#ifndef STOCKEXT_TEST_TAP_H
#define STOCKEXT_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	failures;

static void ok(int cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	printf(cond ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		failures++;
}

#endif							/* STOCKEXT_TEST_TAP_H */
