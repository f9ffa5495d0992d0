# Writes pyre_cases.json: Python 3.11 re.subn(..., flags=re.M) over random patterns, templates
# and texts. Run from the repository root with python3.11.
import re, json, random, warnings
warnings.simplefilter("ignore")
rnd = random.Random(7)
atoms = ['a','b','.','\\d','\\w','\\s','\\S','[ab]','[^a]','[a-c]','x','^','$','\\b','(a|b)','(?:ab)','(?P<n>a)','\\.','[]a]','{','}','\\Z','\\A','(a)','()','(?:a|)','\\n','[\\s.]',' ','1','_','(?i:a)','|','[[a]','\\<','\\z','(?=a)','a(?!b)','\\1']
quants = ['','','','*','+','?','*?','+?','??','{2}','{1,2}','{,2}','{2,}','{x}']
repls = ['X','\\1','\\g<0>','','[\\g<0>]','\\n','<\\g<n>>','\\\\','\\q','\\.']
cases=[]
for n in range(3000):
    p = ''.join(rnd.choice(atoms)+rnd.choice(quants) for _ in range(rnd.randint(1,4)))
    if rnd.random()<0.1: p = '(?i)'+p
    t = ''.join(rnd.choice('ab. x\n1_AB') for _ in range(rnd.randint(0,12)))
    r = rnd.choice(repls)
    try:
        out = re.subn(p, r, t, flags=re.M)
        want = {"text": out[0], "count": out[1]}
    except Exception as e:
        want = {"error": str(e)}
    cases.append({"p":p,"r":r,"t":t,"want":want})
json.dump(cases, open('src/modules/files/testdata/pyre_cases.json','w'), indent=0)
print(len(cases), sum('error' in c['want'] for c in cases))
