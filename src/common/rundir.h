/* rundir.h - a program run with its output in a log file, and its scratch directory removed
 * after: how the integration tests and pier-bench run a pierd of their own. */
#ifndef PIER_RUNDIR_H
#define PIER_RUNDIR_H

#include <sys/types.h>

/* Forks and execs argv[0] with argv (NULL-terminated): stdin from /dev/null, stdout and stderr
 * appended to log_path (created 0644), killed (SIGKILL) when the calling thread exits so that
 * it never outlives a crashed caller. A failed exec is logged as "who: exec PATH: REASON".
 * The child's pid, or -1 (errno set) when fork failed. */
pid_t rundir_spawn(char *const argv[], const char *log_path, const char *who);

/* Removes dir and everything below it, without following links; errors are ignored. */
void rundir_remove(const char *dir);

#endif
