//! The ratios as a PNG bar chart (plotters): for each workload, each
//! contender's median time ÷ the component's, on a log scale, bars drawn
//! from 1×: up where the component is faster, down where it is slower.

use crate::contenders::{JSFORCE, NATIVE, SIMPLE_SALESFORCE};
use crate::report::Report;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;

/// A TrueType font for the labels (plotters' pure-Rust `ab_glyph` renderer
/// needs one): `BENCH_FONT`, or DejaVu Sans where distributions put it.
fn font() -> Option<&'static [u8]> {
    let candidates = [
        std::env::var("BENCH_FONT").unwrap_or_default(),
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".into(),
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf".into(),
        "/usr/share/fonts/TTF/DejaVuSans.ttf".into(),
        "/usr/share/fonts/dejavu/DejaVuSans.ttf".into(),
    ];
    let bytes = candidates
        .iter()
        .filter(|p| !p.is_empty())
        .find_map(|p| std::fs::read(p).ok())?;
    Some(Box::leak(bytes.into_boxed_slice()))
}

const SERIES: [(&str, RGBColor); 3] = [
    (NATIVE, RGBColor(110, 110, 110)),
    (SIMPLE_SALESFORCE, RGBColor(53, 114, 165)),
    (JSFORCE, RGBColor(214, 160, 30)),
];

/// Writes the chart to `out`; without a font it says so and draws nothing.
pub fn draw(report: &Report, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let Some(font) = font() else {
        eprintln!("bench: no TrueType font found (set BENCH_FONT=/path/to/font.ttf); no chart");
        return Ok(());
    };
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "the font is not a TrueType font")?;

    let rows = &report.workloads;
    let ratios: Vec<f64> = rows
        .iter()
        .flat_map(|r| SERIES.iter().filter_map(|(c, _)| r.ratio(c)))
        .collect();
    let lo = ratios.iter().copied().fold(1.0, f64::min) / 2.0;
    let hi = ratios.iter().copied().fold(1.0, f64::max) * 2.5;
    let groups = rows.len() as f64;

    let root = BitMapBackend::new(out, (1100, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Time ÷ the component's time (medians; {}, {} × {})",
                report.date, report.machine.nproc, report.machine.cpu
            ),
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(10)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..groups, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("contender ÷ component (log; above 1: the component is faster)")
        .y_label_formatter(&|v| format!("{v}×"))
        .label_style(("sans-serif", 14))
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 1.0), (groups, 1.0)],
        BLACK,
    )))?;

    let width = 0.26;
    for (i, (name, color)) in SERIES.iter().enumerate() {
        let bars: Vec<(f64, f64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(g, r)| Some((g as f64 + 0.11 + i as f64 * width, r.ratio(name)?)))
            .collect();
        chart
            .draw_series(bars.iter().map(|&(x, ratio)| {
                Rectangle::new([(x, 1.0), (x + width - 0.03, ratio)], color.filled())
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
        chart.draw_series(bars.iter().map(|&(x, ratio)| {
            let y = if ratio >= 1.0 {
                ratio * 1.12
            } else {
                ratio / 1.05
            };
            Text::new(
                if ratio < 1.0 {
                    format!("{ratio:.2}")
                } else {
                    format!("{ratio:.1}")
                },
                (x, y),
                ("sans-serif", 13).into_font(),
            )
        }))?;
    }
    chart.draw_series(rows.iter().enumerate().map(|(g, r)| {
        Text::new(
            r.id.to_string(),
            (g as f64 + 0.4, lo * 1.15),
            ("sans-serif", 15).into_font(),
        )
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
