#!/usr/bin/env bash
# MPI data parallelism: the MPI build (`make mpi`) under
# `mpirun --allow-run-as-root -np 2`: collective operations agree on every rank.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1   # 2 ranks on 2 cores: one thread each
MPIRUN="mpirun --allow-run-as-root --oversubscribe -np 2"
B=build/mpi
if ! make -s mpi >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"; bad "MPI build"; B=
fi
if [ -n "$B" ]; then
    out=$($MPIRUN "$B/tests/test_train_dist" 2>&1)
    if grep -q "^test_train_dist_np2: 1 passed, 0 failed" <<<"$out"; then ok; else bad "collectives under mpirun: $out"; fi
    # the same binary without mpirun runs as one process
    out=$("$B/tests/test_train_dist" 2>&1)
    if grep -q "^test_train_dist: 1 passed, 0 failed" <<<"$out"; then ok; else bad "MPI build run alone: $out"; fi
    # data-parallel training: 2 ranks x 1 micro batch == 1 process x 2 accumulated micro batches
    T=$tmp
    $PY tests/ref/train_fixture.py "$T" >/dev/null
    A="--model_dir $T/model --dataset_config $T/pretrain.json --learning_rate 1e-2 --min_lr 1e-3 --num_warmup_steps 2
       --micro_batch_size 2 --max_length 128 --num_training_steps 12 --save_checkpoint_per_step 6 --plot=false"
    "$B/onerec" train $A --gradient_accumulation_steps 2 --output_dir "$T/one" >/dev/null 2>"$T/one.err" || bad "1-process run: $(tail -2 "$T/one.err")"
    $MPIRUN "$B/onerec" train $A --output_dir "$T/two" >/dev/null 2>"$T/two.err" || bad "2-rank run: $(tail -2 "$T/two.err")"
    cmp_out=$(paste <(grep '^step ' "$T/one/stdout.log") <(grep '^step ' "$T/two/stdout.log") | awk -v n=12 '
        { a = $4; b = $(NF/2 + 4); d = a - b; if (d < 0) d = -d; if (d > 1e-5 * a || $2 != $(NF/2 + 2)) bad++; k++;
          t1 += $16; t2 += $(NF/2 + 16) }
        END { printf "%d steps compared, %d differ; tokens/s: 1 process %.0f, 2 ranks %.0f\n", k, bad, t1 / k, t2 / k; exit (bad || k != n) }')
    if [ $? = 0 ]; then ok; else bad "np 2 vs 1 losses"; fi
    echo "mpirun -np 2 vs 1 process: $cmp_out"
    if [ -f "$T/two/step12/model.safetensors" ] && [ "$(cat "$T/two/latest")" = step12 ] && [ ! -e "$T/two/step6.partial" ]; then ok; else bad "2-rank checkpoint (rank 0 writes)"; fi
    # stage 1 under MPI: only the trainable rows are reduced; the frozen parameters stay bitwise
    S1="$A --freeze_llm --start_optimize_embedding_index 271 --num_training_steps 4"
    "$B/onerec" train $S1 --gradient_accumulation_steps 2 --output_dir "$T/s1one" >/dev/null 2>&1
    $MPIRUN "$B/onerec" train $S1 --output_dir "$T/s1two" >/dev/null 2>"$T/s1.err" || bad "2-rank stage 1: $(tail -2 "$T/s1.err")"
    if $PY tests/ref/train_check.py frozen "$T/model" "$T/s1two/step4" 271 >/dev/null &&
       paste <(grep '^step ' "$T/s1one/stdout.log") <(grep '^step ' "$T/s1two/stdout.log") |
       awk '{ d = $4 - $(NF/2 + 4); if (d < 0) d = -d; if (d > 1e-5 * $4) bad++; k++ } END { exit (bad || k != 4) }'; then ok
    else bad "2-rank stage 1 (frozen parameters, equal losses)"; fi
    # a rank killed with -9 mid-run: the job ends within seconds, mpirun names the lost rank, the
    # survivor says why, and the last checkpoint resumes to the same weights, bitwise, as a run that
    # was never interrupted (a constant learning rate, so that the total step count changes nothing)
    K="--model_dir $T/model --dataset_config $T/pretrain.json --learning_rate 1e-3 --lr_scheduler_type constant
       --num_warmup_steps 0 --micro_batch_size 2 --max_length 128 --save_checkpoint_per_step 5 --plot=false"
    $MPIRUN "$B/onerec" train $K --num_training_steps 1000000 --output_dir "$T/k" >/dev/null 2>"$T/k.err" &
    job=$!
    for _ in $(seq 600); do [ -f "$T/k/step10/model.safetensors" ] && break; sleep 0.1; done
    r1=
    for p in $(pgrep -P "$job" 2>/dev/null) $(pgrep -f "$B/onerec train $K" 2>/dev/null); do
        [ "$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep '^OMPI_COMM_WORLD_RANK=')" = OMPI_COMM_WORLD_RANK=1 ] && r1=$p
    done
    t0=$(date +%s%N)
    [ -n "$r1" ] && kill -9 "$r1" || bad "no rank 1 to kill"
    for _ in $(seq 300); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if kill -0 "$job" 2>/dev/null; then bad "the job still runs 30 s after rank 1 was killed"; kill "$job"; else ok; fi
    echo "rank 1 killed: the job ended after $ms ms, latest $(cat "$T/k/latest")"
    grep -q "process rank 1 .* exited on signal 9" "$T/k.err" && grep -q "onerec: rank 0 of 2 stopped by the MPI launcher" "$T/k.err" &&
        ok || bad "messages after the kill: $(tail -5 "$T/k.err")"
    L=$(sed 's/step//' "$T/k/latest")
    ls -a "$T/k" | grep -q partial && bad "a .partial checkpoint is left after the kill" || ok
    $MPIRUN "$B/onerec" train $K --num_training_steps $((L + 3)) --resume_from "$T/k" --output_dir "$T/k" >/dev/null 2>"$T/kr.err" ||
        bad "resume after the kill: $(tail -2 "$T/kr.err")"
    $MPIRUN "$B/onerec" train $K --num_training_steps $((L + 3)) --output_dir "$T/kref" >/dev/null 2>"$T/kref.err" ||
        bad "uninterrupted run: $(tail -2 "$T/kref.err")"
    cmp -s "$T/k/step$((L + 3))/model.safetensors" "$T/kref/step$((L + 3))/model.safetensors" &&
        cmp -s "$T/k/step$((L + 3))/optimizer.safetensors" "$T/kref/step$((L + 3))/optimizer.safetensors" &&
        ok || bad "resumed after the kill: step$((L + 3)) differs from the uninterrupted run"
    rm -rf "$T"
fi
echo "test_mpi: $pass passed, $fail failed"
[ $fail = 0 ]
