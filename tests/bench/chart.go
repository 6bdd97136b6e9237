package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// palette holds the line colours, one per contender in order.
var palette = []string{"#222222", "#1f77b4", "#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf"}

// Chart writes an SVG chart of throughput against concurrency: a panel per
// packet size, a line per contender, calls per second on a logarithmic
// axis.
func Chart(w io.Writer, results []Result) error {
	t := newTable(results)
	const (
		panelW, panelH = 460, 330
		left, right    = 70, 20
		top, bottom    = 40, 60
		legendH        = 24
	)
	var sizes []Size
	for _, s := range []Size{Small, Large} {
		if t.hasSize(s) {
			sizes = append(sizes, s)
		}
	}
	rows := (len(t.names) + 3) / 4
	width := panelW * max(len(sizes), 1)
	height := panelH + rows*legendH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	for i, size := range sizes {
		x0 := i * panelW
		plotW, plotH := panelW-left-right, panelH-top-bottom
		lo, hi := math.Inf(1), 0.0
		for _, name := range t.names {
			for _, l := range levels {
				if r := t.rate(name, Spec{l.kind, size, l.conns, l.callers}); !math.IsNaN(r) && r > 0 {
					lo, hi = math.Min(lo, r), math.Max(hi, r)
				}
			}
		}
		if hi == 0 {
			lo, hi = 1, 10
		}
		// A logarithmic axis from the decade below the lowest rate to the
		// decade above the highest, so that every contender's line shows.
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi == dlo {
			dhi++
		}
		px := func(k int) float64 {
			return float64(x0+left) + (float64(k)+0.5)*float64(plotW)/float64(len(levels))
		}
		py := func(v float64) float64 {
			return float64(top) + float64(plotH)*(1-(math.Log10(v)-dlo)/(dhi-dlo))
		}
		fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">Throughput, %s packets (calls/s, log scale)</text>`+"\n", x0+left, sizeWords(size))
		for d := dlo; d <= dhi; d++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, d)
				if d == dhi && m > 1 {
					break
				}
				y := py(v)
				grid := "#eeeeee"
				if m == 1 {
					grid = "#cccccc"
				}
				fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", x0+left, y, x0+left+plotW, y, grid)
				fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0+left-6, y+4, shortCount(v))
			}
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0+left, top+plotH, x0+left+plotW, top+plotH)
		for k, l := range levels {
			label := fmt.Sprintf("%d×%d", l.conns, l.callers)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px(k), top+plotH+18, label)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">connections × concurrent callers</text>`+"\n", x0+left+plotW/2, top+plotH+40)
		for n, name := range t.names {
			color := palette[n%len(palette)]
			var pts []string
			for k, l := range levels {
				r := t.rate(name, Spec{l.kind, size, l.conns, l.callers})
				if math.IsNaN(r) {
					continue
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(k), py(r)))
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(k), py(r), color)
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), color)
			}
		}
	}
	for n, name := range t.names {
		x := 20 + (n%4)*(width-40)/4
		y := panelH + (n/4)*legendH + 10
		color := palette[n%len(palette)]
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", x, y, x+24, y, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+30, y+4, escapeXML(name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// shortCount formats an axis value: 1500000 as 1.5M, 20000 as 20k.
func shortCount(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v/1e6), "0"), ".") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v/1e3), "0"), ".") + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
