/* thread_name.h - names the calling thread for ps, top and perf ("pierd-store", ...). */
#ifndef PIER_THREAD_NAME_H
#define PIER_THREAD_NAME_H

/* Sets the calling thread's name (at most 15 bytes are kept). Linux only; elsewhere, and
 * when the kernel refuses, it does nothing: a name is a convenience, never needed. */
void thread_name_set(const char *name);

#endif
