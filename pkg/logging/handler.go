package logging

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler is a slog.Handler that redacts the message and every attribute
// value before passing the record on.
type Handler struct {
	next slog.Handler
	r    *Redactor
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler wraps next; r may be nil (patterns only).
func NewHandler(next slog.Handler, r *Redactor) *Handler {
	return &Handler{next: next, r: r}
}

// Enabled reports what next reports.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle redacts a copy of rec: the caller's record is not modified.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs once, here, rather than on every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red), r: h.r}
}

// WithGroup opens a group on next; group names are code, not data.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), r: h.r}
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	a.Value = h.value(a.Value.Resolve())
	return a
}

func (h *Handler) value(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, a := range g {
			red[i] = h.attr(a)
		}
		return slog.GroupValue(red...)
	case slog.KindAny:
		return h.anyValue(v)
	default: // numbers, bools, times and durations carry no secret
		return v
	}
}

// anyValue redacts errors and Stringers as their text. Other values (maps,
// structs) keep their shape unless their printed form holds something to
// redact; then the redacted text replaces them, since the handler cannot
// edit inside an arbitrary value.
func (h *Handler) anyValue(v slog.Value) slog.Value {
	switch x := v.Any().(type) {
	case nil:
		return v
	case error:
		return slog.StringValue(h.r.String(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(h.r.String(x.String()))
	case []byte:
		return slog.StringValue(h.r.String(string(x)))
	default:
		s := fmt.Sprintf("%+v", x)
		if red := h.r.String(s); red != s {
			return slog.StringValue(red)
		}
		return v
	}
}
