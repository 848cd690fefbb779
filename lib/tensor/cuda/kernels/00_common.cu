// Shared helpers of the embedded kernels. Sizes are C ints (the Go side checks they fit);
// every kernel uses grid-stride loops, so any grid size is correct.
// Activation codes mirror lib/tensor's Act: 0 none, 1 SiLU, 2 tanh, 3 ReLU, 4 sigmoid.

#define ADJ_LOOP(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

__device__ __forceinline__ float adj_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float adj_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}

// adj_act applies act to z; for SiLU it stores sigmoid(z) in *s.
__device__ __forceinline__ float adj_act(int act, float z, float* s) {
    switch (act) {
    case 1: { float g = adj_sigmoid(z); *s = g; return z * g; }
    case 2: return tanhf(z);
    case 3: return z > 0.0f ? z : 0.0f;
    case 4: return adj_sigmoid(z);
    default: return z;
    }
}

// adj_act_grad is dy·act'(z) from the output y (and, for SiLU, the saved sigmoid s).
__device__ __forceinline__ float adj_act_grad(int act, float s, float y, float dy) {
    switch (act) {
    case 1: return dy * (s + y * (1.0f - s));
    case 2: return dy * (1.0f - y * y);
    case 3: return y > 0.0f ? dy : 0.0f;
    case 4: return dy * y * (1.0f - y);
    default: return dy;
    }
}

// Slot of partner j in particle i's row of the pair layout [B, n, n-1, ...] (j != i).
__device__ __forceinline__ int adj_slot(int i, int j) { return j < i ? j : j - 1; }
// Partner of slot k of particle i.
__device__ __forceinline__ int adj_partner(int i, int k) { return k < i ? k : k + 1; }
