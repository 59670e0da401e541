package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// plot is one chart of throughput against clients, drawn as plain SVG.
type plot struct {
	file, title string
	series      []series
	clients     []int
}

type series struct {
	label string
	color string
	pts   []point
}

type point struct {
	clients      int
	med, lo, hi  float64
	hasMinAndMax bool
}

var palette = map[string]string{
	"riot1": "#d62728", "riot3": "#ff7f0e", "riot1w": "#9467bd", "riot3w": "#8c564b", "etcd3": "#1f77b4", "etcd1": "#17becf", "redis": "#2ca02c",
	"riot3s1": "#e377c2", "riot3s3": "#bcbd22", "riot3s6": "#7f7f7f", "rediscluster": "#98df8a",
}

// plots builds the SET and GET charts from the swept rows.
func (r *report) plots() []plot {
	counts := append([]int{}, r.cfg.sweep...)
	if !slices.Contains(counts, r.cfg.clients) {
		counts = append(counts, r.cfg.clients)
	}
	slices.Sort(counts)
	mk := func(file, title string, ws ...workload) plot {
		p := plot{file: file, title: title, clients: counts}
		for _, s := range r.systems {
			for _, w := range workloadsOf(s) {
				if !containsWorkload(ws, w) {
					continue
				}
				sr := series{label: s.label, color: palette[s.key]}
				if w.readonly {
					sr.label += ", READONLY"
				}
				for _, n := range counts {
					med, lo, hi, ok := r.stat(rowKey{s.key, w.key, n, false}, ops)
					if ok {
						sr.pts = append(sr.pts, point{n, med, lo, hi, len(r.samples[rowKey{s.key, w.key, n, false}]) > 1})
					}
				}
				if len(sr.pts) > 0 {
					p.series = append(p.series, sr)
				}
			}
		}
		return p
	}
	return []plot{
		mk("set.svg", "SET (no pipelining): operations/s against clients", wSet),
		mk("get.svg", "GET (linearizable; dashed: READONLY): operations/s against clients", wGet, wGetStale),
	}
}

func (p plot) svg() string {
	const (
		w, h                     = 760, 440
		left, right, top, bottom = 80, 250, 40, 50
	)
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	ymax := 0.0
	for _, s := range p.series {
		for _, pt := range s.pts {
			ymax = math.Max(ymax, math.Max(pt.hi, pt.med))
		}
	}
	step := niceStep(ymax / 5)
	ytop := math.Max(step, math.Ceil(ymax/step)*step)
	minX, maxX := math.Log2(float64(p.clients[0])), math.Log2(float64(p.clients[len(p.clients)-1]))
	x := func(c int) float64 {
		if maxX == minX {
			return float64(left) + pw/2
		}
		return float64(left) + (math.Log2(float64(c))-minX)/(maxX-minX)*pw
	}
	y := func(v float64) float64 { return float64(top) + ph - v/ytop*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(p.title))
	for v := 0.0; v <= ytop+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, float64(left)+pw, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y(v), fmtOps(v))
	}
	for _, c := range p.clients {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#eee"/>`+"\n", x(c), x(c), top, float64(top)+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x(c), float64(top)+ph+16, c)
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">clients (log scale)</text>`+"\n", float64(left)+pw/2, h-10)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">operations/s</text>`+"\n", float64(top)+ph/2)
	for i, s := range p.series {
		dash := ""
		if strings.HasSuffix(s.label, "READONLY") {
			dash = ` stroke-dasharray="6 4"`
		}
		var path []string
		for _, pt := range s.pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x(pt.clients), y(pt.med)))
			if pt.hasMinAndMax {
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(pt.clients), x(pt.clients), y(pt.lo), y(pt.hi), s.color)
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s, %d clients: %s ops/s</title></circle>`+"\n",
				x(pt.clients), y(pt.med), s.color, html.EscapeString(s.label), pt.clients, fmtOps(pt.med))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(path, " "), s.color, dash)
		ly := top + 10 + i*20
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", w-right+15, w-right+40, ly, ly, s.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", w-right+46, ly, html.EscapeString(s.label))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func containsWorkload(ws []workload, w workload) bool {
	return slices.ContainsFunc(ws, func(x workload) bool { return x.key == w.key })
}
