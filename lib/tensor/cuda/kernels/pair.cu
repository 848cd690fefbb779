// Pair kernels of an EGNN on a fully connected graph, in lib/tensor's dense pair layout:
// [B, n, n-1, ...], slot k of particle i holding partner j = k < i ? k : k+1.

// y [B, n, n-1, d] = x_i - x_j for x [B, n, d]
extern "C" __global__ void adj_pair_diff_fwd(float* y, const float* x, int B, int n, int d) {
    int total = B * n * (n - 1) * d;
    ADJ_LOOP(t, total) {
        int c = t % d;
        int q = t / d;          // pair index (b, i, k)
        int k = q % (n - 1);
        int bi = q / (n - 1);   // b*n + i
        int i = bi % n, b = bi / n;
        int j = adj_partner(i, k);
        y[t] = x[bi * d + c] - x[(b * n + j) * d + c];
    }
}

// dx [B, n, d] += sum_j dy(i, j) - sum_j dy(j, i)
extern "C" __global__ void adj_pair_diff_bwd(float* dx, const float* dy, int B, int n, int d) {
    int total = B * n * d;
    ADJ_LOOP(t, total) {
        int c = t % d;
        int bi = t / d;
        int i = bi % n, b = bi / n;
        float s = 0.0f;
        for (int k = 0; k < n - 1; k++) s += dy[((long long)bi * (n - 1) + k) * d + c];
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            s -= dy[((long long)(b * n + j) * (n - 1) + adj_slot(j, i)) * d + c];
        }
        dx[t] += s;
    }
}

// y [rows] = sum_c x[r, c]^2 over the last axis of length d
extern "C" __global__ void adj_sqnorm_fwd(float* y, const float* x, int rows, int d) {
    ADJ_LOOP(r, rows) {
        float s = 0.0f;
        for (int c = 0; c < d; c++) {
            float v = x[(long long)r * d + c];
            s += v * v;
        }
        y[r] = s;
    }
}

// dx [rows, d] += 2 dy[r] x[r, c]
extern "C" __global__ void adj_sqnorm_bwd(float* dx, const float* x, const float* dy, int rows, int d) {
    int total = rows * d;
    ADJ_LOOP(t, total) dx[t] += 2.0f * dy[t / d] * x[t];
}

// y [rows, d] = D / (sqrt(r + 1e-8) + 1)
extern "C" __global__ void adj_normdiff_fwd(float* y, const float* D, const float* r, int rows, int d) {
    int total = rows * d;
    ADJ_LOOP(t, total) y[t] = D[t] / (sqrtf(r[t / d] + 1e-8f) + 1.0f);
}

// dD += dy / (s + 1); dr -= (dy . D) / (s + 1)^2 / (2 s), s = sqrt(r + 1e-8). Either may be null.
extern "C" __global__ void adj_normdiff_bwd(float* dD, float* dr, const float* D, const float* r, const float* dy, int rows, int d) {
    ADJ_LOOP(e, rows) {
        float s = sqrtf(r[e] + 1e-8f);
        float inv = 1.0f / (s + 1.0f);
        float dot = 0.0f;
        for (int c = 0; c < d; c++) {
            long long t = (long long)e * d + c;
            float g = dy[t];
            if (dD) dD[t] += g * inv;
            dot += g * D[t];
        }
        if (dr) dr[e] -= dot * inv * inv / (2.0f * s);
    }
}

// y [B, n, n-1, H] = act(a_i + bm_j + wr r_ij + we e_ij); e and we may be null; sig (may be
// null) receives sigmoid of the pre-activation for SiLU.
extern "C" __global__ void adj_edge_combine_fwd(float* y, float* sig, const float* a, const float* bm, const float* r,
                                                const float* e, const float* wr, const float* we, int act, int B, int n, int H) {
    int total = B * n * (n - 1) * H;
    ADJ_LOOP(t, total) {
        int h = t % H;
        int q = t / H;
        int k = q % (n - 1);
        int bi = q / (n - 1);
        int i = bi % n, b = bi / n;
        int j = adj_partner(i, k);
        float z = a[bi * H + h] + bm[(b * n + j) * H + h] + wr[h] * r[q];
        if (e) z += we[h] * e[q];
        float s = 0.0f;
        float v = adj_act(act, z, &s);
        if (sig) sig[t] = s;
        y[t] = v;
    }
}

// out [B, n, H] (+)= sum over partners of m [B, n, n-1, H] (SumPairs; the gradient of the
// node term a_i of EdgeCombine).
extern "C" __global__ void adj_sum_pairs(float* out, const float* m, int nodes, int k, int H, int accumulate) {
    int total = nodes * H;
    ADJ_LOOP(t, total) {
        int h = t % H, v = t / H;
        float s = 0.0f;
        for (int q = 0; q < k; q++) s += m[((long long)v * k + q) * H + h];
        out[t] = accumulate ? out[t] + s : s;
    }
}

// dm [B, n, n-1, H] += dy [B, n, H] broadcast over partners (backward of SumPairs)
extern "C" __global__ void adj_sum_pairs_bwd(float* dm, const float* dy, int nodes, int k, int H) {
    int total = nodes * k * H;
    ADJ_LOOP(t, total) {
        int h = t % H;
        int v = t / (k * H);
        dm[t] += dy[v * H + h];
    }
}

