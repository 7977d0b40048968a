# abtab.py: the A/B runs' tail figures side by side (from pier-bench results.json).
import json, glob, os, re, sys, collections
rows = collections.defaultdict(dict)
for d in sorted(glob.glob(sys.argv[1] + '/*_*_*')):
    v, sc, i = os.path.basename(d).split('_')
    try: r = json.load(open(d + '/results.json'))
    except Exception: continue
    m = {x['name']: x.get('value') for s in r['scenarios'] for x in s['metrics']}
    load = open(d + '/load.txt').read().split('average:')[1].split(',')[0].strip()
    rows[(sc, i)][v] = (m, load)
def g(m, k): 
    x = m.get(k); return '%.2f' % x if isinstance(x, (int, float)) else '-'
for (sc, i), vv in sorted(rows.items()):
    rate = '2000' if sc.startswith('private') else '100'
    for v in ('before', 'after'):
        if v not in vv: continue
        m, load = vv[v]
        print('%-11s %s %-8s load %-5s fsync p99 %6s msg-weighted p99 %6s | ack p50 %6s p99 %6s p99.9 %6s | delivery p50 %6s p99 %6s p99.9 %6s' % (
            sc, i, v, load, g(m, 'fdatasync p99 (floor, this phase)'), g(m, 'fdatasync as messages see it p99'),
            g(m, 'ack latency at %s msg/s p50' % rate), g(m, 'ack latency at %s msg/s p99' % rate), g(m, 'ack latency at %s msg/s p999' % rate),
            g(m, 'latency at %s msg/s p50' % rate), g(m, 'latency at %s msg/s p99' % rate), g(m, 'latency at %s msg/s p999' % rate)))
