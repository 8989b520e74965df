/*
 * http.c
 *		Concurrent HTTP GETs and JSON POSTs over the libcurl multi interface (see http.h).
 *
 * The write callback only appends to a malloc'd buffer and refuses bytes
 * past max_body; nothing here can longjmp out of libcurl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

/* Yahoo's chart API answers 429 to agents it does not know. */
#define HTTP_BROWSER_UA \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " \
	"(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

struct HttpClient
{
	CURLM	   *multi;
	HttpOptions options;
	HttpRequest *running;		/* list of requests in the multi handle */
	HttpRequest *done;			/* finished, not yet taken */
	HttpRequest *done_tail;
	int			nrunning;
	int			ndone;
};

static bool curl_ready = false;

HttpClient *
http_client_new(const HttpOptions *options)
{
	HttpClient *client;

	/* Once per process; not thread-safe, and backends have one thread. */
	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = true;
	}
	client = calloc(1, sizeof(HttpClient));
	if (client == NULL)
		return NULL;
	client->multi = curl_multi_init();
	if (client->multi == NULL)
	{
		free(client);
		return NULL;
	}
	if (options != NULL)
		client->options = *options;
	if (client->options.connect_timeout_ms <= 0)
		client->options.connect_timeout_ms = 10000;
	if (client->options.total_timeout_ms <= 0)
		client->options.total_timeout_ms = 30000;
	if (client->options.max_body == 0)
		client->options.max_body = (size_t) 64 * 1024 * 1024;
	return client;
}

static size_t
http_write(char *data, size_t size, size_t nmemb, void *arg)
{
	HttpRequest *req = arg;
	size_t		n = size * nmemb;

	if (n > req->max_body - req->len)
	{
		req->too_large = true;
		return 0;				/* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (req->len + n + 1 > req->cap)
	{
		size_t		cap = req->cap ? req->cap : 16384;
		char	   *grown;

		while (cap < req->len + n + 1)
			cap *= 2;
		if (cap > req->max_body + 1)
			cap = req->max_body + 1;
		grown = realloc(req->body, cap);
		if (grown == NULL)
			return 0;
		req->body = grown;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->body[req->len] = '\0';
	return n;
}

static bool
http_setup(HttpClient *client, HttpRequest *req, const char *url, bool browser_ua)
{
	CURL	   *easy = req->easy;

	return curl_easy_setopt(easy, CURLOPT_URL, url) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_PRIVATE, req) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_write) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, req) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->error) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, client->options.connect_timeout_ms) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, client->options.total_timeout_ms) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) client->options.max_body) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 3L) == CURLE_OK &&
#if LIBCURL_VERSION_NUM >= 0x075500
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
#else
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK &&
#endif
		curl_easy_setopt(easy, CURLOPT_USERAGENT, browser_ua ? HTTP_BROWSER_UA : HTTP_USER_AGENT) == CURLE_OK;
}

/* A request set up for url and not yet running, or NULL. */
static HttpRequest *
http_new_request(HttpClient *client, const char *url, bool browser_ua, void *user)
{
	HttpRequest *req = calloc(1, sizeof(HttpRequest));

	if (req == NULL)
		return NULL;
	req->user = user;
	req->outcome = HTTP_PENDING;
	req->max_body = client->options.max_body;
	req->easy = curl_easy_init();
	if (req->easy == NULL || !http_setup(client, req, url, browser_ua))
	{
		http_request_free(req);
		return NULL;
	}
	return req;
}

/* Hands a request to the multi handle; frees it and returns NULL on failure. */
static HttpRequest *
http_start(HttpClient *client, HttpRequest *req)
{
	if (curl_multi_add_handle(client->multi, req->easy) != CURLM_OK)
	{
		http_request_free(req);
		return NULL;
	}
	req->next = client->running;
	client->running = req;
	client->nrunning++;
	return req;
}

HttpRequest *
http_add(HttpClient *client, const char *url, bool browser_ua, void *user)
{
	HttpRequest *req = http_new_request(client, url, browser_ua, user);

	return req ? http_start(client, req) : NULL;
}

HttpRequest *
http_add_post_json(HttpClient *client, const char *url, const char *body, void *user)
{
	HttpRequest *req = http_new_request(client, url, false, user);
	struct curl_slist *headers;

	if (req == NULL)
		return NULL;
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	req->headers = headers;
	/* A redirected POST must stay a POST, not turn into a GET. */
	if (headers == NULL ||
		curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body)) != CURLE_OK ||
		curl_easy_setopt(req->easy, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK ||
		curl_easy_setopt(req->easy, CURLOPT_POSTREDIR, (long) CURL_REDIR_POST_ALL) != CURLE_OK)
	{
		http_request_free(req);
		return NULL;
	}
	return http_start(client, req);
}

/* Moves a finished transfer from the running list to the done list. */
static void
http_finish(HttpClient *client, HttpRequest *req, CURLcode code)
{
	HttpRequest **p;

	for (p = &client->running; *p != NULL; p = &(*p)->next)
	{
		if (*p == req)
		{
			*p = req->next;
			break;
		}
	}
	client->nrunning--;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME, &req->seconds);
	if (code == CURLE_OK)
		req->outcome = HTTP_DONE;
	else if (code == CURLE_OPERATION_TIMEDOUT)
		req->outcome = HTTP_TIMEOUT;
	else if (req->too_large || code == CURLE_FILESIZE_EXCEEDED)
		req->outcome = HTTP_TOO_LARGE;
	else if (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR)
		req->outcome = HTTP_TRUNCATED;
	else
		req->outcome = HTTP_FAILED;
	if (code != CURLE_OK && req->error[0] == '\0')
		snprintf(req->error, sizeof(req->error), "%s", curl_easy_strerror(code));
	if (req->outcome == HTTP_TOO_LARGE)
		snprintf(req->error, sizeof(req->error), "reply is larger than %zu bytes", req->max_body);
	curl_multi_remove_handle(client->multi, req->easy);
	req->next = NULL;
	if (client->done_tail)
		client->done_tail->next = req;
	else
		client->done = req;
	client->done_tail = req;
	client->ndone++;
}

int
http_wait(HttpClient *client, int timeout_ms)
{
	int			still;
	int			queued;
	CURLMsg    *msg;

	if (client->nrunning > 0)
	{
		curl_multi_perform(client->multi, &still);
		if (still > 0 && timeout_ms > 0)
		{
			curl_multi_poll(client->multi, NULL, 0, timeout_ms, NULL);
			curl_multi_perform(client->multi, &still);
		}
		while ((msg = curl_multi_info_read(client->multi, &queued)) != NULL)
		{
			HttpRequest *req = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
			if (req != NULL)
				http_finish(client, req, msg->data.result);
		}
	}
	return client->nrunning + client->ndone;
}

HttpRequest *
http_next_done(HttpClient *client)
{
	HttpRequest *req = client->done;

	if (req == NULL)
		return NULL;
	client->done = req->next;
	if (client->done == NULL)
		client->done_tail = NULL;
	client->ndone--;
	req->next = NULL;
	return req;
}

void
http_request_free(HttpRequest *req)
{
	if (req == NULL)
		return;
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	free(req->body);
	free(req);
}

void
http_client_free(HttpClient *client)
{
	HttpRequest *req;

	if (client == NULL)
		return;
	while ((req = client->running) != NULL)
	{
		client->running = req->next;
		curl_multi_remove_handle(client->multi, req->easy);
		http_request_free(req);
	}
	while ((req = http_next_done(client)) != NULL)
		http_request_free(req);
	curl_multi_cleanup(client->multi);
	free(client);
}