// out [B, n, H] += sum_i g(i, j) over the particles i that have j as partner (the gradient of
// the node term bm_j of EdgeCombine).
extern "C" __global__ void adj_sum_partners(float* out, const float* g, int B, int n, int H) {
    int total = B * n * H;
    ADJ_LOOP(t, total) {
        int h = t % H;
        int bj = t / H;
        int j = bj % n, b = bj / n;
        float s = 0.0f;
        for (int i = 0; i < n; i++) {
            if (i == j) continue;
            s += g[((long long)(b * n + i) * (n - 1) + adj_slot(i, j)) * H + h];
        }
        out[t] += s;
    }
}

// Attention gate, one warp per row: g[r] = sigmoid(m_r . w + b[0]), y_r = m_r g[r].
extern "C" __global__ void adj_gate_fwd(float* y, float* g, const float* m, const float* w, const float* b, int rows, int H) {
    int lane = threadIdx.x & 31;
    int warps = (blockDim.x >> 5) * gridDim.x;
    for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
        const float* row = m + (long long)r * H;
        float s = 0.0f;
        for (int c = lane; c < H; c += 32) s += row[c] * w[c];
        s = adj_warp_sum(s);
        s = __shfl_sync(0xffffffffu, s, 0);
        float gv = adj_sigmoid(s + b[0]);
        if (lane == 0) g[r] = gv;
        for (int c = lane; c < H; c += 32) y[(long long)r * H + c] = row[c] * gv;
    }
}

// Gate backward, one warp per row: dz[r] = (dy_r . m_r) g (1 - g); dm_r += dy_r g + dz w (dm
// may be null). The caller reduces dw += sum_r dz[r] m_r and db += sum_r dz[r].
extern "C" __global__ void adj_gate_bwd(float* dm, float* dz, const float* m, const float* w, const float* g,
                                        const float* dy, int rows, int H) {
    int lane = threadIdx.x & 31;
    int warps = (blockDim.x >> 5) * gridDim.x;
    for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
        const float* row = m + (long long)r * H;
        const float* dyr = dy + (long long)r * H;
        float s = 0.0f;
        for (int c = lane; c < H; c += 32) s += dyr[c] * row[c];
        s = adj_warp_sum(s);
        s = __shfl_sync(0xffffffffu, s, 0);
        float gv = g[r];
        float z = s * gv * (1.0f - gv);
        if (lane == 0) dz[r] = z;
        if (dm) {
            for (int c = lane; c < H; c += 32) dm[(long long)r * H + c] += dyr[c] * gv + z * w[c];
        }
    }
}

// DotTanh, one warp per row: u[r] = tanh(c_r . w), y[r] = scale u[r].
extern "C" __global__ void adj_dot_tanh_fwd(float* y, float* u, const float* c, const float* w, float scale, int rows, int H) {
    int lane = threadIdx.x & 31;
    int warps = (blockDim.x >> 5) * gridDim.x;
    for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
        const float* row = c + (long long)r * H;
        float s = 0.0f;
        for (int k = lane; k < H; k += 32) s += row[k] * w[k];
        s = adj_warp_sum(s);
        if (lane == 0) {
            float t = tanhf(s);
            u[r] = t;
            y[r] = scale * t;
        }
    }
}

// DotTanh backward: dz[r] = dy[r] scale (1 - u^2); dc_r += dz w (dc may be null). The caller
// reduces dw += sum_r dz[r] c_r.
extern "C" __global__ void adj_dot_tanh_bwd(float* dc, float* dz, const float* w, const float* u, const float* dy,
                                            float scale, int rows, int H) {
    int total = rows * H;
    ADJ_LOOP(t, total) {
        int r = t / H, k = t - r * H;
        float z = dy[r] * scale * (1.0f - u[r] * u[r]);
        if (k == 0) dz[r] = z;
        if (dc) dc[t] += z * w[k];
    }
}

// y [B, n, d] = x + sum_k Dn(i, k) c(i, k)
extern "C" __global__ void adj_coord_update_fwd(float* y, const float* x, const float* Dn, const float* c, int B, int n, int d) {
    int total = B * n * d;
    ADJ_LOOP(t, total) {
        int a = t % d, bi = t / d;
        float s = x[t];
        for (int k = 0; k < n - 1; k++) {
            long long q = (long long)bi * (n - 1) + k;
            s += Dn[q * d + a] * c[q];
        }
        y[t] = s;
    }
}

// CoordUpdate backward over pairs: dDn(q) += dy_i c(q); dc(q) += dy_i . Dn(q) (either may be
// null). The caller adds dy to dx.
extern "C" __global__ void adj_coord_update_bwd(float* dDn, float* dc, const float* Dn, const float* c, const float* dy,
                                                int B, int n, int d) {
    int pairs = B * n * (n - 1);
    ADJ_LOOP(q, pairs) {
        int bi = q / (n - 1);
        float s = 0.0f;
        for (int a = 0; a < d; a++) {
            float g = dy[bi * d + a];
            if (dDn) dDn[(long long)q * d + a] += g * c[q];
            s += g * Dn[(long long)q * d + a];
        }
        if (dc) dc[q] += s;
    }
}

// y [B, n, d] (+)= x - mean over particles (centre-of-mass removal; the projection is
// symmetric, so accumulate=1 with x = dy is its backward).
extern "C" __global__ void adj_remove_mean(float* y, const float* x, int B, int n, int d, int accumulate) {
    int total = B * d;
    ADJ_LOOP(t, total) {
        int b = t / d, a = t - b * d;
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += x[(b * n + i) * d + a];
        float mean = s / (float)n;
        for (int i = 0; i < n; i++) {
            int p = (b * n + i) * d + a;
            float v = x[p] - mean;
            y[p] = accumulate ? y[p] + v : v;
        }
    }
}
