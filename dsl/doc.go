// Package dsl implements the adjoint declaration and scripting language: systems (energies
// written as formulas), noise schedules, samplers and the script statements that train,
// sample, evaluate and plot them. Source is parsed, checked (with line:column errors that
// show the source line, a caret and a hint), and compiled: an energy becomes a flat,
// preallocated instruction tape with its reverse-mode gradient, evaluated over batches of
// configurations in parallel.
//
// The package is a small compiler; its files follow the stages:
//
//   - syntax: lexer.go (tokens), ast.go (the tree), parser.go (statements and expressions),
//     format.go (expressions back to text), errors.go (located errors with hints);
//   - checking: check.go (names, kinds and the plan of a script), check_system.go,
//     check_sde.go, check_sampler.go, check_data.go, check_correct.go (sample … resample,
//     refine), check_report.go and check_plot.go (one kind of statement each); figures.go lists the figures and the evaluation defaults that
//     scripts share with the command line;
//   - the builtin functions: builtins.go, one table with each function's arity, derivative,
//     CPU form and CUDA form;
//   - lowering to the expression graph: lower.go (contexts, values, names), lower_geom.go
//     (particles, distances, the centre of mass), lower_ops.go (operators, calls, sums);
//   - the expression graph: ir.go (hash-consed nodes with constant folding and
//     simplification), grad.go (reverse-mode derivatives), tape.go (scheduling a graph into a
//     tape of slot instructions, and running it), poly.go (recognising sums of powers);
//   - the compiled energy shared by the back ends: energy.go; diagnose.go explains an energy
//     that is not finite at a finite configuration, term by term;
//   - the CPU back end: cpu_eval.go (batches and chunks), cpu_lanes.go (gathering inputs and
//     scattering gradients of sum lanes), cpu_poly.go and cpu_pairloop.go (native loops for
//     sums of powers);
//   - the CUDA back end: cuda.go (options and launch layout), cuda_gen.go (C forms and tapes),
//     cuda_kernel.go (the kernels), cuda_device.go (running them through NVRTC);
//   - the script session: session.go (Session, Exec, Check), runenv.go (what running
//     statements share), registry.go (declared systems by name), source.go (the source text
//     a system records, for checkpoints that load without the script), defaults.go (the
//     training configuration of a script that declares no sde: adjoint.DefaultsFor).
package dsl
