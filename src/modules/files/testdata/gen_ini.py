# Writes ini_file_cases.json: community.general ini_file do_ini (check mode) over random files
# and parameters. Run from the repository root after target/ansible-collections is installed.
import sys, os, json, random, tempfile
sys.path.insert(0, 'target/ansible-collections')
sys.path.insert(0, 'target/ansible-venv/lib/python3.11/site-packages')
from ansible_collections.community.general.plugins.modules import ini_file as m
class Mod:
    check_mode=True; _diff=True
    def fail_json(self, **k): raise Exception(k)
rnd = random.Random(12)
lines_pool = ["[a]\n","[b]\n","[ a ]\n","x = 1\n","x=2\n","x =3\n","# x = 4\n",";x=5\n","y = 1\n","\n","  \n","# comment\n","x\n","x = \n","xy = 1\n","[a]x\n","z = q\n"]
cases=[]
for n in range(400):
    text = "".join(rnd.choice(lines_pool) for _ in range(rnd.randint(0,8)))
    if rnd.random()<0.1: text = text.rstrip("\n")
    missing = rnd.random()<0.05
    section = rnd.choice([None,"a","b","c"," a"])
    option = rnd.choice(["x","y","z",None])
    values = rnd.choice([[],["1"],["2"],["1","2"],["9"],["","1"],["q"]])
    state = rnd.choice(["present","absent"])
    exclusive = rnd.random()<0.6
    nes = rnd.random()<0.3; ign = rnd.random()<0.3; anv = rnd.random()<0.3; mio = rnd.random()<0.7
    if state=='present' and not anv and not values: continue
    d=tempfile.mkdtemp(); f=os.path.join(d,'x.ini')
    if not missing: open(f,'w').write(text)
    try:
        ch,b,diff,msg = m.do_ini(Mod(), f, section, None, option, list(values), state, exclusive, False, nes, ign, True, anv, mio, False)
        out={"text":diff['after'],"changed":ch,"msg":msg}
    except Exception as e:
        out={"error":type(e).__name__}
    cases.append({"text":None if missing else text,"section":section,"option":option,"values":values,"present":state=="present","exclusive":exclusive,"no_extra_spaces":nes,"ignore_spaces":ign,"allow_no_value":anv,"modify_inactive_option":mio,"want":out})
json.dump(cases, open('src/modules/files/testdata/ini_file_cases.json','w'), indent=0)
print(len(cases), sum(1 for c in cases if 'error' in c['want']))
