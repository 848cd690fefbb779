#!/bin/bash
# Zoo targets with and without a remedy, side by side at equal compute: each run MIN minutes on
# one core, the pair at the same time; each trained checkpoint draws 20000 samples, which are
# scored against the exact answers.
# usage: ADJOINT=bin/adjoint OUT=dir scripts/zoo_remedies.sh MIN TARGET "FLAGS A" "FLAGS B" [SEED]
# writes TARGET-{a,b}-sSEED.{ckpt,log,npy,w.npy,eval.txt}
B=$(realpath "${ADJOINT:-bin/adjoint}")
mkdir -p "${OUT:-.}" && cd "${OUT:-.}" || exit 1
MIN=$1 T=$2 SEED=${5:-1}
one() { # tag flags
  local tag=$T-$1-s$SEED
  GOMAXPROCS=1 $B train $T --minutes $MIN $2 --seed $SEED -o $tag.ckpt > $tag.log 2>&1
  GOMAXPROCS=1 $B sample $tag.ckpt -n 20000 -o $tag.npy --weights $tag.w.npy >> $tag.log 2>&1
  GOMAXPROCS=1 $B eval $T $tag.npy --weights $tag.w.npy > $tag.eval.txt 2>&1
}
one a "$3" & one b "$4" & wait
