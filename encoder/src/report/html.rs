//! The HTML report: one self-contained page with inline SVG plots and `data:` pictures.

use std::fmt::Write as _;

use super::{ImageReport, Report};

impl Report {
    /// A self-contained HTML page (inline SVG and `data:` images; no scripts, no network): the
    /// totals, a table of images, the histogram of savings, then per image its quality ladder
    /// (size against quality, ticks and units, the chosen point ringed), every probe with its score
    /// and verdict, and, when the encode cut them ([`crate::Settings::visuals`]), the regions
    /// butteraugli rates most different before and after at 1:1 and 2x and the JND map thumbnail.
    pub fn to_html(&self) -> String {
        let t = &self.totals;
        let mut out = String::from(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>jndenc report</title>\n<style>\
             body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}\
             td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}\
             section.image{border-top:2px solid #ddd;margin-top:1.5em}.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\
             tr.visible td.verdict{color:#b22}tr.invisible td.verdict{color:#272}tr.chosen{font-weight:bold;background:#ffd}\
             figure{margin:0}figcaption{font-size:0.8em;max-width:22em}.pair{display:flex;gap:4px;align-items:flex-end}\
             img.x2{image-rendering:pixelated}img{border:1px solid #999}</style></head><body>\n<h1>jndenc report</h1>\n",
        );
        let _ = writeln!(
            out,
            "<p id=\"totals\">{} images ({} failed): {} bytes against {} at the highest quality: <b>{:.1} % saved</b> \
             (mean per image {:.1} %).</p>",
            t.images, t.failed, t.bytes, t.top_bytes, t.saving_percent, t.mean_saving_percent
        );
        out.push_str(
            "<table id=\"images\"><tr><th>input</th><th>format</th><th>target</th><th>decider</th><th>codec</th>\
             <th>quality</th><th>bytes</th><th>top bytes</th><th>saving</th><th>candidates</th><th>seconds</th>\
             <th>verified distance</th></tr>\n",
        );
        for (n, i) in self.images.iter().enumerate() {
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#image-{n}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                html_escape(&i.input),
                i.format,
                html_escape(&i.target),
                html_escape(&i.decider),
                html_escape(&i.codec),
                i.quality,
                i.bytes,
                i.top_bytes,
                i.saving_percent,
                i.candidates.len(),
                i.seconds.total,
                i.verified_distance.map_or("-".to_string(), |d| format!("{d:.3}"))
            );
        }
        out.push_str("</table>\n");
        for (input, error) in &self.failures {
            let _ = writeln!(
                out,
                "<p class=\"failure\">failed: {}: {}</p>",
                html_escape(input),
                html_escape(error)
            );
        }
        out.push_str("<h2>Savings across the batch</h2>\n");
        out.push_str(&histogram_svg(&self.images.iter().map(|i| i.saving_percent).collect::<Vec<_>>()));
        out.push_str("\n<h2>Images</h2>\n");
        for (n, i) in self.images.iter().enumerate() {
            image_section(&mut out, n, i);
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// The target's bounds in words, ` (3-norm <= 1, SSIMULACRA 2 >= 84)`, or nothing.
fn pair(image: &ImageReport) -> String {
    let parts: Vec<String> = [
        image.target_distance.map(|d| format!("3-norm &lt;= {d}")),
        image.target_ssimulacra2.map(|s| format!("SSIMULACRA 2 &gt;= {s}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One image's part of the HTML report.
fn image_section(out: &mut String, n: usize, image: &ImageReport) {
    let _ = writeln!(
        out,
        "<section class=\"image\" id=\"image-{n}\"><h3>{}</h3>\n<p>{} {}{}{}: {} bytes, {:.1} % below the top \
         quality ({} bytes); target {}{}, decided by {}{}.</p>\n<div class=\"row\">",
        html_escape(&image.input),
        html_escape(&image.codec),
        if image.parameter.is_empty() {
            format!("quality {}", image.quality)
        } else {
            html_escape(&image.parameter)
        },
        if image.parameter.is_empty() || image.parameter == format!("quality={}", image.quality) {
            String::new()
        } else {
            format!(" (quality {})", image.quality)
        },
        if image.sampling.is_empty() {
            String::new()
        } else {
            format!(", {} ({})", html_escape(&image.sampling), html_escape(&image.sampling_reason))
        },
        image.bytes,
        image.saving_percent,
        image.top_bytes,
        html_escape(&image.target),
        pair(image),
        html_escape(&image.decider),
        if image.saturated { "; even the top quality was judged visible" } else { "" }
    );
    out.push_str(&ladder_svg(image));
    if !image.candidates.is_empty() {
        out.push_str(
            "<table class=\"probes\"><caption>Probes, in the order judged (3-norm: butteraugli, measured by \
             the teacher or predicted by the model; SSIMULACRA 2 where the 3-norm left the verdict open; \
             checked: a real metric measured the candidate; bytes before jndenc's marker comment)</caption>\
             <tr><th>#</th><th>sampling</th><th>quality</th><th>bytes</th><th>3-norm</th><th>SSIMULACRA 2</th>\
             <th>checked</th><th>verdict</th></tr>\n",
        );
        for (k, c) in image.candidates.iter().enumerate() {
            let class = if c.visible { "visible" } else { "invisible" };
            let same_sampling = image.sampling.is_empty() || c.sampling == image.sampling;
            let chosen = if c.quality == image.quality && same_sampling { " chosen" } else { "" };
            let _ = writeln!(
                out,
                "<tr class=\"probe {class}{chosen}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td>\
                 <td>{}</td><td>{}</td><td class=\"verdict\">{}</td></tr>",
                k + 1,
                html_escape(&c.sampling),
                c.quality,
                c.bytes,
                c.distance,
                c.ssimulacra2.map_or("-".to_string(), |s| format!("{s:.2}")),
                if c.checked { "measured" } else { "predicted" },
                if c.visible { "visible" } else { "invisible" }
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n");
    if let Some(visual) = &image.visual {
        out.push_str("<div class=\"row visuals\">\n");
        for (k, r) in visual.regions.iter().enumerate() {
            let _ = writeln!(
                out,
                "<figure class=\"region\"><div class=\"pair\">\
                 <img class=\"x1\" alt=\"before 1:1\" width=\"{s}\" height=\"{s}\" src=\"data:image/png;base64,{b}\">\
                 <img class=\"x1\" alt=\"after 1:1\" width=\"{s}\" height=\"{s}\" src=\"data:image/png;base64,{a}\">\
                 <img class=\"x2\" alt=\"before 2x\" width=\"{s2}\" height=\"{s2}\" src=\"data:image/png;base64,{b}\">\
                 <img class=\"x2\" alt=\"after 2x\" width=\"{s2}\" height=\"{s2}\" src=\"data:image/png;base64,{a}\"></div>\
                 <figcaption>Region {} of the {} butteraugli rates most different: {}x{} at ({}, {}), largest \
                 difference {:.2} (1.0 is its just-noticeable boundary). Before, after at 1:1, then 2x.</figcaption></figure>",
                k + 1,
                visual.regions.len(),
                r.side,
                r.side,
                r.x,
                r.y,
                r.score,
                s = r.side,
                s2 = 2 * r.side,
                b = r.before,
                a = r.after,
            );
        }
        let _ = writeln!(
            out,
            "<figure class=\"jnd\"><img alt=\"JND map\" src=\"data:image/png;base64,{}\">\
             <figcaption>Pixel-wise JND map of the original ({}x{}{}; Wu 2017), brighter = more change hidden \
             (gray = 8 x threshold); mean {:.2}, max {:.2} code values.</figcaption></figure>\n</div>",
            visual.jnd_thumbnail,
            visual.width,
            visual.height,
            if visual.jnd_scale > 1 {
                format!(", computed on its 1/{} reduction", visual.jnd_scale)
            } else {
                String::new()
            },
            visual.jnd_mean,
            visual.jnd_max
        );
    }
    out.push_str("</section>\n");
}

/// Tick positions from 0 to at least `max`: 4 to 8 steps of 1, 2 or 5 times a power of ten.
fn ticks(max: f64) -> Vec<f64> {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| max / s <= 6.0).unwrap_or(10.0 * power);
    let steps = (max / step).ceil() as usize;
    (0..=steps).map(|k| k as f64 * step).collect()
}

/// A number for a tick label: no trailing `.0`.
fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { format!("{v:.1}") }
}

/// Size against quality of the judged candidates (red: visible, green: invisible), the chosen point
/// ringed; quality 0 to 100 on x, kB on y, both with ticks.
fn ladder_svg(image: &ImageReport) -> String {
    let (w, h, left, right, top, bottom) = (360.0, 240.0, 48.0, 12.0, 36.0, 40.0);
    let mut points: Vec<(u8, usize, bool)> =
        image.candidates.iter().map(|c| (c.quality, c.bytes, c.visible)).collect();
    if image.top_bytes > 0 && !points.iter().any(|p| p.0 == image.top_quality) {
        points.push((image.top_quality, image.top_bytes, false));
    }
    points.sort_by_key(|p| p.0);
    let max_kb = points.iter().map(|p| p.1).chain([image.bytes]).max().unwrap_or(1).max(1) as f64 / 1000.0;
    let y_ticks = ticks(max_kb);
    let y_top = y_ticks.last().copied().unwrap_or(1.0).max(1e-9);
    let x = |q: f64| left + q / 100.0 * (w - left - right);
    let y = |kb: f64| h - bottom - kb / y_top * (h - top - bottom);
    let mut svg = format!(
        "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>size against quality: {}</title><rect width=\"{w}\" height=\"{h}\" fill=\"white\" stroke=\"#ccc\"/>\
         <line x1=\"{left}\" y1=\"{yb}\" x2=\"{xr}\" y2=\"{yb}\" stroke=\"black\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{yb}\" stroke=\"black\"/>",
        html_escape(&image.input),
        yb = h - bottom,
        xr = w - right,
    );
    for q in (0..=100).step_by(10) {
        let xq = x(f64::from(q));
        let _ = write!(
            svg,
            "<line x1=\"{xq:.1}\" y1=\"{yb}\" x2=\"{xq:.1}\" y2=\"{y4}\" stroke=\"black\"/>\
             <text class=\"xtick\" x=\"{xq:.1}\" y=\"{yl}\" font-size=\"10\" text-anchor=\"middle\">{q}</text>",
            yb = h - bottom,
            y4 = h - bottom + 4.0,
            yl = h - bottom + 15.0,
        );
    }
    for &kb in &y_ticks {
        let yk = y(kb);
        let _ = write!(
            svg,
            "<line x1=\"{l4}\" y1=\"{yk:.1}\" x2=\"{left}\" y2=\"{yk:.1}\" stroke=\"black\"/>\
             <line x1=\"{left}\" y1=\"{yk:.1}\" x2=\"{xr}\" y2=\"{yk:.1}\" stroke=\"#eee\"/>\
             <text class=\"ytick\" x=\"{l6}\" y=\"{yt:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            tick_label(kb),
            l4 = left - 4.0,
            l6 = left - 6.0,
            xr = w - right,
            yt = yk + 3.5,
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">quality ({} scale)</text>\
         <text x=\"12\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\">size (kB)</text>\
         <text x=\"{left}\" y=\"15\" font-size=\"11\">chosen (ringed): quality {}, {} bytes</text>\
         <circle cx=\"{lx:.1}\" cy=\"25\" r=\"3.5\" fill=\"#d33\"/><text x=\"{lt:.1}\" y=\"29\" font-size=\"10\">visible</text>\
         <circle cx=\"{gx:.1}\" cy=\"25\" r=\"3.5\" fill=\"#2a2\"/><text x=\"{gt:.1}\" y=\"29\" font-size=\"10\">invisible</text>",
        (left + w - right) / 2.0,
        h - 8.0,
        html_escape(&image.codec),
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0,
        image.quality,
        image.bytes,
        lx = left + 4.0,
        lt = left + 10.0,
        gx = left + 56.0,
        gt = left + 62.0,
    );
    for (q, b, visible) in &points {
        let color = if *visible { "#d33" } else { "#2a2" };
        let _ = write!(
            svg,
            "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>quality {q}: {b} bytes</title></circle>",
            x(f64::from(*q)),
            y(*b as f64 / 1000.0)
        );
    }
    let _ = writeln!(
        svg,
        "<circle class=\"chosen\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/></svg>",
        x(f64::from(image.quality)),
        y(image.bytes as f64 / 1000.0)
    );
    svg
}

/// Histogram of savings in 10 % bins, with the count axis ticked.
fn histogram_svg(savings: &[f64]) -> String {
    let (w, h, left, right, top, bottom) = (460.0, 240.0, 44.0, 12.0, 16.0, 40.0);
    let mut bins = [0usize; 10];
    for &s in savings {
        bins[((s / 10.0).floor().clamp(0.0, 9.0)) as usize] += 1;
    }
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let y_ticks: Vec<f64> = ticks(max).into_iter().filter(|v| v.fract() == 0.0).collect();
    let y_top = y_ticks.last().copied().unwrap_or(1.0).max(1.0);
    let bar = (w - left - right) / 10.0;
    let y = |count: f64| h - bottom - count / y_top * (h - top - bottom);
    let mut svg = format!(
        "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>savings histogram</title><rect width=\"{w}\" height=\"{h}\" fill=\"white\" stroke=\"#ccc\"/>\
         <line x1=\"{left}\" y1=\"{yb}\" x2=\"{xr}\" y2=\"{yb}\" stroke=\"black\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{yb}\" stroke=\"black\"/>",
        yb = h - bottom,
        xr = w - right,
    );
    for &count in &y_ticks {
        let yc = y(count);
        let _ = write!(
            svg,
            "<line x1=\"{l4}\" y1=\"{yc:.1}\" x2=\"{left}\" y2=\"{yc:.1}\" stroke=\"black\"/>\
             <text class=\"ytick\" x=\"{l6}\" y=\"{yt:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            tick_label(count),
            l4 = left - 4.0,
            l6 = left - 6.0,
            yt = yc + 3.5,
        );
    }
    for (i, &count) in bins.iter().enumerate() {
        let bh = count as f64 / y_top * (h - top - bottom);
        let _ = write!(
            svg,
            "<rect class=\"bin\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#48c\">\
             <title>{}-{} %: {count} images</title></rect>",
            left + i as f64 * bar + 1.0,
            h - bottom - bh,
            bar - 2.0,
            i * 10,
            i * 10 + 10,
        );
        if count > 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{count}</text>",
                left + (i as f64 + 0.5) * bar,
                h - bottom - bh - 3.0
            );
        }
    }
    for k in 0..=10 {
        let xk = left + k as f64 * bar;
        let _ = write!(
            svg,
            "<line x1=\"{xk:.1}\" y1=\"{yb}\" x2=\"{xk:.1}\" y2=\"{y4}\" stroke=\"black\"/>\
             <text class=\"xtick\" x=\"{xk:.1}\" y=\"{yl}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            k * 10,
            yb = h - bottom,
            y4 = h - bottom + 4.0,
            yl = h - bottom + 15.0,
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">saving against the top quality (%)</text>\
         <text x=\"12\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\">images</text></svg>",
        (left + w - right) / 2.0,
        h - 8.0,
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0,
    );
    svg
}
