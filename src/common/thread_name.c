/* thread_name.c - the calling thread's name, through prctl (thread_name.h). */
#include "thread_name.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

void thread_name_set(const char *name)
{
#ifdef __linux__
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
#else
	(void)name;
#endif
}
