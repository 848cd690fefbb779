#!/bin/bash
# DW-4 remedies at equal compute: each run MIN minutes on one core, two runs at a time.
# usage: ADJOINT=bin/adjoint OUT=dir scripts/dw4_remedies.sh MIN  (configs below; PAIRED=1 NAMES="A B" runs A and B side by side per seed); writes NAME-sSEED.{ckpt,log,npy,w.npy,eval.json,diag.json}
# EPOCHS=N trains N epochs instead of MIN minutes (equal compute whatever else the machine runs, for configurations that cost the same per epoch); NODIAG=1 skips adjoint diagnose
# configs: base tanh60 intk rw5 rw2 rw8 rw5s100 rb20 recipe ram paper h128 sigma2 langevin mix mixrw2 lrf5 tb1024 s200 gs50 tb256 tb512 rb255 tb256rb nt ts2 lr2 uniform
# (three eval seeds per run: exact_* fields against the exact samples; diag: adjoint diagnose)
B=$(realpath "${ADJOINT:-bin/adjoint}")
mkdir -p "${OUT:-.}" && cd "${OUT:-.}" || exit 1
MIN=${1:-6}
# BASE starts from the paper's configuration (--paper), as these experiments did before dw4's
# defaults became the recipe; "recipe" is those defaults, "ram" the recipe before the mixed target
# joined them (the paper's regression target), "paper" the paper's configuration; the configurations
# measured before dw4's defaults took 256 rows per gradient step name --train-batch 512
BASE="--paper --layers 3 --hidden 64 --lr 1e-3 --lr-final 1e-4 --buffer 2560 --time-sampling kappa"
declare -A CFG
CFG[base]="$BASE"
CFG[tanh60]="$BASE --tanh-range 60"
CFG[intk]="$BASE --integrator kappa"
CFG[rw5]="$BASE --reweight 0.5"
CFG[rw2]="$BASE --reweight 0.2"
CFG[rw8]="$BASE --reweight 0.8"
CFG[rw5s100]="$BASE --reweight 0.5 --steps 100"
CFG[rb20]="$BASE --refine-buffer 20"
CFG[recipe]=""  # dw4's defaults: since "DW-4: more updates per minute" with 256 rows per gradient step
CFG[tb512]="--train-batch 512"  # the recipe before that (the runs named recipe in the sections before it)
CFG[ram]="--train-batch 512 --mix-target=false"
CFG[paper]="--paper"
CFG[h128]="--train-batch 512 --hidden 128 --mix-target=false"
CFG[sigma2]="--train-batch 512 --sigma geometric(0.001,2) --mix-target=false"
CFG[langevin]="--train-batch 512 --langevin --mix-target=false"
CFG[mix]="--train-batch 512 --mix-target"  # the recipe itself, since the mixed target joined its defaults
CFG[mixrw2]="--train-batch 512 --mix-target --reweight 0.2"
CFG[lrf5]="--train-batch 512 --lr-final 1e-5"      # the recipe, learning rate annealed ten times lower
CFG[tb1024]="--train-batch 1024 --grad-steps 50"  # the recipe, half the steps on twice the rows
CFG[s200]="--train-batch 512 --steps 200"  # the recipe, trained on a grid twice as fine (it samples on 800 steps either way)
CFG[gs50]="--train-batch 512 --grad-steps 50"  # the recipe, half the gradient steps per epoch: fresher samples for the same compute
CFG[tb256]="--train-batch 256"  # half the rows per gradient step: as many steps per epoch, more epochs (dw4's default since)
CFG[rb255]="--train-batch 512 --rb-candidates 255"  # the recipe of 512 rows, each row's target averaged over 255 more buffered end states by the bridge's likelihood
CFG[tb256rb]="--rb-candidates 255"  # the recipe (256 rows) with averaged targets
CFG[nt]="--net-time kappa"          # the recipe with the network reading ½(t + κ(t)/κ(1))
CFG[lr2]="--lr 2e-3 --lr-final 2e-4"  # the recipe with twice the learning rate throughout
CFG[ts2]="--time-sampling sigma2"   # the recipe with every row's t drawn uniformly in κ(t)/κ(1), density ∝ σ(t)²
CFG[uniform]="--paper --layers 3 --hidden 64 --lr 1e-3 --lr-final 1e-4 --buffer 2560 --time-sampling uniform"
one() { # name seed
  local n=$1 s=$2 tag=$1-s$2
  local budget="--minutes $MIN"
  [ -n "$EPOCHS" ] && budget="--epochs $EPOCHS"
  GOMAXPROCS=1 $B train dw4 $budget ${CFG[$n]} --seed $s -o $tag.ckpt > $tag.log 2>&1
  GOMAXPROCS=1 $B sample $tag.ckpt -n 2000 -o $tag.npy --weights $tag.w.npy >> $tag.log 2>&1
  for es in 1 2 3; do GOMAXPROCS=1 $B eval dw4 $tag.npy --seed $es; done > $tag.eval.json 2>>$tag.log
  [ -n "$NODIAG" ] || GOMAXPROCS=1 $B diagnose $tag.ckpt --n 2000 --bins 10 --draws 2048 --reps 32 --seed 1 > $tag.diag.json 2> $tag.diag.txt
}
if [ -n "$PAIRED" ]; then # NAMES="A B": A and B side by side, one seed at a time
  read -r a b <<< "$NAMES"
  for s in ${SEEDS:-1 2}; do one $a $s & one $b $s & wait; done
  exit 0
fi
for n in ${NAMES:-base uniform tanh60 intk}; do
  one $n 1 & one $n 2 & wait
done
