# Adds Python's re.match/re.search answers (no flags) to pyre_cases.json and writes
# fnmatch_cases.json. Run from the repository root with the venv's python3 after gen_re.py.
import fnmatch, json, random, re, warnings
warnings.simplefilter("ignore")
p = 'src/modules/files/testdata/pyre_cases.json'
cases = json.load(open(p))
for c in cases:
    try:
        r = re.compile(c['p'])
        c['plain'] = {"match": bool(r.match(c['t'])), "search": bool(r.search(c['t']))}
    except Exception as e:
        c['plain'] = {"error": str(e)}
json.dump(cases, open(p, 'w'), indent=0)
rnd = random.Random(3)
pieces = ['*', '?', 'a', 'b', '.', '[ab]', '[!a]', '[a-c]', '[]a]', '[a-]', '[-a]', '[c-a]', '[', '\\', '[!]a]', '-', '**', '[^a]', '[[]']
out = []
for n in range(3000):
    pat = ''.join(rnd.choice(pieces) for _ in range(rnd.randint(0, 5)))
    t = ''.join(rnd.choice('ab.c-[]\\^\n') for _ in range(rnd.randint(0, 7)))
    out.append([t, pat, fnmatch.fnmatch(t, pat)])
json.dump(out, open('src/modules/files/testdata/fnmatch_cases.json', 'w'))
