/*-------------------------------------------------------------------------
 * token.c
 *		Principals from signed tokens and from trusted JWT claims.
 *
 * introw.authenticate(token) sets the principal from a token signed with
 * HMAC-SHA256 under a key of introw.token_keys, a table only superusers
 * and the extension's owner can read.  An application role granted only
 * authenticate() can become no one whose token it was not given: it can
 * neither read the keys nor choose the principal.  A token reads
 *
 *		v1.<key id>.<tenant id>.<contact|user>.<id>.<expiry>.<signature>
 *
 * where expiry is in seconds since the Unix epoch and the signature is
 * the unpadded base64url HMAC-SHA256 of everything before its dot.  The
 * signature is compared in constant time and checked before the expiry,
 * so only an authentic token is ever told it has expired.
 * introw.issue_token() signs tokens for the services that log people in.
 *
 * With introw.trust_jwt_claims (a superuser's setting), a backend with no
 * principal set takes it from the claims PostgREST puts in
 * request.jwt.claims after verifying the JWT: introw_tenant_id and one of
 * introw_contact_id or introw_user_id.  Claims without them mean no
 * principal.  A principal set with set_contact(), set_user() or
 * authenticate() takes precedence.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#if PG_VERSION_NUM < 160000
#include "utils/guc_tables.h"
#endif
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(introw_authenticate);
PG_FUNCTION_INFO_V1(introw_issue_token);
PG_FUNCTION_INFO_V1(introw_create_token_key);

#define TOKEN_MAX_LENGTH 512
#define TOKEN_FIELDS 7
#define SIGNATURE_BYTES 32		/* SHA-256 */
#define KEY_BYTES 32
#define CLAIMS_SETTING "request.jwt.claims"

static bool TrustJwtClaims = false;

/* The principal the claims named when last read, and what they were. */
static Principal claims_principal;
static char *claims_seen;		/* the claims text, in TopMemoryContext */
static Oid	claims_user;

static PrivilegedStatement q_key = {
	"SELECT key_id, secret FROM introw.token_keys WHERE key_id = $1 AND active", 1, {INT8OID}
};
static PrivilegedStatement q_newest_key = {
	"SELECT key_id, secret FROM introw.token_keys WHERE active "
	"ORDER BY key_id DESC LIMIT 1", 0, {InvalidOid}
};

void
TokenDefineSetting(void)
{
	DefineCustomBoolVariable("introw.trust_jwt_claims",
							 "Take the principal from request.jwt.claims when none is set.",
							 "Only for PostgREST, which verifies the JWT before setting them.",
							 &TrustJwtClaims, false, PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Signing
 * ------------------------------------------------------------------------
 */

static const char b64url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
Base64UrlEncode(const uint8 *data, int len, StringInfo out)
{
	for (int i = 0; i < len; i += 3)
	{
		uint32		v = (uint32) data[i] << 16;
		int			n = Min(3, len - i);

		if (n > 1)
			v |= (uint32) data[i + 1] << 8;
		if (n > 2)
			v |= data[i + 2];
		for (int k = 0; k <= n; k++)
			appendStringInfoChar(out, b64url[(v >> (18 - 6 * k)) & 0x3F]);
	}
}

/* HMAC-SHA256 of text under secret, as unpadded base64url. */
static char *
Sign(const char *text, int len, bytea *secret)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		mac[SIGNATURE_BYTES];
	StringInfoData out;

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pg_hmac_init(ctx, (uint8 *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) text, len) < 0 ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
	{
		const char *why = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "introw: HMAC-SHA256 failed: %s", why);
	}
	pg_hmac_free(ctx);
	initStringInfo(&out);
	Base64UrlEncode(mac, sizeof(mac), &out);
	return out.data;
}

/* Equal strings of equal length, in time that depends only on the length. */
static bool
ConstantTimeEqual(const char *a, const char *b, size_t len)
{
	volatile uint8 diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= (uint8) a[i] ^ (uint8) b[i];
	return diff == 0;
}

/*
 * The secret (column 2) and key id (column 1) of the one key stmt finds,
 * the secret copied into the caller's context; NULL when there is none.
 */
