import re,sys,collections
msgs=int(sys.argv[2])
import os
DEPTH=int(os.environ.get('DEPTH','1'))
lines=open(sys.argv[1]).read().split('\n')
# sub-blocks: "    N calls with ... from:" then indented frames (4 spaces)
c=collections.Counter(); top=collections.Counter()
i=0
cur=None; frames=[]
def flush():
    if cur is None: return
    srcs=[f for f in frames if f.startswith('src/')]
    c[' < '.join(srcs[:DEPTH]) if srcs else '?']+=cur
    mods=[re.match(r'src/([a-z_]+/?[a-z_]*)',f).group(1) for f in srcs]
    top[ mods[-1] if mods else '?' ]+=cur
for l in lines:
    m=re.match(r'^(\d+) calls with',l)
    if m:
        flush(); cur=int(m.group(1)); frames=[]; continue
    m=re.match(r'^\s+at (src/\S+)',l)
    if m and cur is not None: frames.append(m.group(1))
    if re.match(r'^\d+ calls to allocation',l):
        flush(); cur=None
flush()
tot=sum(c.values()); print('total',tot,round(tot/msgs,1))
for k,v in c.most_common(int(sys.argv[3])): print(f"{v:9d} {v/msgs:6.2f} {k}")
print('-- outermost src module')
for k,v in top.most_common(20): print(f"{v:9d} {v/msgs:6.2f} {k}")
