# sched.py: run-queue delay (wakeup to on-CPU) quantiles per task name from `perf sched timehist`.
import sys, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 6 or not f[0][0].isdigit(): continue
    try: name, wait, sch, run = f[2], float(f[3]), float(f[4]), float(f[5])
    except ValueError: continue
    d[name.split('[')[0]].append(sch)
def q(v, p): v = sorted(v); return v[min(len(v)-1, int(p*len(v)))]
for k in sys.argv[2:]:
    for name, v in d.items():
        if name.startswith(k):
            print('%-28s n=%6d sched delay ms p50 %.3f p99 %.3f p99.9 %.3f max %.3f; share > 1 ms %.2f%%' % (name, len(v), q(v,.5), q(v,.99), q(v,.999), max(v), 100*sum(1 for x in v if x > 1)/len(v)))