static bytea *
QueryKey(PrivilegedStatement *stmt, Datum *values, int64 *key_id)
{
	MemoryContext caller = CurrentMemoryContext;
	bytea	   *secret = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	if (PrivilegedQuery(stmt, values, NULL) == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (!isnull && SpiGetInt64(0, 1, key_id))
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			secret = DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	return secret;
}

/* ------------------------------------------------------------------------
 * authenticate()
 * ------------------------------------------------------------------------
 */

typedef struct TokenFields
{
	int64		key_id;
	int64		tenant_id;
	PrincipalKind kind;
	int64		id;
	int64		expires;		/* seconds since the Unix epoch */
	int			signed_length;	/* bytes covered by the signature */
	const char *signature;
} TokenFields;

static bool
ParseDigits(const char *s, int64 *result)
{
	char	   *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*result = strtoi64(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* Split the token (modified in place) into its fields. */
static bool
ParseToken(char *token, TokenFields *f)
{
	char	   *field[TOKEN_FIELDS];
	int			n = 0;
	char	   *p = token;

	for (;;)
	{
		char	   *dot = strchr(p, '.');

		if (n == TOKEN_FIELDS)
			return false;
		field[n++] = p;
		if (dot == NULL)
			break;
		*dot = '\0';
		p = dot + 1;
	}
	if (n != TOKEN_FIELDS || strcmp(field[0], "v1") != 0)
		return false;
	if (!ParseDigits(field[1], &f->key_id) ||
		!ParseDigits(field[2], &f->tenant_id) ||
		!ParseDigits(field[4], &f->id) ||
		!ParseDigits(field[5], &f->expires))
		return false;
	if (strcmp(field[3], "contact") == 0)
		f->kind = PRINCIPAL_CONTACT;
	else if (strcmp(field[3], "user") == 0)
		f->kind = PRINCIPAL_USER;
	else
		return false;
	f->signed_length = field[6] - token - 1;
	f->signature = field[6];
	/* the separators are restored for the signature check */
	for (int i = 1; i < TOKEN_FIELDS; i++)
		field[i][-1] = '.';
	token[f->signed_length] = '\0';
	return true;
}

static void
Refuse(const char *message)
{
	ClearPrincipalCompletely();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("%s", message),
			 errdetail("No principal is set now.")));
}

/* The tenant of an existing contact, or of an existing and active user. */
static bool
PrincipalTenant(PrincipalKind kind, int64 id, int64 *tenant_id)
{
	if (CachedPrincipalTenant(kind, id, tenant_id))
		return true;
	if (kind == PRINCIPAL_CONTACT)
	{
		int64		org_id,
					role_id;
		bool		has_role,
					restricted;

		return LookupContact(id, tenant_id, &org_id, &has_role, &role_id, &restricted);
	}
	else
	{
		AccessKind	access;
		bool		active;

		return LookupUser(id, tenant_id, &access, &active) && active;
	}
}

/* Seconds since the Unix epoch. */
static int64
UnixNow(void)
{
	return GetCurrentTimestamp() / USECS_PER_SEC +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

Datum
introw_authenticate(PG_FUNCTION_ARGS)
{
	text	   *arg;
	char	   *token;
	TokenFields f;
	bytea	   *secret;
	char	   *expected;
	int64		tenant_id;
	Datum		key;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		ClearPrincipalCompletely();
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("token and is_local must not be NULL"),
				 errdetail("No principal is set now.")));
	}
	arg = PG_GETARG_TEXT_PP(0);
	if (VARSIZE_ANY_EXHDR(arg) > TOKEN_MAX_LENGTH)
		Refuse("malformed introw token");
	token = text_to_cstring(arg);
	if (!ParseToken(token, &f))
		Refuse("malformed introw token");
	key = Int64GetDatum(f.key_id);
	secret = QueryKey(&q_key, &key, &f.key_id);
	if (secret == NULL)
		Refuse("introw token signed with an unknown or retired key");
	expected = Sign(token, f.signed_length, secret);
	if (strlen(f.signature) != strlen(expected) ||
		!ConstantTimeEqual(f.signature, expected, strlen(expected)))
		Refuse("introw token signature does not match");
	if (f.expires <= UnixNow())
		Refuse("introw token has expired");
	if (!PrincipalTenant(f.kind, f.id, &tenant_id) || tenant_id != f.tenant_id)
		Refuse("the principal of the introw token does not exist");
	SetPrincipal(f.kind, f.tenant_id, f.id, PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * issue_token() and create_token_key()
 * ------------------------------------------------------------------------
 */

Datum
introw_issue_token(PG_FUNCTION_ARGS)
{
	text	   *kind_text;
	char	   *kind;
	int64		id;
	Interval   *valid_for;
	TokenFields f;
	int64		seconds;
	bytea	   *secret;
	int64		key_id = 0;
	StringInfoData buf;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind, id and valid_for must not be NULL")));
	kind_text = PG_GETARG_TEXT_PP(0);
	kind = text_to_cstring(kind_text);
	id = PG_GETARG_INT64(1);
	valid_for = PG_GETARG_INTERVAL_P(2);
	if (strcmp(kind, "contact") == 0)
		f.kind = PRINCIPAL_CONTACT;
	else if (strcmp(kind, "user") == 0)
		f.kind = PRINCIPAL_USER;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kind must be \"contact\" or \"user\"")));
	if (valid_for->month != 0 || valid_for->day < 0 || valid_for->time < 0 ||
		valid_for->day > 366 || (valid_for->day == 0 && valid_for->time < USECS_PER_SEC))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("valid_for must be between 1 second and 366 days, without months")));
	seconds = valid_for->day * SECS_PER_DAY + valid_for->time / USECS_PER_SEC;
	f.id = id;
	/* the tenant is the principal's own */
	if (!PrincipalTenant(f.kind, id, &f.tenant_id))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no %s " INT64_FORMAT " to issue a token for",
						f.kind == PRINCIPAL_CONTACT ? "partner contact" : "active internal user",
						id)));
	secret = QueryKey(&q_newest_key, NULL, &key_id);
	if (secret == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("there is no active token key"),
				 errhint("Create one with SELECT introw.create_token_key().")));
	initStringInfo(&buf);
	appendStringInfo(&buf, "v1." INT64_FORMAT "." INT64_FORMAT ".%s." INT64_FORMAT "." INT64_FORMAT,
					 key_id, f.tenant_id, kind, f.id, UnixNow() + seconds);
	appendStringInfo(&buf, ".%s", Sign(buf.data, buf.len, secret));
	pfree(secret);
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}

