package interp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"adjoint/kernel/interp"
	"adjoint/lib/display"
)

// textOutput collects a cell's standard output.
type textOutput struct {
	mu  sync.Mutex
	out strings.Builder
}

func (o *textOutput) Stream(name, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if name == "stdout" {
		o.out.WriteString(text)
	}
}
func (o *textOutput) Display(display.Bundle, string, bool) {}
func (o *textOutput) Clear(bool)                           {}

func ExampleInterp_Execute() {
	in, err := interp.New(interp.Options{LateOutputToLog: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	ctx := context.Background()
	// Declarations, statements and a last expression in one cell; fmt needs no import.
	out := &textOutput{}
	res := in.Execute(ctx, "type P struct{ X, Y float64 }\np := P{3, 4}\nfmt.Println(\"norm of\", p)\nmath.Hypot(p.X, p.Y)", out)
	fmt.Print(out.out.String())
	fmt.Println(res.Value.Data[display.MIMEText])
	// Later cells see earlier variables; a panic is an error, and the kernel goes on.
	res = in.Execute(ctx, "panic(p.X)", &textOutput{})
	fmt.Println(res.Err.Name, res.Err.Value)
	res = in.Execute(ctx, "p.Y", &textOutput{})
	fmt.Println(res.Value.Data[display.MIMEText])
	// Output:
	// norm of {3 4}
	// 5
	// panic 3
	// 4
}
