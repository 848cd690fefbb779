// Element-wise kernels: arithmetic, activations, Linear's epilogue, concat, repeat, losses
// the Adam update and the parameter average.

extern "C" __global__ void adj_fill(float* y, float v, int n) {
    ADJ_LOOP(i, n) y[i] = v;
}

extern "C" __global__ void adj_add(float* y, const float* a, const float* b, int n) {
    ADJ_LOOP(i, n) y[i] = a[i] + b[i];
}

extern "C" __global__ void adj_sub(float* y, const float* a, const float* b, int n) {
    ADJ_LOOP(i, n) y[i] = a[i] - b[i];
}

extern "C" __global__ void adj_mul(float* y, const float* a, const float* b, int n) {
    ADJ_LOOP(i, n) y[i] = a[i] * b[i];
}

// y += alpha * x
extern "C" __global__ void adj_axpy(float* y, const float* x, float alpha, int n) {
    ADJ_LOOP(i, n) y[i] += alpha * x[i];
}

// y += alpha * a * b (the backward of a product)
extern "C" __global__ void adj_mul_acc(float* y, const float* a, const float* b, float alpha, int n) {
    ADJ_LOOP(i, n) y[i] += alpha * a[i] * b[i];
}

extern "C" __global__ void adj_scale(float* y, float alpha, int n) {
    ADJ_LOOP(i, n) y[i] *= alpha;
}

// y = act(z); sig (may be null) receives sigmoid(z) for SiLU.
extern "C" __global__ void adj_act_fwd(float* y, const float* z, float* sig, int act, int n) {
    ADJ_LOOP(i, n) {
        float s = 0.0f;
        float v = adj_act(act, z[i], &s);
        if (sig) sig[i] = s;
        y[i] = v;
    }
}

// dx (+)= dy * act'(z), from y and (SiLU) sig. accumulate 0 overwrites dx.
extern "C" __global__ void adj_act_bwd(float* dx, const float* sig, const float* y, const float* dy, int act, int accumulate, int n) {
    ADJ_LOOP(i, n) {
        float g = adj_act_grad(act, sig ? sig[i] : 0.0f, y[i], dy[i]);
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

// y[r, c] = act(y[r, c] + b[c]) in place (b may be null); sig may be null. Linear's epilogue.
extern "C" __global__ void adj_bias_act(float* y, const float* b, float* sig, int act, int rows, int cols) {
    int n = rows * cols;
    ADJ_LOOP(i, n) {
        float z = y[i] + (b ? b[i % cols] : 0.0f);
        float s = 0.0f;
        float v = adj_act(act, z, &s);
        if (sig) sig[i] = s;
        y[i] = v;
    }
}

// y [rows, ka+kb] = [a | b]
extern "C" __global__ void adj_concat_fwd(float* y, const float* a, const float* b, int rows, int ka, int kb) {
    int k = ka + kb, n = rows * k;
    ADJ_LOOP(i, n) {
        int r = i / k, c = i - r * k;
        y[i] = c < ka ? a[r * ka + c] : b[r * kb + c - ka];
    }
}

// da += dy[:, :ka], db += dy[:, ka:] (either may be null)
extern "C" __global__ void adj_concat_bwd(float* da, float* db, const float* dy, int rows, int ka, int kb) {
    int k = ka + kb, n = rows * k;
    ADJ_LOOP(i, n) {
        int r = i / k, c = i - r * k;
        if (c < ka) {
            if (da) da[r * ka + c] += dy[i];
        } else if (db) {
            db[r * kb + c - ka] += dy[i];
        }
    }
}

// y [B, n, K] = x [B, K] repeated over the particle axis
extern "C" __global__ void adj_repeat_fwd(float* y, const float* x, int B, int n, int K) {
    int total = B * n * K;
    ADJ_LOOP(i, total) {
        int c = i % K, b = i / (n * K);
        y[i] = x[b * K + c];
    }
}

// dx [B, K] += sum over particles of dy [B, n, K]
extern "C" __global__ void adj_repeat_bwd(float* dx, const float* dy, int B, int n, int K) {
    int total = B * K;
    ADJ_LOOP(t, total) {
        int b = t / K, c = t - b * K;
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += dy[(b * n + i) * K + c];
        dx[t] += s;
    }
}

// *loss += sum (out - target)^2 (block reduction, one atomic per block)
extern "C" __global__ void adj_sqdiff_sum(float* loss, const float* out, const float* target, int n) {
    __shared__ float part[32];
    float s = 0.0f;
    ADJ_LOOP(i, n) {
        float d = out[i] - target[i];
        s += d * d;
    }
    s = adj_warp_sum(s);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) part[warp] = s;
    __syncthreads();
    if (warp == 0) {
        int nw = (blockDim.x + 31) >> 5;
        s = lane < nw ? part[lane] : 0.0f;
        s = adj_warp_sum(s);
        if (lane == 0) atomicAdd(loss, s);
    }
}

// dout += scale * (out - target)
extern "C" __global__ void adj_sqdiff_bwd(float* dout, const float* out, const float* target, float scale, int n) {
    ADJ_LOOP(i, n) dout[i] += scale * (out[i] - target[i]);
}

// One Adam step: m, v moments in float32; lr is already divided by (1 - beta1^t) and
// sc2 = 1/sqrt(1 - beta2^t), as in lib/nn.
extern "C" __global__ void adj_adam(float* p, const float* g, float* m, float* v, float lr, float beta1, float beta2,
                                    float eps, float sc2, int n) {
    ADJ_LOOP(i, n) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * mi / (sqrtf(vi) * sc2 + eps);
    }
}

// One update of the exponential moving average of the parameters: a = d*a + (1 - d)*p (lib/nn
// keeps it in float64; float32 here).
extern "C" __global__ void adj_ema(float* a, const float* p, float d, int n) {
    ADJ_LOOP(i, n) a[i] = d * a[i] + (1.0f - d) * p[i];
}