/* A new active key of 32 random bytes; returns its id. */
Datum
introw_create_token_key(PG_FUNCTION_ARGS)
{
	uint8		random[KEY_BYTES];
	bytea	   *secret = palloc(VARHDRSZ + KEY_BYTES);
	Oid			argtypes[1] = {BYTEAOID};
	Datum		values[1];
	int64		key_id = 0;

	if (!pg_strong_random(random, sizeof(random)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random key")));
	SET_VARSIZE(secret, VARHDRSZ + KEY_BYTES);
	memcpy(VARDATA(secret), random, KEY_BYTES);
	explicit_bzero(random, sizeof(random));
	values[0] = PointerGetDatum(secret);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	/* as the caller: only those who may write the keys create one */
	if (SPI_execute_with_args("INSERT INTO introw.token_keys (secret) VALUES ($1) RETURNING key_id",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "introw: could not store the token key");
	SpiGetInt64(0, 1, &key_id);
	SPI_finish();
	PG_RETURN_INT64(key_id);
}

/* ------------------------------------------------------------------------
 * Trusted JWT claims
 * ------------------------------------------------------------------------
 */

/* The claim as a positive bigint (a JSON number or a string of digits). */
static bool
ClaimId(Jsonb *claims, const char *name, int64 *result)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&claims->root, name, strlen(name), NULL);

	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type == jbvNumeric)
	{
		char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
																 NumericGetDatum(v->val.numeric)));

		if (ParseDigits(digits, result) && *result > 0)
			return true;
	}
	else if (v->type == jbvString && v->val.string.len < 20)
	{
		char		digits[20];

		memcpy(digits, v->val.string.val, v->val.string.len);
		digits[v->val.string.len] = '\0';
		if (ParseDigits(digits, result) && *result > 0)
			return true;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("claim \"%s\" of request.jwt.claims must be a positive integer", name)));
	return false;				/* keep the compiler quiet */
}

