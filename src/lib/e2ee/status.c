/* status.c - the texts of the e2ee core's status codes (logs and tests). */
#include "e2ee.h"

const char *pier_e2ee_strerror(int status)
{
	switch (status) {
	case PIER_E2EE_OK:             return "ok";
	case PIER_E2EE_ERR_FORMAT:     return "malformed";
	case PIER_E2EE_ERR_AUTH:       return "authentication failed";
	case PIER_E2EE_ERR_REPLAY:     return "replayed (key already used)";
	case PIER_E2EE_ERR_NO_SESSION: return "no session";
	case PIER_E2EE_ERR_TOO_FAR:    return "too many skipped messages";
	case PIER_E2EE_ERR_KEY:        return "bad or unknown key";
	case PIER_E2EE_ERR_SIGNATURE:  return "bad signature";
	case PIER_E2EE_ERR_LIMIT:      return "limit reached";
	case PIER_E2EE_ERR_MISMATCH:   return "keys differ from the trusted ones";
	}
	return "unknown status";
}

const char *pier_e2ee_status_name(int status)
{
	switch (status) {
	case PIER_E2EE_OK:             return "ok";
	case PIER_E2EE_ERR_FORMAT:     return "format";
	case PIER_E2EE_ERR_AUTH:       return "auth";
	case PIER_E2EE_ERR_REPLAY:     return "replay";
	case PIER_E2EE_ERR_NO_SESSION: return "no_session";
	case PIER_E2EE_ERR_TOO_FAR:    return "too_far";
	case PIER_E2EE_ERR_KEY:        return "key";
	case PIER_E2EE_ERR_SIGNATURE:  return "signature";
	case PIER_E2EE_ERR_LIMIT:      return "limit";
	case PIER_E2EE_ERR_MISMATCH:   return "mismatch";
	}
	return "unknown";
}
