"""Split the gap in mean energy between LJ-13 sample sets and a reference into its parts.

usage: /usr/bin/python3 scripts/lj13_contacts.py REF.npy SAMPLES.npy [MORE.npy ...]

lj13's energy (lib/energy, LJ) is the ordered-pair sum of r^-12 - 2 r^-6 (twice each pair) plus
the harmonic term 1/2 sum |x_i - mean|^2. A pair closer than 1.25 (the pair minimum is at 1) is
a contact. The gap of each set's mean energy to the reference's is split exactly into: missing
contacts (at the reference's energy per contact), the energy per contact (bond lengths), the
other pairs, and the harmonic spread. The contact count per configuration is given as mean,
median, 10-90% range and the share with 20 or fewer (`adjoint eval lj13 S.npy --pair-cutoff
1.25` gives its whole histogram, "short_pairs"). Prints a Markdown table; the mean energy
column equals what `adjoint sample` reports for the same file.
"""
import numpy as np, sys
def load(p):
    x=np.load(p); return x.reshape(len(x),13,3)
def parts(x):
    d=np.linalg.norm(x[:,:,None]-x[:,None,:],axis=-1)
    iu=np.triu_indices(13,1); r=d[:,iu[0],iu[1]]
    e=2*(r**-12-2*r**-6)          # ordered-pair sum: twice each pair
    c=r<1.25                       # a contact: within 1.25 of the pair minimum at 1
    harm=0.5*((x-x.mean(1,keepdims=True))**2).sum((1,2))
    n=c.sum(1)
    return dict(E=e.sum(1).mean()+harm.mean(), contacts=n.mean(),
                spread="%g; %g-%g; %.3f" % (np.median(n), *np.percentile(n, [10, 90]), (n<=20).mean()),
                per_contact=e[c].mean(), far=np.where(c,0,e).sum(1).mean(), harm=harm.mean(),
                bond=r[c].mean())
ref=parts(load(sys.argv[1]))
print("| samples | mean energy | contacts (r < 1.25) | contacts: median; 10-90%; share <= 20 | energy per contact | bond length | energy of the other pairs | ½Σ‖x−x̄‖² | gap: missing contacts / contact energy / other pairs / spread |")
print("|---|---|---|---|---|---|---|---|---|")
for p in [sys.argv[1]]+sys.argv[2:]:
    q=parts(load(p))
    miss=(ref['contacts']-q['contacts'])*(-ref['per_contact'])
    qual=q['contacts']*(q['per_contact']-ref['per_contact'])
    print(f"| {p.split('/')[-1]} | {q['E']:.2f} | {q['contacts']:.2f} | {q['spread']} | {q['per_contact']:.3f} | {q['bond']:.4f} | {q['far']:.2f} | {q['harm']:.2f} | {miss:.2f} / {qual:.2f} / {q['far']-ref['far']:.2f} / {q['harm']-ref['harm']:.2f} |")
