package dsl

// Expr is an expression node.
type Expr interface{ At() Pos }

// Num is a number literal.
type Num struct {
	P    Pos
	Val  float64
	Text string
}

// Ident is a name.
type Ident struct {
	P    Pos
	Name string
}

// Str is a string literal.
type Str struct {
	P   Pos
	Val string
}

// Unary is a prefix operator (only "-" and "+").
type Unary struct {
	P  Pos
	Op string
	X  Expr
}

// Binary is an infix operator: + - * / ^ < <= > >= == !=.
type Binary struct {
	P    Pos // the operator's position
	Op   string
	X, Y Expr
}

// Call is a function call f(args...). Named arguments (net egnn(layers 3)) are in Named.
type Call struct {
	P     Pos
	Fun   string
	Args  []Expr
	Named []Setting
}

// Index is X[i] or X[i, j].
type Index struct {
	P   Pos // position of "["
	X   Expr
	Idx []Expr
}

// Field is X.name (components .x .y .z).
type Field struct {
	P    Pos // position of the name
	X    Expr
	Name string
}

// SumKind says what a sum runs over.
type SumKind int

// Sum domains.
const (
	SumParticles SumKind = iota // sum i: …
	SumPairsLess                // sum pairs i<j: … (each unordered pair once)
	SumPairsNe                  // sum pairs i!=j: … (ordered pairs)
)

// Sum is a sum over particles or pairs of particles.
type Sum struct {
	P    Pos
	Kind SumKind
	I, J *Ident // J is nil for SumParticles
	Body Expr
}

// Sample is the script expression `sample S N [resample]`.
type Sample struct {
	P        Pos
	Sampler  *Ident
	N        Expr
	Resample bool // resample the draws systematically by their importance weights
}

// Refine is `refine X K [method mala|hmc|gibbs]`: K MCMC moves on the true energy of X's system from
// each sample of X. As a statement it replaces X's samples; as the value of `Y = refine X K`
// it binds the refined samples to Y and leaves X as it is.
type Refine struct {
	P      Pos
	X      *Ident
	Steps  Expr
	Method *Ident // nil: MALA
}

// Load is the script expression `load "path" [with SDE]`.
type Load struct {
	P    Pos
	Path *Str
	With *Ident // the sde of a checkpoint whose schedule is a σ(t) formula
}

// At returns the node's position.
func (e *Num) At() Pos    { return e.P }
func (e *Ident) At() Pos  { return e.P }
func (e *Str) At() Pos    { return e.P }
func (e *Unary) At() Pos  { return e.P }
func (e *Binary) At() Pos { return e.P }
func (e *Call) At() Pos   { return e.P }
func (e *Index) At() Pos  { return e.P }
func (e *Field) At() Pos  { return e.P }
func (e *Sum) At() Pos    { return e.P }
func (e *Sample) At() Pos { return e.P }
func (e *Refine) At() Pos { return e.P }
func (e *Load) At() Pos   { return e.P }

// Stmt is a top-level statement.
type Stmt interface{ At() Pos }

// Let binds named constants: let a = 1, b = 2.
type Let struct {
	P     Pos
	Names []*Ident
	Vals  []Expr
}

// Setting is one `key value` item of a block or a named argument.
type Setting struct {
	Key   *Ident
	Value Expr
}

// SystemDecl declares a Boltzmann target.
type SystemDecl struct {
	P           Pos
	Name        *Ident
	Particles   Expr // nil when missing
	Dim         Expr
	Lets        []*Let
	Energy      Expr
	Symmetry    []*Ident
	Box         []Expr
	Periodic    bool
	BoxPos      Pos
	Temperature Expr
	Soften      Expr
	End         Pos
}

// SDEDecl declares a noise schedule and time grid.
type SDEDecl struct {
	P        Pos
	Name     *Ident
	Sigma    Expr   // a call geometric(a,b) / constant(s) / a number, when SigmaVar is nil
	SigmaVar *Ident // the parameter of sigma(t) = expr
	Steps    Expr
	End      Pos
}

// SamplerDecl declares a sampler: sampler s = adjoint(sys, sde) { settings }.
type SamplerDecl struct {
	P        Pos
	Name     *Ident
	Method   *Ident
	Args     []Expr
	Settings []Setting
}

// Assign is `name = expr` (sample, load, or any value).
type Assign struct {
	P     Pos
	Name  *Ident
	Value Expr
}

// Train is `train S for N minutes|seconds|epochs [{ options }]`; the options block holds the
// settings of one training call (checkpoint, checkpoint_every, diagnose_every).
type Train struct {
	P        Pos
	Sampler  *Ident
	Amount   Expr
	Unit     *Ident
	Settings []Setting
}

// Command is a script statement taking one expression: report, plot, print.
type Command struct {
	P    Pos
	Verb string
	X    Expr
}

// Save is `save X "path"`.
type Save struct {
	P    Pos
	X    Expr
	Path *Str
}

// Program is a parsed source file.
type Program struct {
	File  string
	Src   string
	Stmts []Stmt
}

func (s *Let) At() Pos         { return s.P }
func (s *SystemDecl) At() Pos  { return s.P }
func (s *SDEDecl) At() Pos     { return s.P }
func (s *SamplerDecl) At() Pos { return s.P }
func (s *Assign) At() Pos      { return s.P }
func (s *Train) At() Pos       { return s.P }
func (s *Command) At() Pos     { return s.P }
func (s *Save) At() Pos        { return s.P }
