/*
 * http.h
 *		Concurrent HTTP GETs (and JSON POSTs) over the libcurl multi interface.
 *
 * Plain C with malloc, no palloc/ereport/SPI: nothing here can raise a
 * PostgreSQL error while libcurl memory is held, and test/suites/25-mock
 * drives it against the mock provider outside the server.
 *
 * Use: one HttpClient per process (or per backfill call).  http_add() queues
 * GETs; the caller's loop calls http_wait(client, 100) between latch checks
 * and takes finished requests with http_next_done(), parses req->body, and
 * frees each with http_request_free().  A caller that may raise an error
 * while requests are pending (CHECK_FOR_INTERRUPTS in a synchronous
 * backfill) frees the client in PG_CATCH:
 *
 *		PG_TRY();
 *		{
 *			while (http_wait(client, 100) > 0)
 *				CHECK_FOR_INTERRUPTS();
 *		}
 *		PG_CATCH();
 *		{
 *			http_client_free(client);
 *			PG_RE_THROW();
 *		}
 *		PG_END_TRY();
 *
 * Every transfer has connect and total timeouts, verifies TLS peers and
 * host names, accepts compressed bodies, sets NOSIGNAL, follows at most 3
 * http(s) redirects and stops reading past max_body bytes.
 */
#ifndef STOCKEXT_HTTP_H
#define STOCKEXT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* How a transfer ended. */
typedef enum HttpOutcome
{
	HTTP_PENDING,				/* still running */
	HTTP_DONE,					/* a whole reply: see status and body */
	HTTP_TIMEOUT,				/* connect or total timeout */
	HTTP_TOO_LARGE,				/* body longer than max_body: dropped */
	HTTP_TRUNCATED,				/* the connection closed before the body ended */
	HTTP_FAILED					/* DNS, connect, TLS or protocol failure */
} HttpOutcome;

typedef struct HttpOptions
{
	long		connect_timeout_ms; /* 0: 10 s */
	long		total_timeout_ms;	/* 0: 30 s */
	size_t		max_body;		/* 0: 64 MB */
} HttpOptions;

/*
 * User-Agent of every request, unless browser_ua is asked for.
 * STOCKEXT_VERSION is default_version of stockext.control, set by the build.
 */
#define HTTP_USER_AGENT "stockext/" STOCKEXT_VERSION

typedef struct HttpRequest
{
	void	   *user;			/* the caller's tag from http_add */
	HttpOutcome outcome;
	long		status;			/* HTTP status, 0 when none was received */
	char	   *body;			/* malloc'd, NUL-terminated; NULL when empty */
	size_t		len;
	char		error[256];		/* why, when not HTTP_DONE (CURL_ERROR_SIZE) */
	double		seconds;		/* wall time of the transfer */
	/* private */
	void	   *easy;
	void	   *headers;		/* curl_slist of a POST */
	size_t		cap;
	size_t		max_body;
	bool		too_large;
	struct HttpRequest *next;
} HttpRequest;

typedef struct HttpClient HttpClient;

/* A client, or NULL when libcurl cannot be initialised. */
extern HttpClient *http_client_new(const HttpOptions *options);

/*
 * Queues a GET of url; browser_ua sends a current browser's User-Agent
 * (Yahoo answers 429 to unknown agents).  user is handed back in the
 * request.  Returns NULL when out of memory or libcurl refuses the URL.
 */
extern HttpRequest *http_add(HttpClient *client, const char *url, bool browser_ua, void *user);

/* Queues a POST of a JSON body (copied) to url; otherwise as http_add. */
extern HttpRequest *http_add_post_json(HttpClient *client, const char *url, const char *body,
									   void *user);

/*
 * Runs the transfers, waiting at most timeout_ms for network activity.
 * Returns how many requests are not yet taken with http_next_done (running
 * or finished), so "while (http_wait(c, 100) > 0)" runs them all.
 */
extern int	http_wait(HttpClient *client, int timeout_ms);

/* A finished request, now the caller's, or NULL when none is. */
extern HttpRequest *http_next_done(HttpClient *client);

extern void http_request_free(HttpRequest *req);

/* Aborts the running transfers and frees everything the client holds. */
extern void http_client_free(HttpClient *client);

#endif							/* STOCKEXT_HTTP_H */