static void
ParseClaims(const char *text, Principal *p)
{
	Jsonb	   *claims;
	int64		tenant_id,
				contact_id,
				user_id;
	bool		has_tenant,
				has_contact,
				has_user;

	memset(p, 0, sizeof(*p));
	claims = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	if (!JB_ROOT_IS_OBJECT(claims) || JB_ROOT_IS_SCALAR(claims))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("request.jwt.claims is not a JSON object")));
	has_tenant = ClaimId(claims, "introw_tenant_id", &tenant_id);
	has_contact = ClaimId(claims, "introw_contact_id", &contact_id);
	has_user = ClaimId(claims, "introw_user_id", &user_id);
	if (!has_tenant && !has_contact && !has_user)
		return;					/* an anonymous request */
	if (!has_tenant || has_contact == has_user)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("request.jwt.claims must name introw_tenant_id and one of "
						"introw_contact_id or introw_user_id")));
	p->kind = has_contact ? PRINCIPAL_CONTACT : PRINCIPAL_USER;
	p->tenant_id = tenant_id;
	p->id = has_contact ? contact_id : user_id;
	p->outer_user = GetOuterUserId();
}

/*
 * The text of request.jwt.claims, or NULL, as GetConfigOption() gives it.
 * A policy asks for every row it tests, and on PostgreSQL 15 that function
 * binary-searches the table of settings comparing names without regard to
 * case, which cost a quarter of a listing's time.  So the setting's entry
 * is found once, by name, and read directly for as long as the table's
 * slot still holds that entry: a new setting re-sorts the table, a prefix
 * a module reserves removes its placeholders, and a module that defines
 * the setting replaces its entry (allocating the new one before freeing
 * the old).  The name is not compared again on each call: only an entry
 * freed and another allocated at the same address in the same slot could
 * deceive the check, and what it would read is a setting the session can
 * set, as it can set request.jwt.claims itself.  While the setting does
 * not exist, GetConfigOption() answers.  (PostgreSQL 16 keeps the
 * settings in a hash table, and this is GetConfigOption() alone there.)
 */
static const char *
ClaimsText(void)
{
#if PG_VERSION_NUM < 160000
	static struct config_generic *entry = NULL;
	static int	slot = -1;
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	if (entry == NULL || slot >= n || vars[slot] != entry)
	{
		const char *value = GetConfigOption(CLAIMS_SETTING, true, false);

		entry = NULL;
		slot = -1;
		if (value == NULL)
			return NULL;
		for (int i = 0; i < n; i++)
			if (pg_strcasecmp(vars[i]->name, CLAIMS_SETTING) == 0)
			{
				slot = i;
				entry = vars[i];
				break;
			}
		if (entry == NULL)
			return value;
	}
	if (entry->vartype == PGC_STRING)
		return *((struct config_string *) entry)->variable;
#endif
	return GetConfigOption(CLAIMS_SETTING, true, false);
}

/*
 * The principal the claims name, read again when they or the database role
 * changed; calls PrincipalChanged() when it differs from the last one.
 * With the setting off, or without claims, it is no principal.
 */
const Principal *
ClaimsPrincipal(void)
{
	const char *text = NULL;
	Principal	now;

	if (TrustJwtClaims)
		text = ClaimsText();
	if (text == NULL || text[0] == '\0')
	{
		if (claims_principal.kind != PRINCIPAL_NONE)
			PrincipalChanged();
		memset(&claims_principal, 0, sizeof(claims_principal));
		if (claims_seen != NULL)
			pfree(claims_seen);
		claims_seen = NULL;
		return &claims_principal;
	}
	if (claims_seen != NULL && claims_user == GetOuterUserId() &&
		strcmp(claims_seen, text) == 0)
		return &claims_principal;

	/* forget the old claims first: a parse error leaves no principal */
	if (claims_seen != NULL)
		pfree(claims_seen);
	claims_seen = NULL;
	if (claims_principal.kind != PRINCIPAL_NONE)
		PrincipalChanged();
	memset(&claims_principal, 0, sizeof(claims_principal));
	ParseClaims(text, &now);
	claims_principal = now;
	claims_user = GetOuterUserId();
	claims_seen = MemoryContextStrdup(TopMemoryContext, text);
	if (now.kind != PRINCIPAL_NONE)
		PrincipalChanged();
	return &claims_principal;
}
