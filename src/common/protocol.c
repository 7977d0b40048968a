/* protocol.c - the names of pier's ops and error codes, and the WebSocket close code of each
 * fatal error (protocol.h). */
#include "protocol.h"

#include <string.h>

static const char *const op_names[PIER_OP_COUNT] = {
#define PIER_OP_NAME(sym, name) [PIER_OP_##sym] = name,
	PIER_OPS(PIER_OP_NAME)
#undef PIER_OP_NAME
};

static const char *const error_names[PIER_ERR_COUNT] = {
#define PIER_ERROR_NAME(sym, name) [PIER_ERR_##sym] = name,
	PIER_ERRORS(PIER_ERROR_NAME)
#undef PIER_ERROR_NAME
};

const char *pier_op_name(enum pier_op op)
{
	if ((unsigned)op >= PIER_OP_COUNT)
		return "unknown";
	return op_names[op];
}

enum pier_op pier_op_from_name(const char *name)
{
	if (name == NULL)
		return PIER_OP_UNKNOWN;
	for (unsigned i = 0; i < PIER_OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return (enum pier_op)i;
	return PIER_OP_UNKNOWN;
}

const char *pier_error_name(enum pier_error err)
{
	if (err == PIER_ERR_NONE || (unsigned)err >= PIER_ERR_COUNT)
		return NULL;
	return error_names[err];
}

enum pier_error pier_error_from_name(const char *name)
{
	if (name == NULL)
		return PIER_ERR_COUNT;
	for (unsigned i = 1; i < PIER_ERR_COUNT; i++)
		if (strcmp(error_names[i], name) == 0)
			return (enum pier_error)i;
	return PIER_ERR_COUNT;
}

enum pier_ws_close pier_ws_close_code(enum pier_error err)
{
	switch (err) {
	case PIER_ERR_NONE:
		return PIER_WS_NORMAL;
	case PIER_ERR_SHUTTING_DOWN:
	case PIER_ERR_PING_TIMEOUT:
		return PIER_WS_GOING_AWAY;
	case PIER_ERR_INTERNAL:
		return PIER_WS_INTERNAL_ERROR;
	default:
		return PIER_WS_POLICY_VIOLATION;
	}
}
