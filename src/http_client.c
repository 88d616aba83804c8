/*-------------------------------------------------------------------------
 * http_client.c
 *		One HTTP POST with libcurl, for the CRM sync worker.
 *
 * Protocols are limited to http and https; every request has a total and a
 * connect timeout; the response body is capped; the Retry-After header is
 * kept.  A progress callback aborts the transfer as soon as the process
 * has an interrupt pending (SIGTERM, cancel) or someone waits to drop its
 * database, so a slow server never delays shutdown or DROP DATABASE by
 * more than a tick.  The request headers (which carry the access token)
 * are never logged or returned; errors describe the transfer only.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "lib/stringinfo.h"

typedef struct Transfer
{
	StringInfo	body;
	size_t		max_body;
	bool		too_large;
	int			retry_after;	/* seconds, -1 when absent */
} Transfer;

static bool curl_ready = false;

static size_t
WriteBody(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = (Transfer *) arg;
	size_t		n = size * nmemb;

	if (t->body->len + n > t->max_body)
	{
		t->too_large = true;
		return 0;				/* makes curl fail with CURLE_WRITE_ERROR */
	}
	appendBinaryStringInfo(t->body, data, (int) n);
	return n;
}

static size_t
ReadHeader(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = (Transfer *) arg;
	size_t		n = size * nmemb;

	if (n > 12 && pg_strncasecmp(data, "retry-after:", 12) == 0)
	{
		char	   *end;
		long		v = strtol(data + 12, &end, 10);

		if (end != data + 12 && v >= 0 && v <= 3600)
			t->retry_after = (int) v;
	}
	return n;
}

/* Returning non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int
Progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return (InterruptPending || CrmShouldStop()) ? 1 : 0;
}

/*
 * POST json to url with a bearer token.  Returns the HTTP status (0 when no
 * response came), the body in *body, Retry-After in *retry_after, and a
 * description of a transport failure in *error (NULL on success);
 * *retryable says whether trying again may help (not for a body too large).
 */
int
HttpPostJson(const char *url, const char *token, const char *json,
			 int timeout_ms, size_t max_body,
			 StringInfo body, int *retry_after, char **error, bool *retryable)
{
	CURL	   *curl;
	struct curl_slist *headers = NULL;
	char	   *auth;
	Transfer	t;
	CURLcode	rc;
	long		status = 0;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			elog(ERROR, "introw: curl_global_init failed");
		curl_ready = true;
	}
	*error = NULL;
	*retryable = true;
	t.body = body;
	t.max_body = max_body;
	t.too_large = false;
	t.retry_after = -1;

	curl = curl_easy_init();
	if (curl == NULL)
		elog(ERROR, "introw: curl_easy_init failed");
	auth = psprintf("Authorization: Bearer %s", token);
	headers = curl_slist_append(headers, auth);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) Min(timeout_ms, 10000));
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, Progress);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "introw_roles/1.0");

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	else if (t.too_large)
	{
		*error = psprintf("response body larger than %zu bytes", max_body);
		*retryable = false;
	}
	else
		*error = psprintf("HTTP request failed: %s", curl_easy_strerror(rc));

	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	/* the token does not outlive the request */
	explicit_bzero(auth, strlen(auth));
	pfree(auth);
	*retry_after = t.retry_after;
	return (int) status;
}
