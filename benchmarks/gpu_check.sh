#!/usr/bin/env bash
# The GPU checks, in under 8 minutes on one GPU: the tests marked `cuda`, PPO CartPole solved
# on the GPU, and Pong PPO and HalfCheetah SAC throughput for rlmodules and SB3 on the same
# GPU, printed next to LeanRL's published H100 figures. Needs the benchmark requirements:
#   pip install -r benchmarks/requirements.txt -e ".[atari,envpool,mujoco]" -e contrib/rlmodules-cnn
# Run from the repository root: bash benchmarks/gpu_check.sh [python]
set -uo pipefail
python=${1:-.venv/bin/python}
out=$(mktemp -d)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
echo "== 1/4 tests marked cuda"
timeout 120 "$python" -m pytest -q -m cuda tests/algorithms/test_cuda.py -p no:randomly \
    | tail -3
echo "== 2/4 PPO CartPole on cuda (stops at a 100-episode mean of 475)"
timeout 150 "$python" -m rlmodules.cli train --device cuda --seed 0 --timesteps 150000 \
    --out "$out/cartpole" | tail -2
echo "== 3/4 PPO Pong: env steps/s, ours (bf16 + EnvPool + compile on cuda) vs SB3 (cuda)"
timeout 200 "$python" benchmarks/bench_atari.py --iterations 4 --num-threads 1 \
    --sb3-device cuda --variants cuda cuda+auto+envpool+compile | tee "$out/pong.txt" | tail -5
echo "== 4/4 SAC HalfCheetah-v5: env steps/s while learning, ours (compile, CUDA graphs) vs SB3"
timeout 200 "$python" benchmarks/bench_sac_throughput.py --device cuda --compile \
    --steps 3000 --warmup 500 | tee "$out/sac.txt"
echo
echo "                      ours steps/s   SB3 steps/s   ours/SB3   LeanRL H100 (CleanRL -> LeanRL)"
pong=$(grep -E '^cuda\+auto\+envpool\+compile ' "$out/pong.txt" | awk '{print $2}')
pong_sb3=$(grep -E '^sb3 ' "$out/pong.txt" | awk '{print $2}')
sac=$(grep -oE 'rlmodules [0-9]+' "$out/sac.txt" | awk '{print $2}')
sac_sb3=$(grep -oE 'sb3 [0-9]+' "$out/sac.txt" | awk '{print $2}')
ratio() { "$python" -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.2f}x')" \
    "$1" "$2" 2>/dev/null || echo "n/a"; }
printf "PPO Pong (8 envs)     %12s   %11s   %8s   1,022 -> 6,809 (PPO Atari, EnvPool)\n" \
    "${pong:-n/a}" "${pong_sb3:-n/a}" "$(ratio "${pong:-0}" "${pong_sb3:-0}")"
printf "SAC HalfCheetah-v5    %12s   %11s   %8s   127 -> 725\n" \
    "${sac:-n/a}" "${sac_sb3:-n/a}" "$(ratio "${sac:-0}" "${sac_sb3:-0}")"
echo "target: ours >= 3x SB3 on the same GPU"
