//! Latency distributions as SVG: one cumulative distribution per target on one chart, x on
//! a log scale so a tail ten times the median is as readable as the median itself.

use std::path::Path;

use plotters::prelude::*;

use crate::client::BenchError;

/// Points drawn per series at most: a 20,000-sample CDF drawn point by point is a large
/// SVG that looks the same.
const POINTS: usize = 400;

/// Writes the CDF of every `(name, ascending samples in µs)` series to `path`.
pub fn latency_cdf(
    path: &Path,
    title: &str,
    series: &[(String, Vec<f64>)],
) -> Result<(), BenchError> {
    let positive = || {
        series
            .iter()
            .flat_map(|(_, samples)| samples.iter().copied())
            .filter(|&us| us > 0.0)
    };
    let low = positive().reduce(f64::min).ok_or("nothing to plot")?;
    let high = positive().reduce(f64::max).ok_or("nothing to plot")?;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((low * 0.9..high * 1.1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("round trip (µs, log scale)")
        .y_desc("fraction of requests")
        .draw()?;
    for (index, (name, samples)) in series.iter().enumerate() {
        let colour = Palette99::pick(index).stroke_width(2);
        let points = cdf_points(samples);
        chart
            .draw_series(LineSeries::new(points, colour))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], Palette99::pick(index))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// At most [`POINTS`] `(µs, fraction at or below)` points of an ascending sample list.
fn cdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let count = sorted.len();
    if count == 0 {
        return Vec::new();
    }
    let step = count.div_ceil(POINTS).max(1);
    let mut points: Vec<(f64, f64)> = (0..count)
        .step_by(step)
        .map(|index| (sorted[index], (index + 1) as f64 / count as f64))
        .collect();
    if points.last().map(|&(_, fraction)| fraction) != Some(1.0) {
        points.push((sorted[count - 1], 1.0));
    }
    points.retain(|&(us, _)| us > 0.0);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdf_is_thinned_and_ends_at_one() {
        let samples: Vec<f64> = (1..=20_000).map(f64::from).collect();
        let points = cdf_points(&samples);
        assert!(points.len() <= POINTS + 1, "{} points", points.len());
        assert_eq!(points.last(), Some(&(20_000.0, 1.0)));
        assert!(points.windows(2).all(|pair| pair[0].1 < pair[1].1));
    }

    #[test]
    fn a_chart_names_every_series() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cdf.svg");
        let series = vec![
            ("ours".to_owned(), vec![20.0, 21.0, 40.0]),
            ("peer".to_owned(), vec![22.0, 25.0, 60.0]),
        ];
        latency_cdf(&path, "get", &series).expect("plot");
        let svg = std::fs::read_to_string(&path).expect("svg written");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("ours") && svg.contains("peer"), "{svg}");
        assert!(latency_cdf(&path, "get", &[]).is_err());
    }
}
