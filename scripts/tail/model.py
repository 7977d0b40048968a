# model.py: the store thread's share of the latency, from a perf trace of pierd's pwrite64 and
# fdatasync/fsync (perf script -F tid,time,event,trace). Batches of the writer thread: from the
# first WAL write after a sync to the last sync before the next batch (a checkpoint inside
# COMMIT belongs to its batch). A message arriving at t (uniform, RATE/s, over the fixed-rate
# window: the last WIN s before the last commit minus DRAIN s) is acked at the end of the first
# batch that starts after t. Prints that latency's quantiles, and which batches the slowest 1%
# waited for.
import sys, re, collections
path, rate, win, drain = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ev = []
for line in open(path):
    m = re.match(r'\s*(\d+)\s+([\d.]+):\s+syscalls:(\w+):\s*(.*)', line)
    if not m: continue
    fd = re.search(r'fd: (0x[0-9a-f]+)', m.group(4))
    ev.append((m.group(1), float(m.group(2)), m.group(3), int(fd.group(1), 16) if fd else None))
cnt = collections.Counter((tid, fd) for tid, t, e, fd in ev if e == 'sys_enter_fdatasync')
(wtid, wal), _ = cnt.most_common(1)[0]
batches = []; cur = None; after_sync = True
for tid, t, e, fd in ev:
    if tid != wtid: continue
    if e == 'sys_enter_pwrite64' and fd == wal and after_sync:
        cur = {'start': t, 'end': None, 'db': 0, 'sync': 0.0}; batches.append(cur); after_sync = False
    elif e == 'sys_enter_pwrite64' and fd != wal and cur: cur['db'] += 1
    elif e.startswith('sys_enter_f'): s0 = t
    elif e.startswith('sys_exit_f') and cur:
        cur['end'] = t; cur['sync'] += t - s0; after_sync = True
batches = [b for b in batches if b['end']]
tend = batches[-1]['end'] - drain; t0 = tend - win
lat = []; blame = collections.Counter(); j = 0
n = int(win * rate)
for i in range(n):
    t = t0 + i / rate
    while j < len(batches) and batches[j]['start'] < t: j += 1
    if j >= len(batches): break
    b = batches[j]; lat.append((b['end'] - t, j))
def q(p): v = sorted(x for x, _ in lat); return v[min(len(v)-1, int(p*len(v)))] * 1e3
inwin = [b for b in batches if t0 <= b['start'] <= tend]
ck = [b for b in inwin if b['db']]
print('window %.1f s: %d batches (%.0f/s), %d with a checkpoint inside COMMIT (%.2f%%)' % (win, len(inwin), len(inwin)/win, len(ck), 100*len(ck)/max(1,len(inwin))))
print('modelled store latency (wait for the batch in flight + own batch) ms: p50 %.2f p99 %.2f p99.9 %.2f max %.2f' % (q(.5), q(.99), q(.999), q(1)))
slow = sorted(lat)[-max(1, len(lat)//100):]
# a slow message is "checkpoint" if its own batch or the batch in flight at its arrival had db writes
def hit(j): return batches[j]['db'] > 0 or (j > 0 and batches[j-1]['db'] > 0)
print('slowest 1%%: %d messages, %.0f%% waited on a batch with a checkpoint in COMMIT' % (len(slow), 100*sum(1 for _, j in slow if hit(j))/len(slow)))
bd = sorted((b['end']-b['start'])*1e3 for b in inwin); nb = [ (b['end']-b['start'])*1e3 for b in inwin if not b['db']]; cb=[(b['end']-b['start'])*1e3 for b in ck]
import statistics
print('batch duration ms: all p50 %.2f p99 %.2f max %.2f; with checkpoint: %s' % (bd[len(bd)//2], bd[int(.99*len(bd))], bd[-1], ('mean %.2f max %.2f' % (statistics.mean(cb), max(cb))) if cb else 'none'))
