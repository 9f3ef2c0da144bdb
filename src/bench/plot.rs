//! Plots of a bench: bars with error bars for rows, a line with error bars
//! for a sweep. Written as SVG; PNG is the same picture rasterised.

use std::fmt::Write as _;

use super::table::sig;
use super::{Bench, BenchError};

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 88.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round step for about `target` ticks up to `max`.
fn nice_step(max: f64, target: f64) -> f64 {
    let raw = max / target;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let f = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * mag
}

/// The picture's layout: the y axis' top and step, the plot's size, and
/// each point's slot.
struct Layout {
    ymax: f64,
    step: f64,
    plot_w: f64,
    plot_h: f64,
    slot: f64,
}

impl Layout {
    fn y(&self, v: f64) -> f64 {
        TOP + self.plot_h * (1.0 - v / self.ymax)
    }

    fn x(&self, i: usize) -> f64 {
        LEFT + self.slot * (i as f64 + 0.5)
    }
}

/// A bench's rows as points: label, mean, standard deviation.
type Point = (String, f64, f64);

/// Render the bench as an SVG document: the frame (title, grid, axes and
/// their labels), then the points (bars, or a line for a sweep) with their
/// error bars and values.
pub fn svg(name: &str, bench: &Bench) -> Result<String, BenchError> {
    let mut points = Vec::new();
    for r in &bench.rows {
        let st = r.stats().ok_or_else(|| BenchError::Malformed {
            name: name.to_string(),
            msg: format!("row {:?} has neither samples nor a summary", r.label),
        })?;
        points.push((r.label.clone(), st.mean, st.stddev));
    }
    if points.is_empty() {
        return Err(BenchError::Empty(name.to_string()));
    }
    let top = points
        .iter()
        .map(|(_, m, s)| m + s)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let step = nice_step(top, 5.0);
    let plot_w = W - LEFT - RIGHT;
    let l = Layout {
        ymax: (top / step).ceil() * step,
        step,
        plot_w,
        plot_h: H - TOP - BOTTOM,
        slot: plot_w / points.len() as f64,
    };
    let mut s = frame(bench, &l);
    marks(&mut s, bench, &l, &points);
    s.push_str("</svg>\n");
    Ok(s)
}

/// The SVG up to the points: title, grid, axes and their labels.
fn frame(bench: &Bench, l: &Layout) -> String {
    let (ymax, step, plot_w, plot_h) = (l.ymax, l.step, l.plot_w, l.plot_h);
    let y = |v: f64| l.y(v);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="26" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        W / 2.0,
        esc(&bench.title)
    );
    // Grid and y axis.
    let mut v = 0.0;
    while v <= ymax + step / 2.0 {
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 8.0,
            yy + 4.0,
            sig(v, 3)
        );
        v += step;
    }
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/>"#,
        TOP + plot_h,
        TOP + plot_h,
        W - RIGHT,
        TOP + plot_h
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(20 {:.1}) rotate(-90)" text-anchor="middle">mean ({})</text>"#,
        TOP + plot_h / 2.0,
        esc(&bench.unit)
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 46.0,
        esc(bench.param.as_deref().unwrap_or(&bench.label))
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#555555">error bars: one standard deviation</text>"##,
        W - RIGHT,
        H - 12.0
    );
    s
}

/// The points: a bar each, or a line through them for a sweep; error bars
/// of one standard deviation; labels and values.
fn marks(s: &mut String, bench: &Bench, l: &Layout, points: &[Point]) {
    let (slot, plot_h) = (l.slot, l.plot_h);
    let (x, y) = (|i: usize| l.x(i), |v: f64| l.y(v));
    let sweep = bench.param.is_some();
    if sweep {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, m, _))| format!("{:.1},{:.1}", x(i), y(*m)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1f5fa8" stroke-width="2"/>"##,
            path.join(" ")
        );
    }
    for (i, (label, mean, sd)) in points.iter().enumerate() {
        let cx = x(i);
        if sweep {
            let _ = writeln!(
                s,
                r##"<circle cx="{cx:.1}" cy="{:.1}" r="4" fill="#1f5fa8"/>"##,
                y(*mean)
            );
        } else {
            let bw = (slot * 0.6).min(120.0);
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#7fa7d4" stroke="#1f5fa8"/>"##,
                cx - bw / 2.0,
                y(*mean),
                (TOP + plot_h - y(*mean)).max(0.0)
            );
        }
        // Error bar: mean ± one standard deviation.
        let (lo, hi) = (y((mean - sd).max(0.0)), y(mean + sd));
        let _ = writeln!(
            s,
            r#"<path d="M{cx:.1} {lo:.1}V{hi:.1}M{:.1} {lo:.1}H{:.1}M{:.1} {hi:.1}H{:.1}" stroke="black" stroke-width="1.5"/>"#,
            cx - 6.0,
            cx + 6.0,
            cx - 6.0,
            cx + 6.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_h + 20.0,
            esc(label)
        );
        let _ = writeln!(
            s,
            r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#333333">{}{}</text>"##,
            y(mean + sd) - 6.0,
            sig(*mean, 4),
            esc(&bench.unit)
        );
    }
}

/// Errors rasterising a plot.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("the plot's SVG did not parse: {0}")]
    Svg(String),
    #[error("could not make a {0}x{1} picture")]
    Size(u32, u32),
    #[error("PNG encoding failed: {0}")]
    Encode(String),
    #[error("no fonts found for the plot's text: install fonts-dejavu-core")]
    NoFonts,
    #[error("this series was built without PNG plots: write the plot as .svg, or build with `cargo install --features png`")]
    NotBuilt,
}

/// Without the `png` feature there is no rasteriser.
#[cfg(not(feature = "png"))]
pub fn png(_svg: &str) -> Result<Vec<u8>, PngError> {
    Err(PngError::NotBuilt)
}

/// Rasterise an SVG document to PNG, with the system's fonts for text.
#[cfg(feature = "png")]
pub fn png(svg: &str) -> Result<Vec<u8>, PngError> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    if opt.fontdb.is_empty() {
        return Err(PngError::NoFonts);
    }
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| PngError::Svg(e.to_string()))?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width() * 2, size.height() * 2);
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or(PngError::Size(w, h))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PngError::Encode(e.to_string()))
}
