/*
 * parse_bench.c
 *		Times one large reply parsed over and over in one process, as the
 *		worker does.  Built and run by bench/parsers.sh.
 *
 * Usage: parse_bench PROVIDER FILE json|parse
 *	json		json-c's own parse and free of the whole body as one tree
 *	parse		the provider parser
 * Prints "MS BARS KB": the median CPU time of 9 runs, the bars read and the
 * process's peak resident memory (the body included).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "provider.h"

#define RUNS 9

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	char	   *body;
	long		len;
	double		ms[RUNS];
	size_t		nbars = 0;
	struct rusage ru;

	if (argc != 4)
		return 2;
	f = fopen(argv[2], "rb");
	if (f == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	body = malloc(len);
	if (body == NULL || fread(body, 1, len, f) != (size_t) len)
		return 2;
	fclose(f);
	for (int i = 0; i < RUNS; i++)
	{
		double		t0 = cpu_ms();

		if (strcmp(argv[3], "json") == 0)
		{
			json_tokener *tok = json_tokener_new();

			json_object_put(json_tokener_parse_ex(tok, body, (int) len));
			json_tokener_free(tok);
		}
		else
		{
			ParseResult r;

			if (strcmp(argv[1], "twelvedata") == 0)
				parse_twelvedata(body, len, 200, NULL, &r);
			else if (strcmp(argv[1], "alphavantage") == 0)
				parse_alphavantage(body, len, 200, NULL, &r);
			else
				parse_yahoo(body, len, 200, NULL, &r);
			nbars = r.status == PARSE_OK ? r.nbars : 0;
			parse_result_free(&r);
		}
		ms[i] = cpu_ms() - t0;
	}
	qsort(ms, RUNS, sizeof(double), cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("%.1f %zu %ld\n", ms[RUNS / 2], nbars, ru.ru_maxrss);
	free(body);
	return 0;
}
