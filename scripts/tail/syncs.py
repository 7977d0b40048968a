# syncs.py: per thread and file: fdatasync/fsync count and duration quantiles, pwrites, from
# `perf script -F tid,time,event,trace`; and (by the writer's pwrite pattern) checkpoints on the
# commit path: database-file writes by the thread that syncs the WAL.
import sys, re, collections
st = collections.defaultdict(list); pw = collections.Counter(); pend = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*(\d+)\s+([\d.]+):\s+syscalls:(\w+):\s*(.*)', line)
    if not m: continue
    tid, t, e, rest = m.group(1), float(m.group(2)), m.group(3), m.group(4)
    fd = re.search(r'fd: (0x[0-9a-f]+)', rest); fd = int(fd.group(1), 16) if fd else None
    if e == 'sys_enter_pwrite64': pw[(tid, fd)] += 1
    elif e.startswith('sys_enter_f'): pend[tid] = (t, fd, e[10:])
    elif e.startswith('sys_exit_f') and tid in pend:
        t0, f, name = pend.pop(tid); st[(tid, f, name)].append(t - t0)
def q(v, p): v = sorted(v); return v[min(len(v)-1, int(p*len(v)))]*1e3
for k, v in sorted(st.items(), key=lambda kv: -len(kv[1])):
    print('tid %s fd %s %s: n=%d p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms; pwrites on this fd by this tid %d' % (k[0], k[1], k[2], len(v), q(v,.5), q(v,.99), q(v,.999), q(v,1), pw[(k[0],k[1])]))
for k, n in pw.items():
    if not any((k[0], k[1]) == (a, b) for a, b, c in st): print('tid %s fd %s: %d pwrites, no sync' % (k[0], k[1], n))
