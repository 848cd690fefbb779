package adjoint

// buffer is the FIFO replay buffer of terminal states X_1 and their regression targets
// −∇g(X_1), in ring storage: once full, each new sample overwrites the oldest. Each sample also
// keeps the epoch it was inserted at (the epochs the sampler had completed then), which the
// staleness diagnostic (Sampler.BufferAges) reads.
type buffer struct {
	cap, dim int
	x, y     []float64 // n·dim each
	ep       []int32   // n: epochs completed when each sample was inserted
	n, next  int       // samples held; slot the next sample goes to once full
	// epochsInferred is set when the insertion epochs were not recorded (a checkpoint written
	// before they were) and were inferred from the ring order instead (restoreEpochs).
	epochsInferred bool
}

// newBuffer returns an empty buffer of capacity samples of dimension dim.
func newBuffer(capacity, dim int) buffer { return buffer{cap: capacity, dim: dim} }

// push appends the samples of x (len(x)/dim of them) with their targets y, inserted at epoch.
func (b *buffer) push(x, y []float64, epoch int) {
	for k := 0; k < len(x)/b.dim; k++ {
		if b.n < b.cap {
			b.x = append(b.x, x[k*b.dim:(k+1)*b.dim]...)
			b.y = append(b.y, y[k*b.dim:(k+1)*b.dim]...)
			b.ep = append(b.ep, int32(epoch))
			b.n++
			b.next = b.n % b.cap
			continue
		}
		copy(b.x[b.next*b.dim:(b.next+1)*b.dim], x[k*b.dim:(k+1)*b.dim])
		copy(b.y[b.next*b.dim:(b.next+1)*b.dim], y[k*b.dim:(k+1)*b.dim])
		b.ep[b.next] = int32(epoch)
		b.next = (b.next + 1) % b.cap
	}
}

// state returns sample j's terminal state and target (views into the buffer).
func (b *buffer) state(j int) (x1, target []float64) {
	return b.x[j*b.dim : (j+1)*b.dim], b.y[j*b.dim : (j+1)*b.dim]
}

// rank returns the insertion rank of slot j: 0 for the oldest sample held, n−1 for the newest.
func (b *buffer) rank(j int) int { return (j - b.next%max(b.n, 1) + b.n) % max(b.n, 1) }

// inferEpochs fills the insertion epochs of a buffer restored without them, from the ring order:
// the newest perEpoch samples were inserted at epoch−1, the perEpoch before them at epoch−2, and
// so on (not below 0), as training that adds perEpoch samples an epoch leaves them.
func (b *buffer) inferEpochs(epoch, perEpoch int) {
	b.ep = make([]int32, b.n)
	for j := range b.ep {
		back := (b.n - 1 - b.rank(j)) / max(perEpoch, 1) // 0 for the newest batch
		b.ep[j] = int32(max(epoch-1-back, 0))
	}
	b.epochsInferred = true
}
